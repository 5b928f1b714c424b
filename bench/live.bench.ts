/**
 * `trm bench live`: delivered position messages/s from the live gateway to N WebSocket clients
 * against a raw `ws` broadcast of the same messages to the same number of clients, in the same
 * run and process. The gateway runs in-process with the real Redis stream path (XADD →
 * XREADGROUP → fan-out → XACK); Postgres and Directus are stubbed (every client follows one
 * public event, the map holds D devices), because they are outside the per-position path.
 *
 * Not measured yet (docs/live.md, issue 9): device TCP → client latency p99 with the ingest
 * daemon in front, and the rejected design (positions through Directus REST + subscriptions).
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import WebSocket, { WebSocketServer } from 'ws';
import type { BenchModule } from '../cli/src/commands/bench.ts';
import { silentLogger } from '../common/src/log.ts';
import { createRedis } from '../common/src/redis.ts';
import { redisKeys } from '../common/src/redis-keys.ts';
import { loadGatewayConfig } from '../live-gateway/src/config.ts';
import type { DirectusClient } from '../live-gateway/src/directus.ts';
import { buildGateway } from '../live-gateway/src/gateway.ts';
import { encodePosition } from '../live-gateway/src/protocol.ts';

const EVENT = 1;

interface Counting {
  ws: WebSocket;
  received: number;
}

function countingClient(url: string, onMessage?: (c: Counting, text: string) => void): Promise<Counting> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const c: Counting = { ws, received: 0 };
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString()) as { type: string; messages?: unknown[] };
      if (m.type === 'position') c.received++;
      else if (m.type === 'batch') c.received += m.messages!.length;
      onMessage?.(c, data.toString());
    });
    ws.once('open', () => resolve(c));
    ws.once('error', reject);
  });
}

/**
 * Resolves when every client got `expected` messages, or progress stalled for 20 s (coalesced
 * or dropped messages never come); `at` is when the last message arrived.
 */
