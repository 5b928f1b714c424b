import { notYet } from '../command.ts';

export const command = notYet('writer', 'db-writer: telemetry stream into Postgres, XACK after COMMIT', 'issue #4 (db-writer)');
