/**
 * `trm safety` entrypoint: reads config, builds the Redis/Postgres/Directus adapters, wires the
 * service and the admin port, installs signal handlers. docs/safety.md.
 */
import { startAdminServer, type AdminServer } from '../../common/src/admin-server.ts';
import type { Env } from '../../common/src/config.ts';
import { once, runUntilSignal } from '../../common/src/lifecycle.ts';
import { createLogger, type Logger } from '../../common/src/log.ts';
import { createPool } from '../../common/src/pg.ts';
import { createRedis } from '../../common/src/redis.ts';
import { redisKeys } from '../../common/src/redis-keys.ts';
import { directusAlerts } from './alerts-api.ts';
import { loadSafetyConfig, type SafetyConfig } from './config.ts';
import { createSafetyMetrics } from './metrics.ts';
import { buildSafety, type Safety } from './service.ts';
import { createPositionGroup } from './stream.ts';

export interface SafetyService {
  config: SafetyConfig;
  safety: Safety;
  admin: AdminServer;
  log: Logger;
  close(): Promise<void>;
}

export async function startSafetyService(env: Env, overrides: { log?: Logger } = {}): Promise<SafetyService> {
  const config = loadSafetyConfig(env);
  const log = (overrides.log ?? createLogger('safety', { level: config.logLevel })).child({ consumer: config.consumer });
  const keys = redisKeys(config.redisPrefix);
  const redis = createRedis(config.redisUrl, { connectionName: `safety:${config.consumer}` });
  const blocking = createRedis(config.redisUrl, { connectionName: `safety-read:${config.consumer}` });
  for (const client of [redis, blocking]) client.on('error', (error: Error) => log.warn({ err: error }, 'redis connection error'));
  const pool = createPool(config.databaseUrl, env, { max: 3, application_name: 'trm safety' });
  pool.on('error', (error) => log.warn({ err: error }, 'idle database connection failed'));
  const metrics = createSafetyMetrics();
  const safety = buildSafety({
    stream: createPositionGroup({ redis, blocking, keys, consumer: config.consumer }),
    pool,
    alerts: directusAlerts({ url: config.directusUrl, token: config.directusToken, timeoutMs: config.directusTimeoutMs }),
    log,
    metrics,
    options: config,
  });
  await safety.start();
  const admin = await startAdminServer({ port: config.adminPort, host: config.adminHost, registry: metrics.registry, health: () => safety.health() });
  log.info({ adminPort: admin.port, stream: keys.positions, group: 'safety', refreshMs: config.refreshMs, tickMs: config.tickMs }, 'safety started');

  const close = once(async () => {
    await safety.close();
    await admin.close();
    await pool.end();
    await Promise.all([redis.quit().catch(() => redis.disconnect()), blocking.quit().catch(() => blocking.disconnect())]);
  });
  return { config, safety, admin, log, close };
}

/** Runs until SIGTERM/SIGINT (drain, then exit 0) or an unexpected failure (exit 1). */
export async function main(env: Env): Promise<number> {
  const service = await startSafetyService(env);
  runUntilSignal(service, service.log, { deadlineMs: service.config.drainMs + service.config.readBlockMs + 2000 });
  service.safety.done().catch((error: unknown) => {
    service.log.fatal({ err: error }, 'safety loop failed, exiting');
    process.exit(1);
  });
  return new Promise<number>(() => {});
}
