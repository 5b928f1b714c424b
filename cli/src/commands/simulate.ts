import { notYet } from '../command.ts';

export const command = notYet('simulate', 'replay or synthesise Teltonika devices over real TCP', 'issue #3 (ingest-daemon)');
