/**
 * live-gateway configuration (ARCHITECTURE.md, "Environment"; docs/live.md), loaded once by
 * main.ts. Units are in the names; every invalid key is reported in one message.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { defaults, int, loadConfig, optionalStr, port, str, url, type Env } from '../../common/src/config.ts';

const spec = {
  port: port('LIVE_PORT', defaults.livePort),
  host: str('LIVE_HOST', '0.0.0.0'),
  databaseUrl: url('DATABASE_URL', defaults.databaseUrl),
  redisUrl: url('REDIS_URL', defaults.redisUrl),
  /** key prefix of every stream (a test or a second deployment on one Redis); '' in production */
  redisPrefix: str('TRM_REDIS_PREFIX', ''),
  directusUrl: url('DIRECTUS_URL', defaults.directusUrl),
  /** Directus's SECRET: tokens are then verified locally (HS256); else through /users/me */
  directusSecret: optionalStr('DIRECTUS_SECRET', { secret: true }),
  /** a service token that may read every event: tells NOT_FOUND from FORBIDDEN */
  directusToken: optionalStr('DIRECTUS_TOKEN', { secret: true }),
  /** names the consumer group `live-broadcast-{instance}`; unique per process unless set */
  instance: optionalStr('LIVE_INSTANCE'),
  /** how often every subscription's permission is asked again (ms) */
  recheckIntervalMs: int('LIVE_RECHECK_INTERVAL_MS', 60_000, { min: 100 }),
  /** how often the device → entry → event map is reloaded from Postgres (ms) */
  eventMapRefreshMs: int('LIVE_EVENT_MAP_REFRESH_MS', 5000, { min: 50, max: 10_000 }),
  pingIntervalMs: int('LIVE_PING_INTERVAL_MS', 30_000, { min: 100 }),
  directusTimeoutMs: int('LIVE_DIRECTUS_TIMEOUT_MS', 5000, { min: 100 }),
  /** distinct entries one client may have queued before it is closed as slow */
  maxQueuedEntries: int('LIVE_MAX_QUEUED_ENTRIES', 20_000, { min: 1 }),
  highWaterBytes: int('LIVE_HIGH_WATER_BYTES', 1 << 20, { min: 1 }),
  maxBufferedBytes: int('LIVE_MAX_BUFFERED_BYTES', 16 << 20, { min: 1 }),
  slowClientTimeoutMs: int('LIVE_SLOW_CLIENT_TIMEOUT_MS', 15_000, { min: 1 }),
  maxSubscriptions: int('LIVE_MAX_SUBSCRIPTIONS', 16, { min: 1 }),
  readCount: int('LIVE_READ_COUNT', 2000, { min: 1 }),
  readBlockMs: int('LIVE_READ_BLOCK_MS', 1000, { min: 1 }),
  logLevel: str('LOG_LEVEL', 'info'),
};

export type GatewayConfig = ReturnType<typeof loadGatewayConfig>;

export function loadGatewayConfig(env: Env) {
  const config = loadConfig(spec, env);
  return { ...config, instance: config.instance ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}` };
}
