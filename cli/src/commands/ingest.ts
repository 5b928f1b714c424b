import { notYet } from '../command.ts';

export const command = notYet('ingest', 'Teltonika TCP server: Codec 8/8E/16 in, Codec 12 out, records into Redis Streams', 'issue #3 (ingest-daemon)');
