/**
 * `trm bench alerts`: how long race control waits for an SOS (issue 13, target p99 < 2 s).
 *
 * Measured per SOS, from the moment the record reached the ingest daemon (its `rx` stamp) to:
 *   (1) the alert's `opened` entry on safety:alerts, read by a blocking XREAD (what the
 *       live-gateway will fan out),
 *   (2) the alert row readable through Directus REST by a timing official (polled every 10 ms),
 *   (3) the `create` event on a timing official's Directus WebSocket subscription to alerts
 *       (what race control's screens get today),
 *   (4) the `alert` message on race control's /live channel: a live-gateway (in-process) and a
 *       timing official's WebSocket subscribed to the event (docs/live.md, "Safety alerts").
 * SOSes are sequential (one in flight), each from another device, while every device of the
 * rally sends a fix a second (the safety consumer does real work meanwhile).
 *
 * Baseline, same run: the raw XADD → XREAD hop on the same Redis (a scratch stream, same
 * reader shape), the floor under (1).
 *
 * Set-up: a fresh Directus database (bootDirectus, as the test set-up) with the trm-safety
 * hook; in-process ingest daemon (simulated devices over TCP), safety service and live-gateway.
 */
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { BenchModule } from '../cli/src/commands/bench.ts';
import { stateDir } from '../cli/src/paths.ts';
import { dropDatabase, ensurePostgis, ensurePostgres, ensureRedis } from '../cli/src/provision/services.ts';
import { bootDirectus } from '../cli/src/stack/directus.ts';
import { silentLogger } from '../common/src/log.ts';
import { withDatabase } from '../common/src/pg.ts';
import { createPool } from '../common/src/pg.ts';
import { createRedis } from '../common/src/redis.ts';
import { redisKeys } from '../common/src/redis-keys.ts';
import { login, rest } from '../directus/src/rest.ts';
import { at } from '../functions/src/core/timing/test-fixtures.ts';
import { loadIngestConfig } from '../ingest-daemon/src/config.ts';
import { startIngest } from '../ingest-daemon/src/main.ts';
import { loadGatewayConfig } from '../live-gateway/src/config.ts';
import { buildGateway } from '../live-gateway/src/gateway.ts';
import { parseStreamFields } from '../safety/src/alert-stream.ts';
import { startSafetyService } from '../safety/src/main.ts';
import { createSafetyRally } from '../safety/src/testing/scenario.ts';
import { SimulatedDevice } from '../simulator/src/device.ts';
import { freePort } from '../common/src/net.ts';

