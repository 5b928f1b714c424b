/**
 * `trm ingest`: reads the configuration, builds the adapters (Redis, Postgres when
 * INGEST_ACCEPT=known), the server and the admin port, and runs until SIGTERM.
 */
import { startAdminServer } from '../../common/src/admin-server.ts';
import type { Env } from '../../common/src/config.ts';
import { runUntilSignal } from '../../common/src/lifecycle.ts';
import { createLogger, type Logger } from '../../common/src/log.ts';
import { createPool } from '../../common/src/pg.ts';
import { createRedis } from '../../common/src/redis.ts';
import { redisKeys } from '../../common/src/redis-keys.ts';
import { loadIngestConfig, type IngestConfig } from './config.ts';
import { acceptAnyDevice, KnownDevices, type DeviceDirectory } from './known-devices.ts';
import { createIngestMetrics } from './metrics.ts';
import { buildIngestServer, type IngestServer } from './server.ts';

export interface RunningIngest {
  server: IngestServer;
  port: number;
  adminPort: number;
  close(): Promise<void>;
}

/** Builds and starts everything from a loaded config (used by main and by the benchmark). */
export async function startIngest(config: IngestConfig, env: Env, log: Logger): Promise<RunningIngest> {
  // Fail fast while Redis is down: a frame whose XADD cannot be sent now gets no ACK now,
  // instead of waiting in an offline queue while the device times out and resends.
  const redis = createRedis(config.redisUrl, { enableOfflineQueue: false, connectionName: `ingest:${config.instanceId}` });
  const commandsRedis = createRedis(config.redisUrl, { connectionName: `ingest-commands:${config.instanceId}` });
  redis.on('error', (error) => log.debug({ err: error.message }, 'redis error'));
  commandsRedis.on('error', (error) => log.debug({ err: error.message }, 'redis (commands) error'));
  await new Promise<void>((resolve) => (redis.status === 'ready' ? resolve() : redis.once('ready', () => resolve())));
  const metrics = createIngestMetrics();
  let devices: DeviceDirectory = acceptAnyDevice;
  let pool: ReturnType<typeof createPool> | undefined;
  if (config.accept === 'known') {
    pool = createPool(config.databaseUrl, env, { max: 2, application_name: 'trm-ingest' });
    pool.on('error', (error) => log.warn({ err: error.message }, 'postgres pool error'));
    const known = new KnownDevices({ pool, log, refreshMs: config.devicesRefreshMs, missRefreshMs: config.devicesMissRefreshMs, onSize: (n) => metrics.devicesKnown.set(n) });
    await known.start();
    devices = known;
  }
  const server = buildIngestServer({ config, redis, commandsRedis, keys: redisKeys(config.redisPrefix), devices, log, metrics });
  const { port } = await server.listen();
  const admin = await startAdminServer({ port: config.adminPort, host: config.adminHost, registry: metrics.registry, health: () => server.health() });
  log.info({ adminPort: admin.port }, 'admin port listening (/healthz, /metrics)');
  let closed: Promise<void> | undefined;
  return {
    server,
    port,
    adminPort: admin.port,
    close() {
      closed ??= (async () => {
        await server.close();
        await admin.close();
        await pool?.end();
        await redis.quit().catch(() => redis.disconnect());
      })();
      return closed;
    },
  };
}

export async function main(env: Env): Promise<void> {
  const config = loadIngestConfig(env);
  const log = createLogger('ingest', { level: config.logLevel });
  const running = await startIngest(config, env, log);
  runUntilSignal(running, log, { deadlineMs: config.drainTimeoutMs + 5_000 });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.env).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
