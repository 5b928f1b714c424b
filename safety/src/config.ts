/**
 * Safety service configuration (ARCHITECTURE.md, "Environment"), loaded once by main.ts. Units
 * are in the names; every invalid key is reported in one message.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { defaults, int, loadConfig, optionalStr, port, str, url, type Env } from '../../common/src/config.ts';

const spec = {
  databaseUrl: url('DATABASE_URL', defaults.databaseUrl),
  redisUrl: url('REDIS_URL', defaults.redisUrl),
  redisPrefix: str('TRM_REDIS_PREFIX', ''),
  directusUrl: url('DIRECTUS_URL', defaults.directusUrl),
  directusToken: str('DIRECTUS_TOKEN', undefined, { secret: true }),
  adminPort: port('SAFETY_ADMIN_PORT', 5032),
  adminHost: str('SAFETY_ADMIN_HOST', '127.0.0.1'),
  /** consumer name inside group `safety`; unique per process unless set */
  consumer: optionalStr('SAFETY_CONSUMER'),
  readCount: int('SAFETY_READ_COUNT', 500, { min: 1, max: 10_000 }),
  readBlockMs: int('SAFETY_READ_BLOCK_MS', 1000, { min: 1, max: 60_000 }),
  /** clock tick for the silence rule */
  tickMs: int('SAFETY_TICK_MS', 1000, { min: 50, max: 60_000 }),
  /** events, stages, routes, entries, start orders, finishes, flags and open alerts reloaded */
  refreshMs: int('SAFETY_REFRESH_MS', 5000, { min: 100, max: 600_000 }),
  claimIdleMs: int('SAFETY_CLAIM_IDLE_MS', 60_000, { min: 100 }),
  directusTimeoutMs: int('SAFETY_DIRECTUS_TIMEOUT_MS', 10_000, { min: 100 }),
  retryBaseMs: int('SAFETY_RETRY_BASE_MS', 100, { min: 1 }),
  retryMaxMs: int('SAFETY_RETRY_MAX_MS', 5000, { min: 1 }),
  /** on SIGTERM, how long the current batch's alert writes may keep retrying */
  drainMs: int('SAFETY_DRAIN_MS', 5000, { min: 0 }),
  logLevel: str('LOG_LEVEL', 'info'),
};

export type SafetyConfig = ReturnType<typeof loadSafetyConfig>;

export function loadSafetyConfig(env: Env) {
  const config = loadConfig(spec, env);
  return { ...config, consumer: config.consumer ?? defaultConsumerName() };
}

/** host-pid-random: a restarted process never inherits a dead one's pending entries by name. */
function defaultConsumerName(): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}
