import { notYet } from '../command.ts';

export const command = notYet('up', 'the whole stack on this machine (Postgres, Redis, Directus, services) plus a demo', 'issue #11 (npm start)');
