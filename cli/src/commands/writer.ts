/** `trm writer`: the db-writer (db-writer/src/main.ts; docs/writer.md). */
import type { Command } from '../command.ts';

const flags: Record<string, string> = {
  'batch-max-rows': 'WRITER_BATCH_MAX_ROWS',
  'batch-max-wait-ms': 'WRITER_BATCH_MAX_WAIT_MS',
  'claim-idle-ms': 'WRITER_CLAIM_IDLE_MS',
  consumer: 'WRITER_CONSUMER',
  'admin-port': 'WRITER_ADMIN_PORT',
  sql: 'WRITER_SQL',
};

export const command: Command = {
  name: 'writer',
  summary: 'db-writer: telemetry stream into Postgres, XACK after COMMIT',
  usage: 'writer [--batch-max-rows N] [--batch-max-wait-ms MS] [--claim-idle-ms MS] [--consumer NAME] [--admin-port PORT] [--sql copy|staged]',
  options: Object.fromEntries(Object.keys(flags).map((f) => [f, { type: 'string' as const }])),
  help: `Consumes group "processor" of telemetry:positions, writes batches to positions (unique on
imei, ts) and acknowledges entries only after COMMIT. Flags override their environment variable:

  DATABASE_URL, REDIS_URL           services (ARCHITECTURE.md, "Environment")
  TRM_REDIS_PREFIX                  key prefix of every stream (default none)
  WRITER_ADMIN_PORT                 /healthz and /metrics (default 5029; 0 = any free port)
  WRITER_BATCH_MAX_ROWS             a batch closes at this many entries (default 5000)
  WRITER_BATCH_MAX_WAIT_MS          … or this long after its first entry (default 100)
  WRITER_CLAIM_IDLE_MS              pending entries idle this long are claimed (default 60000)
  WRITER_CONSUMER                   consumer name (default host-pid-random)
  WRITER_STREAM_MAXLEN              the stream's cap; backlog is measured against it
  WRITER_LAG_WARN_PERCENT           backlog share of the cap that degrades /healthz (default 50)
  WRITER_SQL                        copy (optimistic COPY, default) or staged (COPY to a
                                    staging table, then INSERT … ON CONFLICT DO NOTHING)
  WRITER_CONCURRENT_BATCHES         batches written at once, one connection each (default 2)
  WRITER_DRAIN_MS                   on SIGTERM, how long the last batch may retry (default 8000)

See docs/writer.md.`,
  async run(args, env) {
    const merged: NodeJS.ProcessEnv = { ...env };
    for (const [flag, name] of Object.entries(flags)) {
      const value = args.values[flag];
      if (typeof value === 'string') merged[name] = value;
    }
    const { main } = await import('../../../db-writer/src/main.ts');
    return main(merged);
  },
};