async function waitDelivered(clients: Counting[], expected: number): Promise<{ total: number; at: number }> {
  let last = -1;
  let stalledSince = performance.now();
  for (;;) {
    const total = clients.reduce((n, c) => n + c.received, 0);
    if (total >= expected * clients.length) return { total, at: performance.now() };
    if (total !== last) {
      last = total;
      stalledSince = performance.now();
    } else if (performance.now() - stalledSince > 20_000) return { total, at: stalledSince };
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function runGateway(redisUrl: string, clientsN: number, devices: string[], messages: number, log: (l: string) => void) {
  const prefix = `bench:live:${randomBytes(4).toString('hex')}:`;
  const keys = redisKeys(prefix);
  const config = loadGatewayConfig({ LIVE_PORT: '0', LIVE_HOST: '127.0.0.1', REDIS_URL: redisUrl, TRM_REDIS_PREFIX: prefix, LIVE_INSTANCE: 'bench', LIVE_READ_BLOCK_MS: '100' });
  const rows = devices.map((imei, i) => ({ imei, entry: i + 1, event: EVENT, number: i + 1, crew: null }));
  const pool = { query: async (q: { name?: string }) => ({ rows: q.name === 'live-gateway-entries' ? rows : [] }), end: async () => {} } as unknown as pg.Pool;
  const directus: DirectusClient = { get: async () => ({ status: 200, data: { id: 'bench' } }) };
  const redis = createRedis(redisUrl);
  const gw = await buildGateway({ config, redis, blocking: createRedis(redisUrl), pool, log: silentLogger(), directus });
  await gw.start();
  await gw.app.listen({ port: 0, host: '127.0.0.1' });
  const url = `ws://127.0.0.1:${(gw.app.server.address() as AddressInfo).port}/live`;
  const clients: Counting[] = [];
  for (let i = 0; i < clientsN; i++) {
    const c = await countingClient(url);
    c.ws.send(JSON.stringify({ type: 'subscribe', event: EVENT }));
    clients.push(c);
  }
  while (gw.hub.subscriptionCount < clientsN) await new Promise((r) => setTimeout(r, 10));
  log(`gateway: ${clientsN} clients subscribed; publishing ${messages} positions`);
  const started = performance.now();
  const t0 = Date.now();
  // 100 positions per pipeline, like the ingest daemon's flushes (not one burst)
  for (let i = 0; i < messages; i += 100) {
    const pipe = redis.pipeline();
    for (let j = i; j < Math.min(messages, i + 100); j++) {
      const imei = devices[j % devices.length];
      pipe.xadd(keys.positions, '*', 'imei', imei, 'ts', String(t0 + j), 'lat', '41.1', 'lon', '19.9', 'alt', '100', 'speed', '72', 'heading', '180', 'sats', '11', 'fix', '1');
    }
    await pipe.exec();
  }
  const { total: delivered, at } = await waitDelivered(clients, messages);
  const seconds = (at - started) / 1000;
  const coalesced = gw.metrics.coalesced.get();
  const slowCloses = gw.metrics.slowCloses.get();
  for (const c of clients) c.ws.close();
  await gw.close();
  await redis.del(keys.positions);
  redis.disconnect();
  return { delivered, seconds, messagesPerSecond: Math.round(delivered / seconds), coalesced, slowCloses };
}

async function runRaw(clientsN: number, devices: string[], messages: number, log: (l: string) => void) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  const clients: Counting[] = [];
  for (let i = 0; i < clientsN; i++) clients.push(await countingClient(url));
  log(`raw ws: ${clientsN} clients; broadcasting ${messages} positions`);
  const t0 = Date.now();
  const encoded = Array.from({ length: messages }, (_, j) =>
    encodePosition({ event: EVENT, entry: (j % devices.length) + 1, number: (j % devices.length) + 1, crew: null, imei: devices[j % devices.length], ts: t0 + j, lat: 41.1, lon: 19.9, speed: 72, heading: 180, alt: 100, sats: 11 }),
  );
  const started = performance.now();
  // yield every 100 messages so the in-process clients read (else 100 × N frames pile up)
  for (let i = 0; i < messages; i += 100) {
    for (let j = i; j < Math.min(messages, i + 100); j++) for (const s of wss.clients) s.send(encoded[j]);
    await new Promise((r) => setImmediate(r));
  }
  const { total: delivered, at } = await waitDelivered(clients, messages);
  const seconds = (at - started) / 1000;
  for (const c of clients) c.ws.close();
  await new Promise<void>((r) => wss.close(() => r()));
  return { delivered, seconds, messagesPerSecond: Math.round(delivered / seconds) };
}

export const bench: BenchModule = {
  description: 'live gateway fan-out: delivered messages/s to N clients vs a raw ws broadcast (same run)',
  async run({ quick, env, log }) {
    const redisUrl = env.REDIS_URL ?? 'redis://127.0.0.1:6379';
    const clientsN = quick ? 100 : 1000;
    const messages = quick ? 2000 : 3000;
    // one device per message: no two positions of one entry in a read, so nothing coalesces and
    // both sides deliver every message (coalescing is tested in session.test.ts)
    const devices = Array.from({ length: messages }, (_, i) => `35${String(i).padStart(13, '0')}`);
    const raw = await runRaw(clientsN, devices, messages, log);
    log(`raw ws: ${raw.messagesPerSecond} msg/s`);
    const gateway = await runGateway(redisUrl, clientsN, devices, messages, log);
    log(`gateway: ${gateway.messagesPerSecond} msg/s (coalesced ${gateway.coalesced}, slow closes ${gateway.slowCloses})`);
    return {
      clients: clientsN,
      devices: devices.length,
      messagesPerClient: messages,
      raw,
      gateway,
      ratio: Number((gateway.messagesPerSecond / raw.messagesPerSecond).toFixed(3)),
      targets: { ratioAtLeast: 0.5, messagesPerSecondAtLeast: 100_000 },
      notMeasured: ['device TCP → client latency p99 (500 devices at 1 Hz, 1000 viewers)', 'rejected design: positions via Directus REST + Directus subscriptions'],
    };
  },
};

export const { description, run } = bench;
