/**
 * `trm bench live` (issue 9; docs/live.md, "Benchmark"). Three measurements in one run:
 *
 * 1. Fan-out throughput: position messages/s delivered by the gateway (real Redis stream path:
 *    XADD → XREADGROUP → fan-out → XACK; Postgres and Directus stubbed, they are off the
 *    per-position path) to N clients, against two raw `ws` broadcasts of the same messages to
 *    the same clients: unbatched (one frame per message) and batched exactly as the gateway
 *    batched them (the frames client 0 received from the gateway, rebuilt and broadcast once
 *    each, as one Buffer per frame). Gateway and raw server run in this process; the clients
 *    run in a child process (`--live-clients`), so the server side has its own event loop.
 *    Gateway and batched raw alternate for `rounds` rounds; medians and per-round ratios.
 * 2. Latency, device TCP packet → viewer: 500 simulated devices at 1 Hz (this process, each
 *    record stamped with its send time, one record per packet) → ingest daemon (child) →
 *    Redis → gateway (child, `trm gateway`, real Postgres event map and real Directus
 *    authorisation, tokens verified locally) → 1,000 viewers (clients child), p50/p95/p99 of
 *    (arrival − stamp) over every delivered message, and the CPU of every process.
 * 3. The rejected design: the same positions written through Directus REST (batch POST every
 *    100 ms into a scratch collection) and delivered by Directus's own WebSocket subscriptions
 *    to N subscribers, N stepped up until Directus stops keeping up.
 *
 * Set-up for 2 and 3: a fresh database `trm_bench_live` with Directus booted on it
 * (bootDirectus, as the test set-up); the scratch collection is created there.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import WebSocket, { WebSocketServer } from 'ws';
import type { BenchModule } from '../cli/src/commands/bench.ts';
import { stateDir } from '../cli/src/paths.ts';
import { dropDatabase, ensurePostgis, ensurePostgres, ensureRedis } from '../cli/src/provision/services.ts';
import { bootDirectus, type BootedDirectus } from '../cli/src/stack/directus.ts';
import { silentLogger } from '../common/src/log.ts';
import { withDatabase } from '../common/src/pg.ts';
import { createRedis, type Redis } from '../common/src/redis.ts';
import { machineBusySeconds, matchingCpuSeconds, procCpuSeconds, redisCpuSeconds } from './cpu.ts';
import { redisKeys } from '../common/src/redis-keys.ts';
import { login } from '../directus/src/rest.ts';
import { loadGatewayConfig } from '../live-gateway/src/config.ts';
import type { DirectusClient } from '../live-gateway/src/directus.ts';
import { buildGateway } from '../live-gateway/src/gateway.ts';
import { encodeBatch, encodePosition } from '../live-gateway/src/protocol.ts';
import { SimulatedDevice } from '../simulator/src/device.ts';
import { freePort } from '../common/src/net.ts';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const EVENT = 1;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const epochNow = () => performance.timeOrigin + performance.now();

// ─── the clients child process ────────────────────────────────────────────────────────────

type ToChild =
  | { op: 'open'; url: string; n: number; mode: 'live' | 'directus' | 'raw'; token?: string; subscribe?: number; collection?: string; recordFrames?: boolean }
  | { op: 'wait'; expected: number; stallMs: number }
  | { op: 'latency'; on: boolean }
  | { op: 'stats' }
  | { op: 'close' };

/** Latency histogram in whole ms (device stamps and arrivals are both ms). */
class Histogram {
  readonly bins = new Uint32Array(120_001);
  count = 0;
  reset(): void {
    this.bins.fill(0);
    this.count = 0;
  }
  add(ms: number): void {
    this.bins[ms < 0 ? 0 : ms > 120_000 ? 120_000 : ms]++;
    this.count++;
  }
  quantile(q: number): number | null {
    if (this.count === 0) return null;
    const target = Math.ceil(q * this.count);
    let seen = 0;
    for (let i = 0; i < this.bins.length; i++) if ((seen += this.bins[i]) >= target) return i;
    return this.bins.length - 1;
  }
  summary() {
    let max = 0;
    for (let i = 0; i < this.bins.length; i++) if (this.bins[i]) max = i;
    return { n: this.count, p50: this.quantile(0.5), p95: this.quantile(0.95), p99: this.quantile(0.99), max };
  }
}

const POSITION = Buffer.from('"type":"position"');
const TS = Buffer.from('"ts":');

/** Counts position messages in a /live frame without parsing it; adds (now − ts) per message when `h` is given. */
function scanLiveFrame(buf: Buffer, now: number, h: Histogram | null): number {
  let n = 0;
  let at = buf.indexOf(POSITION);
  while (at !== -1) {
    n++;
    if (h) {
      let i = buf.indexOf(TS, at) + TS.length;
      let ts = 0;
      for (let c = buf[i]; c >= 48 && c <= 57; c = buf[++i]) ts = ts * 10 + (c - 48);
      h.add(now - ts);
    }
    at = buf.indexOf(POSITION, at + POSITION.length);
  }
  return n;
}

