/**
 * The assembled ingest service: the Teltonika TCP server, the command consumer, device routes
 * and the Redis sink, wired from adapters the caller builds (main.ts in production, tests with
 * their own namespace). `buildIngestServer` does not listen; `listen()` does.
 *
 * Lifecycle: listen() → serving → close(): stop accepting, stop reading, let in-flight frames
 * finish (ACK) for up to drainTimeoutMs, close sockets, release routes, stop the consumer.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../common/src/log.ts';
import type { Redis } from '../../common/src/redis.ts';
import type { RedisKeys } from '../../common/src/redis-keys.ts';
import { errorMessage } from '../../common/src/errors.ts';
import { CommandConsumer, publishCommandEvent, publishDeviceOnline, type DeviceCommand } from './command-consumer.ts';
import type { IngestConfig } from './config.ts';
import { DeviceConnection } from './connection.ts';
import { DeviceRoutes } from './device-routes.ts';
import { IngestErrorCode } from './errors.ts';
import type { DeviceDirectory } from './known-devices.ts';
import { createIngestMetrics, type IngestMetrics } from './metrics.ts';
import { redisPositionSink, type PositionSink } from './position-sink.ts';
import { throttle } from './throttle.ts';

export interface IngestServerDeps {
  config: IngestConfig;
  /** routes and command events (fail-fast client: enableOfflineQueue false); positions have their own connection (position-sink.ts) */
  redis: Redis;
  /** a dedicated connection for the blocking XREAD of commands */
  commandsRedis: Redis;
  keys: RedisKeys;
  devices: DeviceDirectory;
  log: Logger;
  metrics?: IngestMetrics;
  /** override the Redis sink (never needed in production) */
  sink?: PositionSink;
  now?: () => number;
}

export interface IngestServer {
  readonly metrics: IngestMetrics;
  readonly instanceId: string;
  /** online devices by IMEI */
  readonly online: ReadonlyMap<string, DeviceConnection>;
  listen(): Promise<{ port: number; host: string }>;
  health(): { ok: boolean; [key: string]: unknown };
  close(): Promise<void>;
}

export function buildIngestServer(deps: IngestServerDeps): IngestServer {
  const { config, redis, keys, log } = deps;
  const metrics = deps.metrics ?? createIngestMetrics();
  const now = deps.now ?? Date.now;
  const sink = deps.sink ?? redisPositionSink({
    redisUrl: config.redisUrl,
    stream: keys.positions,
    instanceId: config.instanceId,
    timeoutMs: config.xaddTimeoutMs,
    onError: (error) => log.debug({ err: error.message }, 'redis (positions) error'),
  });
  const sockets = new Set<DeviceConnection>();
  const online = new Map<string, DeviceConnection>();
  const refusedLog = throttle(10_000);
  let accepting = true;

  const publish = (event: Parameters<typeof publishCommandEvent>[2]) =>
    publishCommandEvent(redis, keys, event).catch((error: unknown) => log.warn({ err: errorMessage(error), command: event.id }, 'command event not published'));

  const routes = new DeviceRoutes({ redis, keys, instanceId: config.instanceId, ttlSeconds: config.routeTtlSeconds, log, online: () => online.keys() });

  const connectionDeps = {
    config,
    devices: deps.devices,
    sink,
    metrics,
    log,
    now,
    publish: (e: { id: string; imei: string; status: 'sent' | 'responded' | 'failed'; response?: string; error?: string }) =>
      void publish({ ...e, at: now(), instance: config.instanceId }),
    onOnline(conn: DeviceConnection): boolean {
      if (!accepting) return false;
      const imei = conn.imei!;
      const previous = online.get(imei);
      online.set(imei, conn);
      // a device that reconnects leaves a half-open socket behind: the newest one wins
      if (previous && previous !== conn) previous.close('replaced');
      // announced only once the route names us: whoever routes its waiting commands must find it
      routes
        .claim(imei)
        .then(() => publishDeviceOnline(redis, keys, { imei, at: now(), instance: config.instanceId }))
        .catch((error: unknown) => log.warn({ imei, err: errorMessage(error) }, 'device route not claimed or online not published'));
      return true;
    },
    onClosed(conn: DeviceConnection): void {
      sockets.delete(conn);
      metrics.connections.set(sockets.size);
      if (conn.imei && online.get(conn.imei) === conn) {
        online.delete(conn.imei);
        routes.release(conn.imei).catch((error: unknown) => log.warn({ imei: conn.imei, err: errorMessage(error) }, 'device route not released'));
      }
    },
  };

  const server = net.createServer({ pauseOnConnect: false, noDelay: true }, (socket) => {
    if (!accepting || sockets.size >= config.maxConnections) {
      metrics.connectionsRefused.inc();
      const suppressed = refusedLog.take(now());
      if (suppressed >= 0) log.warn({ code: IngestErrorCode.TOO_MANY_CONNECTIONS, max: config.maxConnections, suppressed }, 'connection refused');
      socket.on('error', () => {});
      socket.destroy();
      return;
    }
    const conn = new DeviceConnection(socket, connectionDeps);
    sockets.add(conn);
    metrics.connections.set(sockets.size);
  });
  server.on('error', (error) => log.error({ err: error }, 'ingest server error'));

  const consumer = new CommandConsumer({
    redis: deps.commandsRedis,
    stream: keys.commands(config.instanceId),
    log,
    onCommand(command) {
      if ('invalid' in command) {
        log.warn({ code: IngestErrorCode.BAD_COMMAND, reason: command.invalid }, 'command entry ignored');
        if (command.id && command.imei) void publish({ id: command.id, imei: command.imei, status: 'failed', error: IngestErrorCode.BAD_COMMAND, at: now(), instance: config.instanceId });
        return;
      }
      deliver(command);
    },
  });

  function deliver(command: DeviceCommand): void {
    const conn = online.get(command.imei);
    if (!conn) {
      metrics.commandsFailed.inc(1, { code: IngestErrorCode.NOT_CONNECTED });
      void publish({ id: command.id, imei: command.imei, status: 'failed', error: IngestErrorCode.NOT_CONNECTED, at: now(), instance: config.instanceId });
      return;
    }
    conn.enqueueCommand(command);
  }

  let closing: Promise<void> | undefined;
  return {
    metrics,
    instanceId: config.instanceId,
    online,
    async listen() {
      await consumer.start();
      await sink.start?.();
      routes.start();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      const address = server.address() as AddressInfo;
      log.info({ port: address.port, host: address.address, instance: config.instanceId, accept: config.accept }, 'ingest listening');
      return { port: address.port, host: address.address };
    },
    health() {
      const positions = sink.status?.() ?? 'ready';
      const redisOk = redis.status === 'ready' && positions === 'ready';
      return { ok: redisOk && accepting, redis: redis.status, positions, connections: sockets.size, online: online.size, instance: config.instanceId };
    },
    close() {
      closing ??= (async () => {
        accepting = false;
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        await Promise.all([...sockets].map((c) => c.drain(config.drainTimeoutMs)));
        routes.stop();
        sink.close?.();
        await stopped;
        await consumer.close();
        await deps.devices.close();
        log.info('ingest stopped');
      })();
      return closing;
    },
  };
}
