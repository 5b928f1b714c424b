import { notYet } from '../command.ts';

export const command = notYet('connector', 'Redis Streams / BullMQ triggers → function calls', 'issue #5 (OpenFaaS runtime)');