async function clientsMain(): Promise<void> {
  const sockets: WebSocket[] = [];
  let received = 0;
  let latencyOn = false;
  let histogram = new Histogram();
  const frames: number[] = [];
  const reply = (m: unknown) => process.send!(m);

  function openLive(url: string, token: string | undefined, subscribe: number | undefined, record: boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
      sockets.push(ws);
      let ready = subscribe === undefined;
      ws.on('message', (data: Buffer) => {
        const now = Date.now();
        if (!ready) {
          const m = JSON.parse(data.toString()) as { type: string; code?: string };
          if (m.type === 'snapshot') ((ready = true), resolve());
          else if (m.type === 'error') reject(new Error(`subscribe refused: ${data.toString()}`));
          return;
        }
        const n = scanLiveFrame(data, now, latencyOn ? histogram : null);
        received += n;
        if (record && n > 0) frames.push(n);
      });
      ws.once('open', () => {
        if (subscribe !== undefined) ws.send(JSON.stringify({ type: 'subscribe', event: subscribe }));
        else resolve();
      });
      ws.once('error', reject);
    });
  }

  function openDirectus(url: string, token: string, collection: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      sockets.push(ws);
      ws.on('message', (data: Buffer) => {
        const now = Date.now();
        const m = JSON.parse(data.toString()) as { type: string; status?: string; event?: string; data?: { sent_ms: string | number }[]; error?: unknown };
        if (m.type === 'ping') return ws.send('{"type":"pong"}');
        if (m.type === 'auth' && m.status === 'ok') return ws.send(JSON.stringify({ type: 'subscribe', collection, query: { fields: ['id', 'imei', 'sent_ms', 'lat', 'lon'] } }));
        if (m.type === 'auth' || m.status === 'error') return reject(new Error(`Directus subscription refused: ${data.toString().slice(0, 300)}`));
        if (m.type !== 'subscription') return;
        if (m.event === 'init') return resolve();
        if (m.event === 'create') {
          for (const item of m.data ?? []) if (latencyOn) histogram.add(now - Number(item.sent_ms));
          received += m.data?.length ?? 0;
        }
      });
      ws.once('open', () => ws.send(JSON.stringify({ type: 'auth', access_token: token })));
      ws.once('error', reject);
    });
  }

  process.on('message', async (m: ToChild) => {
    try {
      if (m.op === 'open') {
        received = 0;
        frames.length = 0;
        for (let i = 0; i < m.n; i += 50) {
          const batch = [];
          for (let k = i; k < Math.min(m.n, i + 50); k++) {
            batch.push(m.mode === 'directus' ? openDirectus(m.url, m.token!, m.collection!) : openLive(m.url, m.token, m.subscribe, k === 0 && Boolean(m.recordFrames)));
          }
          await Promise.all(batch);
        }
        reply({ op: 'opened', n: sockets.length });
      } else if (m.op === 'wait') {
        // every client got `expected` messages, or progress stalled (coalesced or dropped messages never come)
        let last = -1;
        let lastAt = epochNow();
        for (;;) {
          if (received >= m.expected) break;
          if (received !== last) ((last = received), (lastAt = epochNow()));
          else if (epochNow() - lastAt > m.stallMs) break;
          await sleep(2);
        }
        reply({ op: 'waited', received, atMs: received >= m.expected ? epochNow() : lastAt, frames: [...frames] });
      } else if (m.op === 'latency') {
        if (m.on) histogram = new Histogram();
        latencyOn = m.on;
        reply({ op: 'latency', on: m.on });
      } else if (m.op === 'stats') {
        reply({ op: 'stats', received, latencyMs: histogram.summary() });
      } else if (m.op === 'close') {
        for (const ws of sockets.splice(0)) ws.terminate();
        reply({ op: 'closed' });
      }
    } catch (error) {
      reply({ op: 'error', message: String((error as Error)?.stack ?? error) });
    }
  });
  reply({ op: 'ready' });
}

interface ClientsChild {
  pid: number;
  request<T = Record<string, unknown>>(m: ToChild): Promise<T>;
  stop(): Promise<void>;
}

