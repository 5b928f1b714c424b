import { notYet } from '../command.ts';

export const command = notYet('recompute', 'run a timing recompute for an event, stage or entry', 'issue #6 (timing)');