function stats(values: number[]): { n: number; p50: number; p95: number; p99: number; max: number; mean: number } {
  const s = [...values].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
  const r1 = (x: number) => Math.round(x * 10) / 10;
  return { n: s.length, p50: r1(q(0.5)), p95: r1(q(0.95)), p99: r1(q(0.99)), max: r1(s[s.length - 1]), mean: r1(s.reduce((a, b) => a + b, 0) / s.length) };
}

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000, everyMs = 5): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export const bench: BenchModule = {
  description: 'SOS at the ingest daemon → safety:alerts entry, Directus row, Directus WebSocket, /live alert (p99 target < 2 s) vs raw XADD→XREAD',
  async run({ quick, env, log }) {
    const deviceCount = quick ? 20 : 100;
    const samples = quick ? 10 : 60;
    const serverUrl = env.DATABASE_URL ?? 'postgres://127.0.0.1:5432/trm';
    const redisUrl = env.REDIS_URL ?? 'redis://127.0.0.1:6379';
    await ensurePostgres(serverUrl, env, log);
    await ensurePostgis(serverUrl, env, log);
    await ensureRedis(redisUrl, log);
    const databaseUrl = withDatabase(serverUrl, 'trm_bench_alerts');
    await dropDatabase(databaseUrl, env);
    const prefix = `bench:al:${randomBytes(3).toString('hex')}:`;
    const keys = redisKeys(prefix);
    const secrets = { directusSecret: randomBytes(32).toString('base64url'), adminEmail: 'admin@example.com', adminPassword: `pw-${randomBytes(8).toString('hex')}`, serviceToken: randomBytes(24).toString('base64url') };
    const directus = await bootDirectus({ databaseUrl, redisUrl, redisPrefix: prefix, port: await freePort(), secrets, mode: 'auto', provision: false, say: log, env, logFile: join(stateDir, 'logs', 'directus-bench-alerts.log'), extraEnv: { REDIS_ENABLED: 'false' } });
    const closers: (() => Promise<void> | void)[] = [() => directus.stop()];
    try {
      const admin = directus.admin;
      const organization = (await admin.request<{ id: string }>('POST', '/items/organizations', { name: 'Bench alerts', slug: `bench-al-${randomBytes(3).toString('hex')}` })).id;
      const email = `official-${randomBytes(3).toString('hex')}@example.com`;
      await admin.request('POST', '/users', { email, password: 'bench-official-pw', role: directus.access.roles['Timing official'], organization, status: 'active' });
      const token = (await login(directus.url, email, 'bench-official-pw')).accessToken;
      const official = rest(directus.url, token);
      const names = Array.from({ length: deviceCount }, (_, i) => `d${i}`);
      const rally = await createSafetyRally(admin, { organization, nowMs: Date.now(), stageStartMs: Date.now() - 10 * 60_000, names, silenceS: 3600 });
      log(`rally: event ${rally.event}, ${deviceCount} entries on a running special stage`);

      const ingestEnv = { REDIS_URL: redisUrl, TRM_REDIS_PREFIX: prefix, INGEST_PORT: '0', INGEST_ADMIN_PORT: '0', INGEST_ACCEPT: 'any', INGEST_INSTANCE_ID: 'bench-alerts' };
      const ingest = await startIngest(loadIngestConfig(ingestEnv), ingestEnv, silentLogger());
      closers.unshift(() => ingest.close());
      const safety = await startSafetyService({ DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, TRM_REDIS_PREFIX: prefix, DIRECTUS_URL: directus.url, DIRECTUS_TOKEN: secrets.serviceToken, SAFETY_ADMIN_PORT: '0' }, { log: silentLogger() });
      closers.unshift(() => safety.close());

      // load: every device drives east along the route, a fix a second
      const devices = names.map((n) => new SimulatedDevice({ host: '127.0.0.1', port: ingest.port, imei: rally.devices[n] }));
      for (const d of devices) d.connect();
      const startedMs = Date.now();
      const where = (i: number) => at(1000 + i * 30 + ((Date.now() - startedMs) / 1000) * 20, 0);
      const load = setInterval(() => {
        devices.forEach((d, i) => {
          const [lon, lat] = where(i);
          d.record({ timestampMs: Date.now(), lat, lon, speedKmh: 72, headingDeg: 90, satellites: 12 });
        });
      }, 1000);
      closers.unshift(() => {
        clearInterval(load);
        for (const d of devices) d.stop();
      });

      // (1) reader of safety:alerts
      const reader = createRedis(redisUrl);
      closers.unshift(() => reader.disconnect());
      const streamSeen = new Map<number, number>();
      let reading = true;
      let lastId = '$';
      const readLoop = (async () => {
        while (reading) {
          const reply = (await reader.xread('BLOCK', 500, 'STREAMS', keys.alerts, lastId).catch(() => null)) as [string, [string, string[]][]][] | null;
          const now = Date.now();
          for (const [, entries] of reply ?? []) for (const [id, fields] of entries) {
            lastId = id;
            const m = parseStreamFields(fields);
            if (m && m.change === 'opened' && m.entry !== null && !streamSeen.has(m.entry)) streamSeen.set(m.entry, now);
          }
        }
      })();
      closers.unshift(async () => {
        reading = false;
        await readLoop;
      });

      // (3) a timing official's Directus WebSocket subscription
      const wsSeen = new Map<number, number>();
      const ws = new WebSocket(`${directus.url.replace(/^http/, 'ws')}/websocket`);
      closers.unshift(() => ws.close());
      let wsReady = false;
      ws.addEventListener('message', (msg) => {
        const m = JSON.parse(String(msg.data)) as { type: string; event?: string; status?: string; data?: { entry: number }[] };
        if (m.type === 'ping') ws.send(JSON.stringify({ type: 'pong' }));
        if (m.type === 'auth' && m.status === 'ok') ws.send(JSON.stringify({ type: 'subscribe', collection: 'alerts', query: { fields: ['id', 'entry', 'kind', 'status'] } }));
        if (m.type === 'subscription' && m.event === 'init') wsReady = true;
        if (m.type === 'subscription' && m.event === 'create') for (const d of m.data ?? []) if (!wsSeen.has(d.entry)) wsSeen.set(d.entry, Date.now());
      });
      await new Promise((resolve, reject) => {
        ws.addEventListener('open', resolve, { once: true });
        ws.addEventListener('error', reject, { once: true });
      });
      ws.send(JSON.stringify({ type: 'auth', access_token: token }));
      await until('the WebSocket subscription', () => (wsReady ? true : undefined));

      // (4) race control on the live channel: a live-gateway, the official subscribed to the event
      const gatewayConfig = loadGatewayConfig({
        LIVE_PORT: '0', LIVE_HOST: '127.0.0.1', DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, TRM_REDIS_PREFIX: prefix,
        DIRECTUS_URL: directus.url, DIRECTUS_SECRET: secrets.directusSecret, DIRECTUS_TOKEN: secrets.serviceToken, LIVE_INSTANCE: 'bench-alerts',
      });
      const gatewayPool = createPool(databaseUrl, env, { max: 2, application_name: 'trm bench alerts gateway' });
      const gatewayRedis = createRedis(redisUrl);
      const gatewayBlocking = createRedis(redisUrl);
      const gateway = await buildGateway({ config: gatewayConfig, redis: gatewayRedis, blocking: gatewayBlocking, pool: gatewayPool, log: silentLogger() });
      await gateway.start();
      await gateway.app.listen({ port: 0, host: '127.0.0.1' });
      closers.unshift(async () => {
        await gateway.close();
        await gatewayPool.end();
        gatewayRedis.disconnect();
        gatewayBlocking.disconnect();
      });
      const livePort = (gateway.app.server.address() as { port: number }).port;
      const liveSeen = new Map<number, number>();
      let liveReady = false;
      const live = new WebSocket(`ws://127.0.0.1:${livePort}/live?access_token=${encodeURIComponent(token)}`);
      closers.unshift(() => live.close());
      live.addEventListener('message', (msg) => {
        const m = JSON.parse(String(msg.data)) as { type: string; change?: string; entry?: number | null };
        if (m.type === 'alerts') liveReady = true; // race control's snapshot, sent on subscribe
        if (m.type === 'alert' && m.change === 'opened' && typeof m.entry === 'number' && !liveSeen.has(m.entry)) liveSeen.set(m.entry, Date.now());
      });
      await new Promise((resolve, reject) => {
        live.addEventListener('open', resolve, { once: true });
        live.addEventListener('error', reject, { once: true });
      });
      live.send(JSON.stringify({ type: 'subscribe', event: rally.event }));
      await until('the live-channel subscription (alerts snapshot)', () => (liveReady ? true : undefined));
      await until('the load to flow', async () => ((await safety.safety.health()).tracked as number) >= deviceCount || undefined, 60_000, 100);

      const toStream: number[] = [];
      const toRow: number[] = [];
      const toWs: number[] = [];
      const toLive: number[] = [];
      const sendToRx: number[] = [];
      for (let i = 0; i < samples; i++) {
        const entry = rally.entries[names[i % deviceCount]];
        const [lon, lat] = where(i % deviceCount);
        const sentAt = Date.now();
        devices[i % deviceCount].record({ timestampMs: sentAt, lat, lon, speedKmh: 0, headingDeg: 90, satellites: 12, priority: 2 });
        const row = await until(`the alert row of sample ${i}`, async () => {
          const rows = await official.request<{ id: number; evidence: { fixes: { rx: string }[] } }[]>('GET', `/items/alerts?fields=id,evidence&filter=${encodeURIComponent(JSON.stringify({ entry: { _eq: entry }, kind: { _eq: 'sos' }, status: { _neq: 'closed' } }))}`);
          return rows[0] ? { at: Date.now(), rx: Date.parse(rows[0].evidence.fixes[0].rx), id: rows[0].id } : undefined;
        }, 30_000, 10);
        const streamAt = await until(`the stream entry of sample ${i}`, () => streamSeen.get(entry));
        const wsAt = await until(`the WebSocket event of sample ${i}`, () => wsSeen.get(entry));
        const liveAt = await until(`the live-channel alert of sample ${i}`, () => liveSeen.get(entry));
        toRow.push(row.at - row.rx);
        toStream.push(streamAt - row.rx);
        toWs.push(wsAt - row.rx);
        toLive.push(liveAt - row.rx);
        sendToRx.push(row.rx - sentAt);
        // closed by the official, so the next SOS of this device (when samples > devices) is new
        await official.request('PATCH', `/items/alerts/${row.id}`, { status: 'closed', note: 'bench' });
        streamSeen.delete(entry);
        wsSeen.delete(entry);
        liveSeen.delete(entry);
      }
      const safetyHealth = await safety.safety.health();
      // where the time goes: the service's own Directus write time (dedup read + POST), mean
      const metricsText = await (await fetch(`http://127.0.0.1:${safety.admin.port}/metrics`)).text();
      const metric = (name: string) => Number(/^(\S+) (\S+)$/m.exec(metricsText.split('\n').filter((l) => l.startsWith(`${name} `)).join('\n'))?.[2] ?? NaN);
      const writeMeanMs = Math.round((metric('trm_safety_alert_write_seconds_sum') / metric('trm_safety_alert_write_seconds_count')) * 10000) / 10;

      // baseline: raw XADD → blocking XREAD of the same shape, same Redis
      const scratch = `${prefix}bench:baseline`;
      const writer = createRedis(redisUrl);
      const blockingReader = createRedis(redisUrl);
      closers.unshift(() => {
        writer.disconnect();
        blockingReader.disconnect();
      });
      const baseline: number[] = [];
      let lastBaseId = '0-0';
      for (let i = 0; i < samples; i++) {
        // from the last id (not '$'): a read that reaches Redis after the XADD still sees it
        const waiting = blockingReader.xread('BLOCK', 5000, 'STREAMS', scratch, lastBaseId);
        await new Promise((r) => setTimeout(r, 5));
        const t = performance.now();
        lastBaseId = String(await writer.xadd(scratch, 'MAXLEN', '~', '1000', '*', 'change', 'opened', 'id', String(i)));
        await waiting;
        baseline.push(performance.now() - t);
      }
      await writer.del(scratch);

      const s = { rxToStream: stats(toStream), rxToDirectusRow: stats(toRow), rxToDirectusWebSocket: stats(toWs), rxToLiveChannel: stats(toLive), deviceSendToRx: stats(sendToRx), baselineXaddToXread: stats(baseline) };
      log(`rx → safety:alerts   ms: p50 ${s.rxToStream.p50}  p95 ${s.rxToStream.p95}  p99 ${s.rxToStream.p99}  max ${s.rxToStream.max}`);
      log(`rx → Directus row    ms: p50 ${s.rxToDirectusRow.p50}  p95 ${s.rxToDirectusRow.p95}  p99 ${s.rxToDirectusRow.p99}  max ${s.rxToDirectusRow.max} (REST polled every 10 ms)`);
      log(`rx → Directus WS     ms: p50 ${s.rxToDirectusWebSocket.p50}  p95 ${s.rxToDirectusWebSocket.p95}  p99 ${s.rxToDirectusWebSocket.p99}  max ${s.rxToDirectusWebSocket.max}`);
      log(`rx → /live alert     ms: p50 ${s.rxToLiveChannel.p50}  p95 ${s.rxToLiveChannel.p95}  p99 ${s.rxToLiveChannel.p99}  max ${s.rxToLiveChannel.max}`);
      log(`safety's alert write (dedup read + Directus POST/PATCH), mean ms: ${writeMeanMs}`);
      log(`baseline XADD→XREAD  ms: p50 ${s.baselineXaddToXread.p50}  p99 ${s.baselineXaddToXread.p99}`);
      return {
        devices: deviceCount,
        samples,
        loadFixesPerSecond: deviceCount,
        cpus: cpus().length,
        targetP99Ms: 2000,
        metTarget: s.rxToStream.p99 < 2000 && s.rxToDirectusRow.p99 < 2000 && s.rxToDirectusWebSocket.p99 < 2000 && s.rxToLiveChannel.p99 < 2000,
        latencyMs: s,
        ratioStreamP50ToBaselineP50: Math.round((s.rxToStream.p50 / Math.max(0.001, s.baselineXaddToXread.p50)) * 10) / 10,
        safetyAlertWriteMeanMs: writeMeanMs,
        safetyHealth,
        note: 'sequential SOSes under a 1 Hz fix load from every device; rx = the ingest daemon receive stamp (same clock, same process); /live = an in-process live-gateway and a timing official subscribed to the event',
      };
    } finally {
      for (const close of closers) await Promise.resolve(close()).catch(() => undefined);
      await dropDatabase(databaseUrl, env).catch(() => undefined);
    }
  },
};

export const { description, run } = bench;
