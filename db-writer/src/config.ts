/**
 * db-writer configuration (ARCHITECTURE.md, "Environment"), loaded once by main.ts. Units are
 * in the names; every invalid key is reported in one message.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { defaults, int, loadConfig, oneOf, optionalStr, port, str, url, type Env } from '../../common/src/config.ts';
import { POSITIONS_STREAM_MAXLEN } from '../../common/src/redis-keys.ts';

export const SQL_MODES = ['copy', 'staged'] as const;
export type SqlMode = (typeof SQL_MODES)[number];

const spec = {
  databaseUrl: url('DATABASE_URL', defaults.databaseUrl),
  redisUrl: url('REDIS_URL', defaults.redisUrl),
  /** key prefix of every stream (a test or a second deployment on one Redis); '' in production */
  redisPrefix: str('TRM_REDIS_PREFIX', ''),
  adminPort: port('WRITER_ADMIN_PORT', defaults.writerAdminPort),
  adminHost: str('WRITER_ADMIN_HOST', '127.0.0.1'),
  /** consumer name inside group `processor`; unique per process unless set */
  consumer: optionalStr('WRITER_CONSUMER'),
  batchMaxRows: int('WRITER_BATCH_MAX_ROWS', 5000, { min: 1, max: 100_000 }),
  batchMaxWaitMs: int('WRITER_BATCH_MAX_WAIT_MS', 100, { min: 1, max: 60_000 }),
  /** how long one XREADGROUP blocks when there is nothing to batch */
  readBlockMs: int('WRITER_READ_BLOCK_MS', 1000, { min: 1, max: 60_000 }),
  /** pending entries idle this long belong to a dead consumer and are claimed (XAUTOCLAIM) */
  claimIdleMs: int('WRITER_CLAIM_IDLE_MS', 60_000, { min: 100 }),
  retryBaseMs: int('WRITER_RETRY_BASE_MS', 100, { min: 1 }),
  retryMaxMs: int('WRITER_RETRY_MAX_MS', 5000, { min: 1 }),
  /** on SIGTERM, how long the current batch may keep retrying before it is left pending */
  drainMs: int('WRITER_DRAIN_MS', 8000, { min: 0 }),
  /** the stream's MAXLEN cap (must match the ingest daemon's); backlog is measured against it */
  streamMaxLen: int('WRITER_STREAM_MAXLEN', POSITIONS_STREAM_MAXLEN, { min: 1 }),
  /** backlog (lag + pending) / cap above which /healthz is degraded and the log shouts */
  lagWarnPercent: int('WRITER_LAG_WARN_PERCENT', 50, { min: 1, max: 100 }),
  monitorIntervalMs: int('WRITER_MONITOR_INTERVAL_MS', 2000, { min: 50 }),
  sql: oneOf('WRITER_SQL', SQL_MODES, 'copy'),
  /** batches written at once, each on its own Postgres connection */
  concurrentBatches: int('WRITER_CONCURRENT_BATCHES', 2, { min: 1, max: 8 }),
  logLevel: str('LOG_LEVEL', 'info'),
};

export type WriterConfig = ReturnType<typeof loadWriterConfig>;

export function loadWriterConfig(env: Env) {
  const config = loadConfig(spec, env);
  return { ...config, consumer: config.consumer ?? defaultConsumerName() };
}

/** host-pid-random: a restarted process never inherits a dead one's pending entries by name. */
export function defaultConsumerName(): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}