async function spawnClients(): Promise<ClientsChild> {
  const child: ChildProcess = spawn(process.execPath, [fileURLToPath(import.meta.url), '--live-clients'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let pending: { resolve: (v: unknown) => void; reject: (e: Error) => void } | undefined;
  child.on('message', (m: { op: string; message?: string }) => {
    const p = pending;
    pending = undefined;
    if (m.op === 'error') p?.reject(new Error(`clients child: ${m.message}`));
    else p?.resolve(m);
  });
  child.once('exit', (code) => pending?.reject(new Error(`clients child exited with ${code}`)));
  await new Promise<unknown>((resolve, reject) => (pending = { resolve, reject }));
  return {
    pid: child.pid!,
    request<T>(m: ToChild) {
      return new Promise<T>((resolve, reject) => {
        pending = { resolve: resolve as (v: unknown) => void, reject };
        child.send(m);
      });
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

if (process.argv[2] === '--live-clients') await clientsMain();

// ─── CPU accounting ───────────────────────────────────────────────────────────────────────





/** Cores used per named process (and Redis, and Postgres when asked) over an interval, and by everything else. */
async function cpuMeter(redis: Redis, pids: Record<string, number | undefined>, postgresDb?: string) {
  const withPostgres = postgresDb !== undefined;
  const isOurPostgres = (c: string) => c.startsWith('postgres') && c.includes(postgresDb!);
  const t0 = performance.now();
  const self0 = process.cpuUsage();
  const at0 = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, procCpuSeconds(pid)]));
  const redis0 = await redisCpuSeconds(redis);
  const pg0 = withPostgres ? matchingCpuSeconds(isOurPostgres) : 0;
  const machine0 = machineBusySeconds();
  return async () => {
    const wall = (performance.now() - t0) / 1000;
    const self = process.cpuUsage(self0);
    const r2 = (x: number) => Math.round(x * 100) / 100;
    const cores: Record<string, number | null> = { bench: r2((self.user + self.system) / 1e6 / wall) };
    let ours = (self.user + self.system) / 1e6;
    for (const [k, pid] of Object.entries(pids)) {
      const a = at0[k];
      const b = procCpuSeconds(pid);
      cores[k] = a === null || b === null ? null : r2((b - a) / wall);
      if (a !== null && b !== null) ours += b - a;
    }
    const redisS = (await redisCpuSeconds(redis)) - redis0;
    cores.redis = r2(redisS / wall);
    ours += redisS;
    if (withPostgres) {
      const pgS = matchingCpuSeconds(isOurPostgres) - pg0;
      cores.postgresBackends = r2(Math.max(0, pgS) / wall);
      ours += pgS;
    }
    const machine1 = machineBusySeconds();
    cores.everythingElse = machine0 === null || machine1 === null ? null : r2(Math.max(0, machine1 - machine0 - ours) / wall);
    return { wallSeconds: r2(wall), cores, machineCores: cpus().length, loadavg1m: r2(loadavg()[0]) };
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

// ─── 1. fan-out throughput: gateway vs raw ws, unbatched and batched as the gateway does ──

interface Delivery {
  delivered: number;
  seconds: number;
  messagesPerSecond: number;
}

function delivery(received: number, startedMs: number, atMs: number): Delivery {
  const seconds = (atMs - startedMs) / 1000;
  return { delivered: received, seconds: Math.round(seconds * 1000) / 1000, messagesPerSecond: Math.round(received / seconds) };
}

/**
 * CPU seconds the server process (this one) spent per million delivered messages: with the
 * clients as the bottleneck (they often are on 2 shared cores), msg/s of two servers converge
 * and this is what still tells them apart.
 */
function serverCpuPerMillion(d: Delivery, load: { wallSeconds: number; cores: Record<string, number | null> }): number {
  return Math.round((((load.cores.bench ?? 0) * load.wallSeconds) / d.delivered) * 1e6 * 1000) / 1000;
}

/** The position messages the gateway produces for message j (same bytes, so the raw sides send what it sends). */
function encodedMessages(devices: string[], messages: number, t0: number): string[] {
  return Array.from({ length: messages }, (_, j) =>
    encodePosition({ event: EVENT, entry: (j % devices.length) + 1, number: (j % devices.length) + 1, crew: null, imei: devices[j % devices.length], ts: t0 + j, lat: 41.1, lon: 19.9, speed: 72, heading: 180, alt: 100, sats: 11 }),
  );
}

async function runGateway(clients: ClientsChild, redis: Redis, redisUrl: string, clientsN: number, devices: string[], messages: number, t0: number) {
  const prefix = `bench:live:${randomBytes(4).toString('hex')}:`;
  const keys = redisKeys(prefix);
  const config = loadGatewayConfig({ LIVE_PORT: '0', LIVE_HOST: '127.0.0.1', REDIS_URL: redisUrl, TRM_REDIS_PREFIX: prefix, LIVE_INSTANCE: 'bench', LIVE_READ_BLOCK_MS: '100' });
  const rows = devices.map((imei, i) => ({ imei, entry: i + 1, event: EVENT, number: i + 1, crew: null }));
  // stubs: the event map (devices → entries of event 1) and an empty snapshot; every subscribe allowed
  const pool = { query: async (q: { name?: string }) => ({ rows: q.name === 'live-gateway-entries' ? rows : [] }), end: async () => {} } as unknown as pg.Pool;
  const directus: DirectusClient = { get: async () => ({ status: 200, data: { id: 'bench' } }) };
  const gwRedis = createRedis(redisUrl);
  const gw = await buildGateway({ config, redis: gwRedis, blocking: createRedis(redisUrl), pool, log: silentLogger(), directus });
  await gw.start();
  await gw.app.listen({ port: 0, host: '127.0.0.1' });
  const url = `ws://127.0.0.1:${(gw.app.server.address() as AddressInfo).port}/live`;
  await clients.request({ op: 'open', url, n: clientsN, mode: 'live', subscribe: EVENT, recordFrames: true });
  const cpu = await cpuMeter(redis, { clients: clients.pid });
  const started = epochNow();
  // 100 positions per pipeline, like the ingest daemon's flushes (not one burst)
  for (let i = 0; i < messages; i += 100) {
    const pipe = redis.pipeline();
    for (let j = i; j < Math.min(messages, i + 100); j++) {
      pipe.xadd(keys.positions, '*', 'imei', devices[j % devices.length], 'ts', String(t0 + j), 'lat', '41.1', 'lon', '19.9', 'alt', '100', 'speed', '72', 'heading', '180', 'sats', '11', 'fix', '1');
    }
    await pipe.exec();
  }
  const w = await clients.request<{ received: number; atMs: number; frames: number[] }>({ op: 'wait', expected: messages * clientsN, stallMs: 20_000 });
  const load = await cpu();
  const d = delivery(w.received, started, w.atMs);
  const result = { ...d, serverCpuSecondsPerMillion: serverCpuPerMillion(d, load), framesPerClient: w.frames.length, coalesced: gw.metrics.coalesced.get(), slowCloses: gw.metrics.slowCloses.get(), load };
  await clients.request({ op: 'close' });
  await gw.close();
  gwRedis.disconnect(); // the caller's to close (main.ts does the same)
  await redis.del(keys.positions);
  return { result, partition: w.frames };
}

async function rawServer(clients: ClientsChild, clientsN: number) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  await clients.request({ op: 'open', url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, n: clientsN, mode: 'raw' });
  return {
    wss,
    async close() {
      await clients.request({ op: 'close' });
      await new Promise<void>((r) => wss.close(() => r()));
    },
  };
}

/** The classic broadcast: every message is its own frame, sent to every client as the same string. */
async function runRawUnbatched(clients: ClientsChild, redis: Redis, clientsN: number, encoded: string[]) {
  const { wss, close } = await rawServer(clients, clientsN);
  const cpu = await cpuMeter(redis, { clients: clients.pid });
  const started = epochNow();
  for (let i = 0; i < encoded.length; i += 100) {
    for (let j = i; j < Math.min(encoded.length, i + 100); j++) for (const s of wss.clients) s.send(encoded[j]);
    await new Promise((r) => setImmediate(r)); // let the sockets write
  }
  const w = await clients.request<{ received: number; atMs: number }>({ op: 'wait', expected: encoded.length * clientsN, stallMs: 20_000 });
  const load = await cpu();
  await close();
  const d = delivery(w.received, started, w.atMs);
  return { ...d, serverCpuSecondsPerMillion: serverCpuPerMillion(d, load), framesPerClient: encoded.length, load };
}

/**
 * The fair baseline: the frames the gateway sent (client 0's partition of the messages into
 * frames), each built once as a Buffer and written to every client — a raw broadcast with the
 * gateway's batching and none of its work (stream, map lookup, per-client queues, policy).
 */
async function runRawBatched(clients: ClientsChild, redis: Redis, clientsN: number, encoded: string[], partition: number[]) {
  const { wss, close } = await rawServer(clients, clientsN);
  const cpu = await cpuMeter(redis, { clients: clients.pid });
  const started = epochNow();
  let at = 0;
  for (const size of partition) {
    const part = encoded.slice(at, (at += size));
    const frame = Buffer.from(part.length === 1 ? part[0] : encodeBatch(part));
    for (const s of wss.clients) s.send(frame, { binary: false });
    await new Promise((r) => setImmediate(r));
  }
  const w = await clients.request<{ received: number; atMs: number }>({ op: 'wait', expected: at * clientsN, stallMs: 20_000 });
  const load = await cpu();
  await close();
  const d = delivery(w.received, started, w.atMs);
  return { ...d, serverCpuSecondsPerMillion: serverCpuPerMillion(d, load), framesPerClient: partition.length, load };
}

async function throughput(quick: boolean, redisUrl: string, log: (l: string) => void) {
  const clientsN = quick ? 100 : 1000;
  const messages = quick ? 2000 : 3000;
  const rounds = quick ? 1 : 5;
  // one device per message: no two positions of one entry in a read, so nothing coalesces and
  // every side delivers every message (coalescing is tested in session.test.ts)
  const devices = Array.from({ length: messages }, (_, i) => `35${String(i).padStart(13, '0')}`);
  const redis = createRedis(redisUrl);
  const clients = await spawnClients();
  try {
    const t0 = Date.now();
    const encoded = encodedMessages(devices, messages, t0);
    log(`throughput: ${clientsN} clients in a child process (pid ${clients.pid}), ${messages} positions each; server side in this process`);
    const unbatched = await runRawUnbatched(clients, redis, clientsN, encoded);
    log(`  raw ws, one frame per message: ${unbatched.messagesPerSecond.toLocaleString()} msg/s (${unbatched.seconds} s, server ${unbatched.serverCpuSecondsPerMillion} CPU s per million; cores ${JSON.stringify(unbatched.load.cores)})`);
    const perRound: { gateway: Awaited<ReturnType<typeof runGateway>>['result']; rawBatched: Awaited<ReturnType<typeof runRawBatched>>; ratio: number }[] = [];
    for (let r = 0; r < rounds; r++) {
      const { result: gateway, partition } = await runGateway(clients, redis, redisUrl, clientsN, devices, messages, t0);
      log(`  round ${r + 1}: gateway ${gateway.messagesPerSecond.toLocaleString()} msg/s in ${gateway.framesPerClient} frames/client, server ${gateway.serverCpuSecondsPerMillion} CPU s per million (coalesced ${gateway.coalesced}, slow closes ${gateway.slowCloses}; cores ${JSON.stringify(gateway.load.cores)})`);
      const complete = partition.reduce((a, b) => a + b, 0) === messages;
      if (!complete) log(`  round ${r + 1}: client 0 did not get every message; the batched baseline replays what it got`);
      const rawBatched = await runRawBatched(clients, redis, clientsN, encoded, partition);
      const ratio = Number((gateway.messagesPerSecond / rawBatched.messagesPerSecond).toFixed(3));
      log(`  round ${r + 1}: raw ws, the gateway's frames: ${rawBatched.messagesPerSecond.toLocaleString()} msg/s, server ${rawBatched.serverCpuSecondsPerMillion} CPU s per million → gateway/raw ${ratio} (cores ${JSON.stringify(rawBatched.load.cores)})`);
      perRound.push({ gateway, rawBatched, ratio });
    }
    const gatewayMps = median(perRound.map((r) => r.gateway.messagesPerSecond));
    const batchedMps = median(perRound.map((r) => r.rawBatched.messagesPerSecond));
    return {
      clients: clientsN,
      messagesPerClient: messages,
      split: 'server (gateway or raw ws) and Redis publisher in the bench process; all clients in one child process; Redis its own process; nothing pinned (2 cores shared with the rest of the machine, see load)',
      rawUnbatched: unbatched,
      rounds: perRound,
      gatewayMessagesPerSecond: gatewayMps,
      rawBatchedMessagesPerSecond: batchedMps,
      ratioVsRawBatched: Number(median(perRound.map((r) => r.ratio)).toFixed(3)),
      serverCpuSecondsPerMillion: {
        gateway: median(perRound.map((r) => r.gateway.serverCpuSecondsPerMillion)),
        rawBatched: median(perRound.map((r) => r.rawBatched.serverCpuSecondsPerMillion)),
        rawUnbatched: unbatched.serverCpuSecondsPerMillion,
      },
      ratioVsRawUnbatched: Number((gatewayMps / unbatched.messagesPerSecond).toFixed(3)),
    };
  } finally {
    await clients.stop();
    redis.disconnect();
  }
}

// ─── 2 and 3: the stack (a fresh database with Directus), ingest and gateway children ─────

interface Stack {
  databaseUrl: string;
  dbName: string;
  directus: BootedDirectus;
  secrets: { directusSecret: string; adminEmail: string; adminPassword: string; serviceToken: string };
  adminToken: string;
  stop(): Promise<void>;
}

async function bootStack(env: NodeJS.ProcessEnv, redisUrl: string, prefix: string, log: (l: string) => void): Promise<Stack> {
  const serverUrl = env.DATABASE_URL ?? 'postgres://127.0.0.1:5432/trm';
  await ensurePostgres(serverUrl, env, log);
  await ensurePostgis(serverUrl, env, log);
  await ensureRedis(redisUrl, log);
  const dbName = 'trm_bench_live';
  const databaseUrl = withDatabase(serverUrl, dbName);
  await dropDatabase(databaseUrl, env);
  const secrets = { directusSecret: randomBytes(32).toString('base64url'), adminEmail: 'admin@example.com', adminPassword: `pw-${randomBytes(8).toString('hex')}`, serviceToken: randomBytes(24).toString('base64url') };
  const started = performance.now();
  const directus = await bootDirectus({ databaseUrl, redisUrl, redisPrefix: prefix, port: await freePort(), secrets, mode: 'auto', provision: false, say: log, env, logFile: join(stateDir, 'logs', 'directus-bench-live.log'), extraEnv: { REDIS_ENABLED: 'false' } });
  // a static admin token: a login token expires before a long run ends
  const adminToken = randomBytes(24).toString('base64url');
  await directus.admin.request('PATCH', '/users/me', { token: adminToken });
  log(`Directus on ${directus.url} (database ${dbName}) ready in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return {
    databaseUrl,
    dbName,
    directus,
    secrets,
    adminToken,
    async stop() {
      await directus.stop();
      await dropDatabase(databaseUrl, env).catch(() => undefined);
    },
  };
}

/** A child process that logs JSON lines; resolves with the first capture of `pattern` in its stdout. */
async function startChild(args: string[], env: NodeJS.ProcessEnv, pattern: RegExp, what: string) {
  const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const found = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${what} exited with ${code}: ${out.slice(-2000)}`)));
    child.stdout!.on('data', (c: Buffer) => {
      if (out.length < 100_000) out += c.toString();
      const m = pattern.exec(out);
      if (m) resolve(m[1]);
    });
  });
  child.stdout!.resume();
  return {
    found,
    pid: child.pid!,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

// ─── 2. latency: device TCP packet → viewer ───────────────────────────────────────────────

async function gatewayCounters(address: string): Promise<Record<string, number>> {
  const text = await fetch(`http://${address}/metrics`).then((r) => r.text());
  const metric = (name: string) => Number(new RegExp(`^trm_live_${name} ([0-9.e+]+)$`, 'm').exec(text)?.[1] ?? NaN);
  return { framesSent: metric('frames_sent_total'), messagesDelivered: metric('messages_delivered_total'), coalesced: metric('coalesced_total'), slowCloses: metric('slow_client_closes_total') };
}

async function latency(quick: boolean, stack: Stack, clients: ClientsChild, redis: Redis, redisUrl: string, prefix: string, log: (l: string) => void) {
  const deviceCount = 500;
  // 1,000 viewers is the target; a quarter of them, same run, shows how much of the figure is the
  // CPU the viewers themselves take on this machine
  const viewerSteps = quick ? [200] : [1000, 250];
  const measureS = quick ? 10 : 30;
  const admin = stack.directus.admin;
  const tag = randomBytes(3).toString('hex');
  const organization = (await admin.request<{ id: string }>('POST', '/items/organizations', { name: 'Bench live', slug: `bench-live-${tag}` })).id;
  const event = (await admin.request<{ id: number }>('POST', '/items/events', { organization, name: 'Bench live (private)' })).id;
  const imeis = Array.from({ length: deviceCount }, (_, i) => `356${String(i).padStart(12, '0')}`);
  await admin.request('POST', '/items/devices', imeis.map((imei) => ({ imei, organization })));
  await admin.request('POST', '/items/entries', imeis.map((device, i) => ({ event, number: i + 1, crew: `Crew ${i + 1}`, device })));
  const email = `viewer-${tag}@example.com`;
  await admin.request('POST', '/users', { email, password: 'bench-viewer-pw', role: stack.directus.access.roles.Viewer, organization, status: 'active' });
  const token = (await login(stack.directus.url, email, 'bench-viewer-pw')).accessToken;

  const ingest = await startChild([join(root, 'ingest-daemon/src/main.ts')], { ...process.env, REDIS_URL: redisUrl, TRM_REDIS_PREFIX: prefix, INGEST_PORT: '0', INGEST_ADMIN_PORT: '0', INGEST_ACCEPT: 'any', INGEST_INSTANCE_ID: `bench-live-${tag}`, LOG_LEVEL: 'info' }, /"port":(\d+).*ingest listening/, 'ingest daemon');
  const gateway = await startChild(
    [join(root, 'cli/src/main.ts'), 'gateway'],
    { ...process.env, LIVE_PORT: '0', LIVE_HOST: '127.0.0.1', DATABASE_URL: stack.databaseUrl, REDIS_URL: redisUrl, TRM_REDIS_PREFIX: prefix, DIRECTUS_URL: stack.directus.url, DIRECTUS_SECRET: stack.secrets.directusSecret, DIRECTUS_TOKEN: stack.secrets.serviceToken, LIVE_INSTANCE: `bench-${tag}`, LOG_LEVEL: 'info' },
    /"address":"http:\/\/([0-9.:]+)".*live gateway listening/,
    'gateway',
  );
  const devices: SimulatedDevice[] = [];
  let ticker: NodeJS.Timeout | undefined;
  try {
    log(`latency: ingest daemon (pid ${ingest.pid}) → Redis → gateway (pid ${gateway.pid}, real Postgres map, real Directus authorisation) → viewers (pid ${clients.pid}); ${deviceCount} devices at 1 Hz in this process`);
    for (const imei of imeis) {
      const d = new SimulatedDevice({ host: '127.0.0.1', port: Number(ingest.found), imei, recordsPerPacket: 1 });
      devices.push(d);
      d.connect();
    }
    const deadline = Date.now() + 30_000;
    while (devices.some((d) => d.state !== 'online') && Date.now() < deadline) await sleep(50);
    // device i sends at i/500 of every second: one record per packet, stamped with the send time
    const t0 = performance.now();
    const sent = new Array<number>(deviceCount).fill(0);
    ticker = setInterval(() => {
      const elapsed = performance.now() - t0;
      for (let i = 0; i < deviceCount; i++) {
        const due = Math.floor((elapsed - (1000 * i) / deviceCount) / 1000) + 1;
        while (sent[i] < due) {
          sent[i]++;
          devices[i].record({ timestampMs: Date.now(), lat: 41.1 + i / 1e4, lon: 19.9 + sent[i] / 1e5, speedKmh: 90, headingDeg: 90, satellites: 11, altitudeM: 100 });
        }
      }
    }, 5);
    // the floor under the gateway's figure, same run: a bare blocking XREAD of the same stream in
    // this process (device → ingest → Redis → a reader that does nothing else)
    const bare = new Histogram();
    let bareOn = false;
    let reading = true;
    const reader = createRedis(redisUrl);
    const readLoop = (async () => {
      let lastId = '$';
      while (reading) {
        const reply = (await reader.xread('COUNT', 5000, 'BLOCK', 500, 'STREAMS', redisKeys(prefix).positions, lastId).catch(() => null)) as [string, [string, string[]][]][] | null;
        const now = Date.now();
        for (const [, entries] of reply ?? []) {
          for (const [id, fields] of entries) {
            lastId = id;
            const i = fields.indexOf('ts');
            if (bareOn && i >= 0) bare.add(now - Number(fields[i + 1]));
          }
        }
      }
    })();
    const results: Record<string, unknown>[] = [];
    for (const viewers of viewerSteps) {
      await clients.request({ op: 'open', url: `ws://${gateway.found}/live`, n: viewers, mode: 'live', token, subscribe: event });
      log(`  ${viewers} viewers subscribed to event ${event} (one viewer account, token verified locally; one Directus authorisation per (user, event))`);
      await sleep(3000); // warm-up: connections, JIT, the consumer's first reads
      bare.reset();
      const frames0 = await gatewayCounters(gateway.found);
      const cpu = await cpuMeter(redis, { ingest: ingest.pid, gateway: gateway.pid, clients: clients.pid, directus: stack.directus.running.child.pid }, stack.dbName);
      const sentAtStart = sent.reduce((a, b) => a + b, 0);
      await clients.request({ op: 'latency', on: true });
      bareOn = true;
      await sleep(measureS * 1000);
      bareOn = false;
      await clients.request({ op: 'latency', on: false });
      const sentInWindow = sent.reduce((a, b) => a + b, 0) - sentAtStart;
      const load = await cpu();
      const stats = await clients.request<{ latencyMs: { n: number; p50: number; p95: number; p99: number; max: number } }>({ op: 'stats' });
      const frames1 = await gatewayCounters(gateway.found);
      const result = {
        devices: deviceCount,
        ratePerDeviceHz: 1,
        viewers,
        measuredSeconds: measureS,
        positionsSentInWindow: sentInWindow,
        deliveriesExpected: sentInWindow * viewers,
        deliveriesMeasured: stats.latencyMs.n,
        latencyMs: stats.latencyMs,
        bareStreamReaderLatencyMs: bare.summary(),
        gatewayInWindow: Object.fromEntries(Object.entries(frames1).map(([k, v]) => [k, v - frames0[k]])),
        authorisation: 'real Directus (viewer account of the organisation, private event); event map and snapshot from real Postgres',
        load,
      };
      log(`  ${result.deliveriesMeasured.toLocaleString()} deliveries (${sentInWindow} positions × ${viewers} viewers expected ${result.deliveriesExpected.toLocaleString()}): p50 ${stats.latencyMs.p50} ms, p95 ${stats.latencyMs.p95} ms, p99 ${stats.latencyMs.p99} ms, max ${stats.latencyMs.max} ms`);
      log(`  floor, same run: device → ingest → Redis → a bare XREAD in this process: p50 ${result.bareStreamReaderLatencyMs.p50} ms, p95 ${result.bareStreamReaderLatencyMs.p95} ms, p99 ${result.bareStreamReaderLatencyMs.p99} ms`);
      log(`  cores: ${JSON.stringify(load.cores)} (load average ${load.loadavg1m})`);
      results.push(result);
      await clients.request({ op: 'close' });
    }
    reading = false;
    await readLoop;
    reader.disconnect();
    return results;
  } finally {
    if (ticker) clearInterval(ticker);
    for (const d of devices) d.stop();
    await clients.request({ op: 'close' }).catch(() => undefined);
    await gateway.stop();
    await ingest.stop();
  }
}

// ─── 3. the rejected design: Directus REST writes, Directus WebSocket subscriptions ───────

async function directusPath(quick: boolean, stack: Stack, clients: ClientsChild, redis: Redis, log: (l: string) => void) {
  const collection = 'bench_live_positions';
  const admin = stack.directus.admin.withToken(stack.adminToken);
  await admin.request('POST', '/collections', {
    collection,
    // accountability null: no activity or revision rows per item, Directus's fastest write path
    meta: { hidden: true, note: 'scratch collection of trm bench live', accountability: null },
    schema: {},
    fields: [
      { field: 'id', type: 'integer', meta: { hidden: true }, schema: { is_primary_key: true, has_auto_increment: true } },
      { field: 'imei', type: 'string', schema: {} },
      { field: 'sent_ms', type: 'bigInteger', schema: {} },
      { field: 'lat', type: 'float', schema: {} },
      { field: 'lon', type: 'float', schema: {} },
      { field: 'speed', type: 'float', schema: {} },
      { field: 'heading', type: 'float', schema: {} },
    ],
  });
  // 500 devices at 1 Hz with 0 (the REST write path alone), 1, 10, … subscribers until Directus
  // stops keeping up; then 50 devices at 1 Hz, to see its latency where it can keep up
  const plans = quick ? [{ devices: 500, steps: [0, 10] }, { devices: 50, steps: [1, 10] }] : [{ devices: 500, steps: [0, 1, 10, 100] }, { devices: 50, steps: [1, 10, 100, 1000] }];
  const measureS = quick ? 5 : 10;
  const wsUrl = `${stack.directus.url.replace(/^http/, 'ws')}/websocket`;
  const results: Record<string, unknown>[] = [];
  for (const { devices: deviceCount, steps } of plans) for (const n of steps) {
    if (results.some((r) => r.devices === deviceCount && (r.subscribers as number) > 0 && r.keptUp === false)) break;
    await clients.request({ op: 'open', url: wsUrl, n, mode: 'directus', token: stack.adminToken, collection });
    await clients.request({ op: 'latency', on: true });
    const cpu = await cpuMeter(redis, { clients: clients.pid, directus: stack.directus.running.child.pid }, stack.dbName);
    // written as one batch POST every 100 ms; sent_ms is the POST's start, so the time rows wait
    // for their batch is not counted against Directus
    let written = 0;
    let posts = 0;
    let postMs = 0;
    let due = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < measureS * 1000) {
      const target = Math.floor(((performance.now() - t0) / 1000) * deviceCount);
      const rows = [];
      const sentMs = Date.now();
      for (; due < target; due++) rows.push({ imei: `356${String(due % deviceCount).padStart(12, '0')}`, sent_ms: sentMs, lat: 41.1, lon: 19.9 + due / 1e6, speed: 90, heading: 90 });
      if (rows.length > 0) {
        const p0 = performance.now();
        await admin.request('POST', `/items/${collection}`, rows);
        postMs += performance.now() - p0;
        posts++;
        written += rows.length;
      }
      await sleep(Math.max(0, 100 - ((performance.now() - t0) % 100)));
    }
    const writeSeconds = (performance.now() - t0) / 1000;
    const w = await clients.request<{ received: number; atMs: number }>({ op: 'wait', expected: written * n, stallMs: 5000 });
    await clients.request({ op: 'latency', on: false });
    const load = await cpu();
    const stats = await clients.request<{ latencyMs: { n: number; p50: number; p95: number; p99: number; max: number } }>({ op: 'stats' });
    await clients.request({ op: 'close' });
    const deliveredFraction = n === 0 ? 1 : Math.round((w.received / (written * n)) * 1000) / 1000;
    const r = {
      devices: deviceCount,
      subscribers: n,
      rowsWritten: written,
      rowsPerSecondWritten: Math.round(written / writeSeconds),
      offeredRowsPerSecond: deviceCount,
      posts,
      meanPostMs: Math.round(postMs / Math.max(1, posts)),
      deliveriesExpected: written * n,
      delivered: w.received,
      deliveredFraction: n === 0 ? null : deliveredFraction,
      deliveredPerSecond: n === 0 ? null : Math.round(w.received / ((w.atMs - (performance.timeOrigin + t0)) / 1000)),
      latencyMs: stats.latencyMs,
      load,
    };
    const keptUp = r.rowsPerSecondWritten >= 0.9 * deviceCount && deliveredFraction >= 0.9 && (stats.latencyMs.p99 ?? 0) <= 10_000;
    results.push({ ...r, keptUp });
    log(`  Directus, ${deviceCount} devices at 1 Hz, ${n} subscribers: wrote ${written} rows (${r.rowsPerSecondWritten}/s of ${deviceCount}/s offered, ${posts} POSTs, mean ${r.meanPostMs} ms), delivered ${w.received.toLocaleString()} of ${(written * n).toLocaleString()} (${(deliveredFraction * 100).toFixed(1)}%), latency p50 ${stats.latencyMs.p50} p95 ${stats.latencyMs.p95} p99 ${stats.latencyMs.p99} ms; cores ${JSON.stringify(load.cores)}`);
    if (!keptUp) log(`  Directus does not keep up with ${deviceCount} devices and ${n} subscribers; not stepping further`);
  }
  return {
    what: 'positions written through Directus REST (batch POST every 100 ms into a scratch collection of the bench database, accountability off) and delivered by Directus WebSocket subscriptions (admin token: no permission filtering, which flatters Directus)',
    steps: results,
  };
}

