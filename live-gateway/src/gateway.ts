/**
 * buildGateway(): the assembled live gateway, not listening, so tests start it on port 0.
 * Fastify with encapsulated plugins (STYLE.md rule 10): `wsInfra` (fastify-plugin: the
 * @fastify/websocket server, shared), `liveRoutes` (GET /live), `adminRoutes` (/healthz,
 * /metrics) and `mapPage` (the live map page at /, static-files.ts). The timers (event map
 * refresh, permission re-check, ping, slow-client tick) and the stream consumer start with
 * start() and stop with close().
 */
import Fastify, { type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import websocket from '@fastify/websocket';
import type { WebSocket } from 'ws';
import type pg from 'pg';
import type { Logger } from '../../common/src/log.ts';
import type { Redis } from '../../common/src/redis.ts';
import { redisKeys } from '../../common/src/redis-keys.ts';
import { once } from '../../common/src/lifecycle.ts';
import { AccessCache } from './access.ts';
import { AlertAccessCache, createAlertReader, loadAlertSnapshot, type AlertReader } from './alerts.ts';
import { createTokenVerifier } from './auth.ts';
import type { GatewayConfig } from './config.ts';
import { createLiveConsumer, type LiveConsumer } from './consumer.ts';
import { createDirectusClient, type DirectusClient } from './directus.ts';
import { CLOSE } from './errors.ts';
import { EventMap, loadEntryRows } from './event-map.ts';
import { Hub } from './hub.ts';
import { createGatewayMetrics, type GatewayMetrics } from './metrics.ts';
import { LiveConnection, type ConnectionDeps } from './connection.ts';
import { MAX_CLIENT_MESSAGE_BYTES } from './protocol.ts';
import { Session } from './session.ts';
import { loadSnapshot } from './snapshot.ts';
import { mapPage } from './static-files.ts';

export interface GatewayDeps {
  config: GatewayConfig;
  redis: Redis;
  /** a second connection for XREADGROUP BLOCK; the gateway disconnects it on close */
  blocking: Redis;
  pool: pg.Pool;
  log: Logger;
  /** injected in tests; fetch against config.directusUrl otherwise */
  directus?: DirectusClient;
  now?: () => number;
}

export interface Gateway {
  app: FastifyInstance;
  metrics: GatewayMetrics;
  hub: Hub;
  eventMap: EventMap;
  consumer: LiveConsumer;
  alertReader: AlertReader;
  /** loads the event map, starts the consumer and the timers */
  start(): Promise<void>;
  /** reloads the event map now (tests; the timer does it every eventMapRefreshMs) */
  refreshEventMap(): Promise<void>;
  /**
   * One permission re-check round now (the timer does it every recheckIntervalMs, reusing
   * answers younger than half an interval); tests pass maxAgeMs 0 to ask Directus again.
   */
  recheckAll(maxAgeMs?: number): Promise<void>;
  close(): Promise<void>;
}

interface LiveContext {
  connectionDeps: ConnectionDeps;
  connections: Map<WebSocket, { conn: LiveConnection; alive: boolean }>;
  newSession(socket: WebSocket): Session;
  log: Logger;
}

const wsInfra = fp(async (app: FastifyInstance) => {
  await app.register(websocket, { options: { maxPayload: MAX_CLIENT_MESSAGE_BYTES } });
});

function bearer(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? '');
  return m ? m[1].trim() : undefined;
}

const liveRoutes: FastifyPluginAsync<{ ctx: LiveContext }> = async (app, { ctx }) => {
  app.get('/live', { websocket: true }, (socket, req) => {
    const session = ctx.newSession(socket);
    const conn = new LiveConnection(session, { ...ctx.connectionDeps, log: ctx.log.child({ conn: req.id, remote: req.ip }) });
    const state = { conn, alive: true };
    ctx.connections.set(socket, state);
    socket.on('pong', () => (state.alive = true));
    socket.on('message', (data, isBinary) => {
      if (isBinary) return session.close(CLOSE.POLICY, 'text frames only');
      conn.onMessage(data.toString());
    });
    socket.on('close', () => {
      ctx.connections.delete(socket);
      conn.onClose();
    });
    socket.on('error', (error) => ctx.log.debug({ err: error }, 'socket error'));
    const token = bearer(req.headers.authorization) ?? new URL(req.url, 'http://gateway').searchParams.get('access_token') ?? undefined;
    if (token) conn.authenticateInitial(token);
  });
};

