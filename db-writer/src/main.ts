/**
 * db-writer entrypoint: reads config, builds the Redis/Postgres adapters, wires the writer and
 * the admin port, installs signal handlers. `trm writer` calls main().
 */
import { startAdminServer, type AdminServer } from '../../common/src/admin-server.ts';
import type { Env } from '../../common/src/config.ts';
import { once, runUntilSignal } from '../../common/src/lifecycle.ts';
import { createLogger, type Logger } from '../../common/src/log.ts';
import { createPool } from '../../common/src/pg.ts';
import { createRedis } from '../../common/src/redis.ts';
import { redisKeys } from '../../common/src/redis-keys.ts';
import { loadWriterConfig, type WriterConfig } from './config.ts';
import { RespClient } from './resp-client.ts';
import { createPgSink } from './sink.ts';
import { createPositionStream } from './stream.ts';
import { buildWriter, type Writer, type WriterOptions } from './writer.ts';

export interface WriterService {
  config: WriterConfig;
  writer: Writer;
  admin: AdminServer;
  log: Logger;
  close(): Promise<void>;
}

export async function startWriterService(env: Env, overrides: Partial<Pick<WriterOptions, 'onCommitted'>> & { log?: Logger } = {}): Promise<WriterService> {
  const config = loadWriterConfig(env);
  const log = (overrides.log ?? createLogger('db-writer', { level: config.logLevel })).child({ consumer: config.consumer });
  const keys = redisKeys(config.redisPrefix);
  const redis = createRedis(config.redisUrl);
  redis.on('error', (error: Error) => log.warn({ err: error }, 'redis connection error'));
  // the hot XREADGROUP goes through the lean client (a third of ioredis's CPU per entry); TLS
  // URLs stay on ioredis
  const tls = config.redisUrl.startsWith('rediss:');
  const blocking = tls ? createRedis(config.redisUrl) : new RespClient(config.redisUrl, `trm-writer:${config.consumer}`);
  // XACKs of 5,000 ids go out as one pre-built command (stream.ts, xackCommand)
  const acks = tls ? undefined : new RespClient(config.redisUrl, `trm-writer-ack:${config.consumer}`);
  const pool = createPool(config.databaseUrl, env, { max: config.concurrentBatches, application_name: 'trm db-writer' });
  // an idle connection dropped by a Postgres restart must not crash the process
  pool.on('error', (error) => log.warn({ err: error }, 'idle database connection failed'));

  const writer = buildWriter({
    stream: createPositionStream({ redis, blocking, keys, consumer: config.consumer, acks }),
    sink: createPgSink(pool, { mode: config.sql }),
    log,
    consumer: config.consumer,
    policy: { maxRows: config.batchMaxRows, maxWaitMs: config.batchMaxWaitMs, blockMs: config.readBlockMs },
    claimIdleMs: config.claimIdleMs,
    retryBaseMs: config.retryBaseMs,
    retryMaxMs: config.retryMaxMs,
    drainMs: config.drainMs,
    streamMaxLen: config.streamMaxLen,
    lagWarnPercent: config.lagWarnPercent,
    monitorIntervalMs: config.monitorIntervalMs,
    concurrentBatches: config.concurrentBatches,
    onCommitted: overrides.onCommitted,
  });
  const admin = await startAdminServer({ port: config.adminPort, host: config.adminHost, registry: writer.metrics.registry, health: () => writer.health() });
  writer.start();
  log.info({ adminPort: admin.port, stream: keys.positions, batchMaxRows: config.batchMaxRows, batchMaxWaitMs: config.batchMaxWaitMs, sql: config.sql }, 'db-writer started');

  const close = once(async () => {
    await writer.close();
    await admin.close();
    await pool.end();
    await redis.quit().catch(() => redis.disconnect());
    if (blocking instanceof RespClient) blocking.close();
    else blocking.disconnect();
    acks?.close();
  });
  return { config, writer, admin, log, close };
}

/** Runs until SIGTERM/SIGINT (drain, then exit 0) or an unexpected failure (exit 1). */
export async function main(env: Env): Promise<number> {
  const service = await startWriterService(env);
  runUntilSignal(service, service.log, { deadlineMs: service.config.drainMs + 2000 });
  service.writer.done().catch((error: unknown) => {
    service.log.fatal({ err: error }, 'writer loop failed, exiting');
    process.exit(1);
  });
  return new Promise<number>(() => {});
}