// ─── the benchmark ────────────────────────────────────────────────────────────────────────

export const bench: BenchModule = {
  description: 'live gateway: fan-out msg/s vs raw ws (unbatched and batched as the gateway), device → viewer latency, and the rejected Directus REST + subscriptions path (same run); LIVE_BENCH_ONLY=throughput,latency,directus picks parts',
  async run({ quick, env, log }) {
    const only = new Set((env.LIVE_BENCH_ONLY ?? 'throughput,latency,directus').split(',').map((s) => s.trim()));
    const redisUrl = env.REDIS_URL ?? 'redis://127.0.0.1:6379';
    const out: Record<string, unknown> = { machine: { cpus: cpus().length, loadavgAtStart: loadavg().map((x) => Math.round(x * 100) / 100) } };
    if (only.has('throughput')) out.throughput = await throughput(quick, redisUrl, log);
    if (only.has('latency') || only.has('directus')) {
      const prefix = `bench:lv:${randomBytes(3).toString('hex')}:`;
      const redis = createRedis(redisUrl);
      const stack = await bootStack(env, redisUrl, prefix, log);
      const clients = await spawnClients();
      try {
        if (only.has('latency')) out.latency = { devices: 500, ratePerDeviceHz: 1, steps: await latency(quick, stack, clients, redis, redisUrl, prefix, log) };
        if (only.has('directus')) out.directus = await directusPath(quick, stack, clients, redis, log);
      } finally {
        await clients.stop();
        await stack.stop();
        let cursor = '0';
        do {
          const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
          cursor = next;
          if (found.length) await redis.unlink(...found);
        } while (cursor !== '0');
        redis.disconnect();
      }
    }
    out.targets = { ratioVsRawBatchedAtLeast: 0.5, messagesPerSecondAtLeast: 100_000, latencyP99MsBelow: 100 };
    return out;
  },
};

export const { description, run } = bench;