const adminRoutes: FastifyPluginAsync<{ health: () => { ok: boolean }; metrics: GatewayMetrics }> = async (app, { health, metrics }) => {
  app.get('/healthz', async (_req, reply) => {
    const h = health();
    return reply.code(h.ok ? 200 : 503).send(h);
  });
  app.get('/metrics', async (_req, reply) => reply.type('text/plain; version=0.0.4').send(metrics.registry.render()));
};

export async function buildGateway(deps: GatewayDeps): Promise<Gateway> {
  const { config, log } = deps;
  const now = deps.now ?? Date.now;
  const keys = redisKeys(config.redisPrefix);
  const eventMap = new EventMap();
  // metrics need the hub for their gauges, the hub reports through metrics
  let hubRef: Hub | undefined;
  const metrics = createGatewayMetrics({
    connections: () => hubRef?.sessions.size ?? 0,
    subscriptions: () => hubRef?.subscriptionCount ?? 0,
    eventMapDevices: () => eventMap.devices,
  });
  const hub = (hubRef = new Hub({ eventMap, onFannedOut: (n) => metrics.fannedOut.inc(n) }));
  const directus =
    deps.directus ?? createDirectusClient({ url: config.directusUrl, timeoutMs: config.directusTimeoutMs, onCall: (_path, status) => metrics.directusCalls.inc(1, { status }) });
  const access = new AccessCache({ directus, serviceToken: config.directusToken, ttlMs: config.recheckIntervalMs });
  // a third connection of its own: XREAD BLOCK holds it (errors show up as reader retries)
  const alertsBlocking = deps.redis.duplicate();
  alertsBlocking.on('error', (error: unknown) => log.debug({ err: error }, 'alerts connection error'));
  const alertAccess = new AlertAccessCache({ directus, ttlMs: config.recheckIntervalMs });
  const alertReader = createAlertReader({
    redis: deps.redis,
    blocking: alertsBlocking,
    stream: keys.alerts,
    blockMs: config.readBlockMs,
    log: log.child({ component: 'alerts' }),
    onAlert(id, message) {
      metrics.alertsConsumed.inc();
      metrics.alertsDelivered.inc(hub.fanOutAlert(id, message));
    },
  });
  const connections: LiveContext['connections'] = new Map();
  const stats = {
    onDelivered: (messages: number, frames: number) => {
      metrics.delivered.inc(messages);
      metrics.frames.inc(frames);
    },
    onCoalesced: () => metrics.coalesced.inc(),
    onSlowClose: (reason: string) => {
      metrics.slowCloses.inc();
      log.info({ reason }, 'slow client closed');
    },
  };
  const ctx: LiveContext = {
    connections,
    log,
    newSession: (socket) =>
      new Session({
        sink: socket,
        policy: { highWaterBytes: config.highWaterBytes, maxBufferedBytes: config.maxBufferedBytes, slowClientTimeoutMs: config.slowClientTimeoutMs },
        maxQueuedEntries: config.maxQueuedEntries,
        stats,
      }),
    connectionDeps: {
      verifier: createTokenVerifier({ secret: config.directusSecret, directus }),
      access,
      hub,
      now,
      maxSubscriptions: config.maxSubscriptions,
      log,
      onError: (code) => metrics.errors.inc(1, { code }),
      alerts: {
        decide: (event, identity, nowMs, maxAgeMs) => alertAccess.decide(event, identity, nowMs, maxAgeMs),
        lastId: () => alertReader.lastId(),
        async loadSnapshot(event, token) {
          const rows = await loadAlertSnapshot(directus, event, token);
          // the race number, as on the stream's entries (the event map knows it)
          return rows.map((row) => ({ ...row, number: (row.device && eventMap.lookup(row.device)?.find((r) => r.entry === row.entry)?.number) ?? null }));
        },
      },
      async loadSnapshot(event) {
        const started = performance.now();
        try {
          return await loadSnapshot(deps.pool, event);
        } finally {
          metrics.snapshotSeconds.observe((performance.now() - started) / 1000);
        }
      },
    },
  };

  const consumer = createLiveConsumer({
    redis: deps.redis,
    blocking: deps.blocking,
    keys,
    instance: config.instance,
    count: config.readCount,
    blockMs: config.readBlockMs,
    log: log.child({ component: 'consumer' }),
    onPositions(positions) {
      metrics.consumed.inc(positions.length);
      hub.fanOut(positions, now());
    },
  });

  const health = () => {
    const loaded = eventMap.lastLoadMs;
    const mapAgeMs = loaded === null ? null : now() - loaded;
    const mapFresh = mapAgeMs !== null && mapAgeMs < config.eventMapRefreshMs * 3 + 1000;
    return {
      ok: consumer.healthy && alertReader.healthy && mapFresh,
      consumer: { group: consumer.group, healthy: consumer.healthy },
      alerts: { healthy: alertReader.healthy },
      eventMap: { devices: eventMap.devices, ageMs: mapAgeMs },
      connections: hub.sessions.size,
      subscriptions: hub.subscriptionCount,
    };
  };

  const app = Fastify({ logger: false, forceCloseConnections: true });
  await app.register(wsInfra);
  await app.register(liveRoutes, { ctx });
  await app.register(adminRoutes, { health, metrics });
  await app.register(mapPage, { directusUrl: config.directusUrl });

  async function refreshEventMap(): Promise<void> {
    eventMap.replace(await loadEntryRows(deps.pool), now());
  }

  // answers younger than half an interval are reused: one Directus call per (user, event)
  async function recheckAll(maxAgeMs = config.recheckIntervalMs / 2): Promise<void> {
    access.prune(now());
    alertAccess.prune(now());
    await Promise.all([...connections.values()].map(({ conn }) => conn.recheck(maxAgeMs)));
  }

  const timers: NodeJS.Timeout[] = [];
  function every(ms: number, what: string, fn: () => Promise<void> | void): void {
    let busy = false;
    const t = setInterval(() => {
      if (busy) return;
      busy = true;
      Promise.resolve()
        .then(fn)
        .catch((error: unknown) => log.warn({ err: error }, `${what} failed`))
        .finally(() => (busy = false));
    }, ms);
    t.unref();
    timers.push(t);
  }

  return {
    app,
    metrics,
    hub,
    eventMap,
    consumer,
    alertReader,
    refreshEventMap,
    recheckAll,
    async start() {
      try {
        await refreshEventMap();
      } catch (error) {
        log.error({ err: error }, 'first event map load failed; retrying on the refresh timer');
      }
      await consumer.start();
      await alertReader.start();
      every(config.eventMapRefreshMs, 'event map refresh', refreshEventMap);
      every(config.recheckIntervalMs, 'permission re-check', () => recheckAll());
      every(50, 'slow-client tick', () => hub.tick(now()));
      every(config.pingIntervalMs, 'ping', () => {
        for (const [socket, state] of connections) {
          if (!state.alive) {
            metrics.deadPeers.inc();
            socket.terminate();
            continue;
          }
          state.alive = false;
          socket.ping();
        }
      });
    },
    close: once(async () => {
      for (const t of timers) clearInterval(t);
      for (const socket of connections.keys()) socket.close(CLOSE.GOING_AWAY, 'server shutting down');
      await consumer.close();
      await alertReader.close();
      await app.close();
    }),
  };
}
