/**
 * Configuration of the recompute (function handler, `trm recompute`, live timing), loaded once
 * by the caller from its environment; every problem reported in one message (common/src/config.ts).
 */
import { bool, defaults, int, loadConfig, str, url, type Env } from '../../../common/src/config.ts';

const spec = {
  databaseUrl: url('DATABASE_URL', defaults.databaseUrl),
  directusUrl: url('DIRECTUS_URL', defaults.directusUrl),
  directusToken: str('DIRECTUS_TOKEN', undefined, { secret: true }),
  redisUrl: url('REDIS_URL', defaults.redisUrl),
  /** key prefix of the TRM streams and queues (a test or a second deployment on one Redis) */
  redisPrefix: str('TRM_REDIS_PREFIX', ''),
  /** entries read and computed at once */
  concurrency: int('RECOMPUTE_CONCURRENCY', 4, { min: 1, max: 64 }),
  /** compute worker threads (parse, timing core, rows); 0 = on the main thread */
  workers: int('RECOMPUTE_WORKERS', 2, { min: 0, max: 32 }),
  /** Postgres connections for fix reads */
  poolSize: int('RECOMPUTE_POOL_SIZE', 4, { min: 1, max: 64 }),
  /** trigger penalty evaluation for what changed */
  penalties: bool('RECOMPUTE_PENALTIES', true),
  /** fixes read before a stage's planned start, seconds */
  preStartS: int('RECOMPUTE_PRE_START_S', 1800, { min: 0 }),
};

export type RecomputeConfig = ReturnType<typeof loadRecomputeConfig>;

export function loadRecomputeConfig(env: Env) {
  return loadConfig(spec, env);
}

const liveSpec = {
  enabled: bool('LIVE_TIMING', true),
  redisUrl: url('REDIS_URL', defaults.redisUrl),
  redisPrefix: str('TRM_REDIS_PREFIX', ''),
  /** how often committed windows become recompute requests */
  intervalMs: int('LIVE_TIMING_INTERVAL_MS', 2000, { min: 50 }),
  /** at most one request per device per this */
  deviceMinIntervalMs: int('LIVE_TIMING_DEVICE_MIN_MS', 5000, { min: 0 }),
};

export type LiveTimingConfig = ReturnType<typeof loadLiveTimingConfig>;

/** Live timing's configuration (started by `trm connector`, see connector/src/main.ts). */
export function loadLiveTimingConfig(env: Env) {
  return loadConfig(liveSpec, env);
}
