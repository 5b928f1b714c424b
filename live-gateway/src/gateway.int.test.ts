/**
 * Issue 9 against the real Directus, Postgres and Redis of the run: who may follow which
 * event, snapshot then live positions, token expiry and in-band re-auth, revocation on
 * re-check, Directus down, two gateway instances, assignment changes (on the refresh timer),
 * dead peers removed by ping/pong, /healthz while Redis is down (a throwaway redis-server).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { SignJWT, UnsecuredJWT } from 'jose';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createPool } from '../../common/src/pg.ts';
import { createRedis } from '../../common/src/redis.ts';
import { silentLogger } from '../../common/src/log.ts';
import { createTestRedis, type TestRedis } from '../../common/src/testing/redis.ts';
import { adminApi, createOrg, createUser, trm, type TestOrg, type TestUser } from '../../tests/directus-client.ts';
import { loadGatewayConfig } from './config.ts';
import { createDirectusClient, type DirectusClient } from './directus.ts';
import { gwError } from './errors.ts';
import { buildGateway, type Gateway } from './gateway.ts';
import { WsTestClient, type Msg } from './testing/ws-client.ts';
import { freePort } from '../../common/src/net.ts';

let tr: TestRedis;
let pool: pg.Pool;
const gateways: Gateway[] = [];
const clients: WsTestClient[] = [];

async function startGateway(env: Record<string, string> = {}, directus?: DirectusClient, redisUrl = tr.url): Promise<{ gw: Gateway; url: string }> {
  const t = trm();
  const config = loadGatewayConfig({
    LIVE_PORT: '0',
    LIVE_HOST: '127.0.0.1',
    DATABASE_URL: t.directusDatabaseUrl,
    REDIS_URL: tr.url,
    TRM_REDIS_PREFIX: tr.keys.prefix,
    DIRECTUS_URL: t.directusUrl,
    DIRECTUS_SECRET: t.directusSecret,
    DIRECTUS_TOKEN: t.serviceToken,
    LIVE_INSTANCE: `test-${randomBytes(3).toString('hex')}`,
    LIVE_READ_BLOCK_MS: '200',
    ...env,
  });
  const gw = await buildGateway({ config, redis: createRedis(redisUrl), blocking: createRedis(redisUrl), pool, log: silentLogger(), directus });
  await gw.start();
  await gw.app.listen({ port: 0, host: '127.0.0.1' });
  gateways.push(gw);
  const { port } = gw.app.server.address() as { port: number };
  return { gw, url: `ws://127.0.0.1:${port}/live` };
}

async function connect(url: string, token?: string, via: 'header' | 'query' = 'header'): Promise<WsTestClient> {
  const target = token && via === 'query' ? `${url}?access_token=${encodeURIComponent(token)}` : url;
  const client = await WsTestClient.open(target, token && via === 'header' ? { authorization: `Bearer ${token}` } : {});
  clients.push(client);
  return client;
}

// a random run base and a counter: 1,000 IMEIs made in one millisecond must not collide
const imeiBase = `35${String(randomBytes(4).readUInt32BE(0) % 10_000_000).padStart(7, '0')}`;
let imeiSeq = 0;
function imei(): string {
  return `${imeiBase}${String(++imeiSeq).padStart(6, '0')}`;
}

let tsCounter = Date.now() - 60_000;
async function publish(deviceImei: string, extra: Record<string, string> = {}): Promise<number> {
  const ts = ++tsCounter;
  const fields = { imei: deviceImei, ts: String(ts), lat: '41.1', lon: '19.9', alt: '100', speed: '72', heading: '180', sats: '11', priority: '0', event: '0', io: '{}', rx: String(Date.now()), src: 'test', fix: '1', codec: '8E', ...extra };
  await tr.redis.xadd(tr.keys.positions, '*', ...Object.entries(fields).flat());
  return ts;
}

/** Waits for `probe` to hold; the bound only turns a hang into a readable failure (no timing assertion). */
async function eventually(what: string, probe: () => boolean | Promise<boolean>, giveUpMs = 30_000): Promise<void> {
  const deadline = Date.now() + giveUpMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} after ${giveUpMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const isPosition = (event: number, deviceImei?: string) => (m: Msg) => m.type === 'position' && m.event === event && (deviceImei === undefined || m.imei === deviceImei);
const isError = (code: string) => (m: Msg) => m.type === 'error' && m.code === code;

let orgA: TestOrg;
let orgB: TestOrg;
let eventA: number;
let eventB: number;
let eventPublic: number;
let userA: TestUser;
let entryA: number;
const imeiA = imei();
const imeiA2 = imei();
const imeiB = imei();
const imeiPublic = imei();

beforeAll(async () => {
  const t = trm();
  tr = await createTestRedis('live');
  pool = createPool(t.directusDatabaseUrl, process.env, { max: 4 });
  orgA = await createOrg('live-a');
  orgB = await createOrg('live-b');
  const admin = adminApi();
  eventA = (await admin.request<{ id: number }>('POST', '/items/events', { organization: orgA.id, name: 'Live A' })).id;
  eventB = (await admin.request<{ id: number }>('POST', '/items/events', { organization: orgB.id, name: 'Live B' })).id;
  eventPublic = (await admin.request<{ id: number }>('POST', '/items/events', { organization: orgB.id, name: 'Live public', public_live: true })).id;
  await admin.request('POST', '/items/devices', [
    { imei: imeiA, organization: orgA.id },
    { imei: imeiA2, organization: orgA.id },
    { imei: imeiB, organization: orgB.id },
    { imei: imeiPublic, organization: orgB.id },
  ]);
  entryA = (await admin.request<{ id: number }>('POST', '/items/entries', { event: eventA, number: 101, crew: 'Crew A', device: imeiA })).id;
  await admin.request('POST', '/items/entries', { event: eventA, number: 102, crew: 'Crew A2' });
  await admin.request('POST', '/items/entries', { event: eventB, number: 201, device: imeiB });
  await admin.request('POST', '/items/entries', { event: eventPublic, number: 301, device: imeiPublic });
  // last known positions for the snapshot: the newest fix wins, a faulty newer one is ignored
  await pool.query(
    `INSERT INTO positions (imei, ts, lat, lon, speed, heading, alt, sats, fix, faulty) VALUES
     ($1, now() - interval '10 minutes', 41.0, 19.0, 50, 90, 100, 9, true, false),
     ($1, now() - interval '5 minutes', 41.5, 19.5, 60, 95, 110, 10, true, false),
     ($1, now() - interval '1 minute', 0, 0, 0, 0, 0, 0, true, true)`,
    [imeiA],
  );
  userA = await createUser('Viewer', orgA.id, 'live-viewer-a');
});

afterAll(async () => {
  for (const c of clients) c.close();
  for (const gw of gateways) await gw.close();
  await pool?.end();
  await tr?.cleanup();
});

describe('subscribe authorisation', () => {
  let url: string;
  beforeAll(async () => {
    ({ url } = await startGateway());
  });

  test('allowed: own organisation → snapshot of the last fix, then live positions with entry and number', async () => {
    const c = await connect(url, userA.accessToken);
    await c.nextType('authenticated');
    c.send({ type: 'subscribe', event: eventA });
    const snapshot = await c.nextType('snapshot');
    expect(snapshot).toMatchObject({ event: eventA });
    const positions = snapshot.positions as Msg[];
    expect(positions).toHaveLength(1); // the entry without a device has no position
    expect(positions[0]).toMatchObject({ entry: entryA, number: 101, crew: 'Crew A', imei: imeiA, lat: 41.5, lon: 19.5, speed: 60, sats: 10 });
    const ts = await publish(imeiA);
    const live = await c.next(isPosition(eventA, imeiA));
    expect(live).toMatchObject({ event: eventA, entry: entryA, number: 101, imei: imeiA, ts, lat: 41.1, lon: 19.9, speed: 72, heading: 180, alt: 100, sats: 11 });
  });

  test('allowed with ?access_token= and with an in-band auth message', async () => {
    const q = await connect(url, userA.accessToken, 'query');
    await q.nextType('authenticated');
    q.send({ type: 'subscribe', event: eventA });
    await q.nextType('snapshot');
    const m = await connect(url);
    m.send({ type: 'auth', access_token: userA.accessToken });
    m.send({ type: 'subscribe', event: eventA });
    await m.nextType('authenticated');
    await m.nextType('snapshot');
  });

  test("forbidden: another organisation's event", async () => {
    const c = await connect(url, userA.accessToken);
    c.send({ type: 'subscribe', event: eventB });
    expect(await c.nextType('error')).toMatchObject({ code: 'FORBIDDEN', event: eventB });
  });

  test('unknown event → NOT_FOUND', async () => {
    const c = await connect(url, userA.accessToken);
    c.send({ type: 'subscribe', event: 2_000_000_000 });
    expect(await c.nextType('error')).toMatchObject({ code: 'NOT_FOUND', event: 2_000_000_000 });
  });

  test('no token → UNAUTHENTICATED for a private event', async () => {
    const c = await connect(url);
    c.send({ type: 'subscribe', event: eventA });
    expect(await c.nextType('error')).toMatchObject({ code: 'UNAUTHENTICATED', event: eventA });
  });

  test.each([
    ['wrong signature', async () => new SignJWT({ id: userA.id, role: null, app_access: false, admin_access: false }).setProtectedHeader({ alg: 'HS256' }).setIssuer('directus').setIssuedAt().setExpirationTime('10m').sign(new TextEncoder().encode('not-the-secret'))],
    ['alg none', async () => new UnsecuredJWT({ id: userA.id }).setIssuer('directus').setIssuedAt().setExpirationTime('10m').encode()],
    ['garbage', async () => 'not-a-token'],
  ])('bad token (%s) → UNAUTHENTICATED, and private events stay closed', async (_name, make) => {
    const c = await connect(url, await make());
    expect(await c.nextType('error')).toMatchObject({ code: 'UNAUTHENTICATED' });
    c.send({ type: 'subscribe', event: eventA });
    expect(await c.nextType('error')).toMatchObject({ code: 'UNAUTHENTICATED', event: eventA });
  });

  test('expired token → TOKEN_EXPIRED', async () => {
    const t = trm();
    const expired = await new SignJWT({ id: userA.id, role: null, app_access: false, admin_access: false })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer('directus')
      .setIssuedAt(Math.floor(Date.now() / 1000) - 3600)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(new TextEncoder().encode(t.directusSecret));
    const c = await connect(url, expired);
    expect(await c.nextType('error')).toMatchObject({ code: 'TOKEN_EXPIRED' });
  });

  test('public event without a token → snapshot and live positions', async () => {
    const c = await connect(url);
    c.send({ type: 'subscribe', event: eventPublic });
    expect(await c.nextType('snapshot')).toMatchObject({ event: eventPublic, positions: [] });
    await publish(imeiPublic);
    expect(await c.next(isPosition(eventPublic, imeiPublic))).toMatchObject({ number: 301 });
  });

  test("a logged-in user of another organisation may follow a public event", async () => {
    const c = await connect(url, userA.accessToken);
    c.send({ type: 'subscribe', event: eventPublic });
    await c.nextType('snapshot');
  });

  test('malformed messages → BAD_REQUEST, the connection stays usable', async () => {
    const c = await connect(url);
    c.send({ type: 'subscribe', event: 'x' });
    expect(await c.nextType('error')).toMatchObject({ code: 'BAD_REQUEST' });
    c.send({ type: 'ping' });
    await c.nextType('pong');
  });

  test('/healthz and /metrics', async () => {
    const base = url.replace('ws://', 'http://').replace('/live', '');
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('trm_live_messages_delivered_total');
    expect(metrics).toContain('trm_live_errors_total{code="FORBIDDEN"}');
  });
});

describe('without DIRECTUS_SECRET: tokens checked through /users/me', () => {
  test('a real token is accepted, a forged one refused', async () => {
    const { url } = await startGateway({ DIRECTUS_SECRET: '' });
    const ok = await connect(url, userA.accessToken);
    expect(await ok.nextType('authenticated')).toMatchObject({ user: userA.id });
    ok.send({ type: 'subscribe', event: eventA });
    await ok.nextType('snapshot');
    const forged = await new SignJWT({ id: userA.id }).setProtectedHeader({ alg: 'HS256' }).setIssuer('directus').setExpirationTime('10m').sign(new TextEncoder().encode('nope'));
    const bad = await connect(url, forged);
    expect(await bad.nextType('error')).toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});

describe('sessions over time', () => {
  test('token expiry mid-session → TOKEN_EXPIRED and private subscriptions dropped; in-band re-auth restores', async () => {
    const t = trm();
    const { url } = await startGateway();
    // a Directus-shaped token (claims as Directus issues them, §3 of research/directus.md)
    const shortLived = await new SignJWT({ id: userA.id, role: t.roles.Viewer, app_access: false, admin_access: false })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer('directus')
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + 2)
      .sign(new TextEncoder().encode(t.directusSecret));
    const c = await connect(url, shortLived);
    c.send({ type: 'subscribe', event: eventA });
    c.send({ type: 'subscribe', event: eventPublic });
    await c.next((m) => m.type === 'snapshot' && m.event === eventA);
    await c.next((m) => m.type === 'snapshot' && m.event === eventPublic);
    expect(await c.next(isError('TOKEN_EXPIRED'))).toMatchObject({ events: [eventA] });
    // the private event no longer flows, the public one does
    await publish(imeiA);
    await publish(imeiPublic);
    await c.next(isPosition(eventPublic, imeiPublic));
    expect(c.messages.filter(isPosition(eventA))).toHaveLength(0);
    c.send({ type: 'auth', access_token: userA.accessToken });
    c.send({ type: 'subscribe', event: eventA });
    await c.next((m) => m.type === 'snapshot' && m.event === eventA);
    await publish(imeiA);
    await c.next(isPosition(eventA, imeiA));
  });

  test('permission revoked mid-session: the re-check drops the subscription', async () => {
    const { gw, url } = await startGateway();
    const mover = await createUser('Viewer', orgA.id, 'live-mover');
    const c = await connect(url, mover.accessToken);
    c.send({ type: 'subscribe', event: eventA });
    c.send({ type: 'subscribe', event: eventPublic });
    await c.next((m) => m.type === 'snapshot' && m.event === eventA);
    await c.next((m) => m.type === 'snapshot' && m.event === eventPublic);
    await publish(imeiA);
    await c.next(isPosition(eventA, imeiA));
    await adminApi().request('PATCH', `/users/${mover.id}`, { organization: orgB.id });
    await gw.recheckAll(0);
    expect(await c.next(isError('FORBIDDEN'))).toMatchObject({ event: eventA });
    const before = c.messages.filter(isPosition(eventA)).length;
    await publish(imeiA);
    await publish(imeiPublic);
    await c.next(isPosition(eventPublic, imeiPublic));
    expect(c.messages.filter(isPosition(eventA))).toHaveLength(before);
  });

  test('Directus down: existing subscriptions keep flowing, new ones get UNAVAILABLE', async () => {
    const t = trm();
    const real = createDirectusClient({ url: t.directusUrl, timeoutMs: 5000 });
    let down = false;
    const switchable: DirectusClient = {
      get: (path, token) => (down ? Promise.reject(gwError('UNAVAILABLE', 'Directus is unreachable')) : real.get(path, token)),
    };
    const { gw, url } = await startGateway({}, switchable);
    const c = await connect(url, userA.accessToken);
    c.send({ type: 'subscribe', event: eventA });
    await c.nextType('snapshot');
    down = true;
    await gw.recheckAll(0);
    await publish(imeiA);
    await c.next(isPosition(eventA, imeiA));
    const other = await connect(url, userA.accessToken);
    other.send({ type: 'subscribe', event: eventPublic });
    expect(await other.nextType('error')).toMatchObject({ code: 'UNAVAILABLE', event: eventPublic });
  });

  test('two gateway instances: the clients of each receive every position of their events', async () => {
    const one = await startGateway();
    const two = await startGateway();
    const c1 = await connect(one.url, userA.accessToken);
    const c2 = await connect(two.url);
    c1.send({ type: 'subscribe', event: eventA });
    c2.send({ type: 'subscribe', event: eventPublic });
    await c1.nextType('snapshot');
    await c2.nextType('snapshot');
    const c3 = await connect(two.url, userA.accessToken);
    c3.send({ type: 'subscribe', event: eventA });
    await c3.nextType('snapshot');
    const sent: number[] = [];
    for (let i = 0; i < 20; i++) {
      sent.push(await publish(imeiA));
      await publish(imeiPublic);
    }
    for (const c of [c1, c3]) {
      const last = await c.next((m) => isPosition(eventA, imeiA)(m) && m.ts === sent.at(-1));
      expect(last.entry).toBe(entryA);
    }
    await c2.next((m) => isPosition(eventPublic, imeiPublic)(m) && (m.ts as number) > sent.at(-1)!);
    expect(c2.messages.filter(isPosition(eventA))).toHaveLength(0);
  });

  test('a client that stops reading is closed with 4008 SLOW_CLIENT, others keep receiving', async () => {
    // many entries, so a stream read carries many distinct positions and the paused client's
    // socket buffers really fill (one entry would just coalesce)
    const admin = adminApi();
    const eventSlow = (await admin.request<{ id: number }>('POST', '/items/events', { organization: orgA.id, name: 'Live slow' })).id;
    const fleet = Array.from({ length: 1000 }, () => imei());
    await admin.request('POST', '/items/devices', fleet.map((i) => ({ imei: i, organization: orgA.id })));
    await admin.request('POST', '/items/entries', fleet.map((i, n) => ({ event: eventSlow, number: 1000 + n, device: i })));
    const { gw, url } = await startGateway({ LIVE_HIGH_WATER_BYTES: '1', LIVE_SLOW_CLIENT_TIMEOUT_MS: '100' });
    const slow = await connect(url, userA.accessToken);
    const healthy = await connect(url, userA.accessToken);
    for (const c of [slow, healthy]) {
      c.send({ type: 'subscribe', event: eventSlow });
      await c.nextType('snapshot');
    }
    slow.pause();
    for (let round = 0; round < 300 && gw.metrics.slowCloses.get() === 0; round++) {
      const pipe = tr.redis.pipeline();
      for (const i of fleet) pipe.xadd(tr.keys.positions, '*', 'imei', i, 'ts', String(++tsCounter), 'lat', '41', 'lon', '19', 'fix', '1');
      await pipe.exec();
      await healthy.next((m) => isPosition(eventSlow)(m) && m.ts === tsCounter, 'last position of the round');
    }
    expect(gw.metrics.slowCloses.get()).toBe(1);
    slow.resume();
    expect(await slow.waitClosed()).toMatchObject({ code: 4008, reason: 'SLOW_CLIENT' });
    const ts = await publish(fleet[0]);
    await healthy.next((m) => isPosition(eventSlow, fleet[0])(m) && m.ts === ts);
  });

  test('an assignment change reaches the live map on refresh', async () => {
    const { gw, url } = await startGateway();
    const c = await connect(url, userA.accessToken);
    c.send({ type: 'subscribe', event: eventA });
    await c.nextType('snapshot');
    const entry = await adminApi().request<{ id: number }>('POST', '/items/entries', { event: eventA, number: 103, device: imeiA2 });
    await gw.refreshEventMap();
    await publish(imeiA2);
    expect(await c.next(isPosition(eventA, imeiA2))).toMatchObject({ entry: entry.id, number: 103 });
  });
});

describe('dead peers', () => {
  test('a client that stops answering pings is terminated; one that answers stays', async () => {
    // 500 ms: a healthy peer's pong has a whole interval to come back even on a loaded host
    const { gw, url } = await startGateway({ LIVE_PING_INTERVAL_MS: '500' });
    const silent = await connect(url);
    const answering = await connect(url);
    for (const c of [silent, answering]) {
      c.send({ type: 'ping' });
      await c.nextType('pong');
    }
    expect(gw.hub.sessions.size).toBe(2);
    silent.pause(); // stops reading: the server's pings are never answered
    await eventually('the silent client to be terminated', () => gw.metrics.deadPeers.get() >= 1 && gw.hub.sessions.size === 1);
    silent.resume();
    expect((await silent.waitClosed()).code).toBe(1006); // terminated, no close handshake
    answering.send({ type: 'ping' });
    await answering.nextType('pong');
    expect(gw.metrics.deadPeers.get()).toBe(1);
    expect(answering.closed).toBeUndefined();
  });
});

describe('Redis down', () => {
  /** A throwaway redis-server of this test (never the shared one), no persistence. */
  async function startRedisServer(port: number): Promise<ChildProcess> {
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    const probe = createRedis(`redis://127.0.0.1:${port}`, { lazyConnect: true, retryStrategy: () => 50 });
    try {
      await eventually('the throwaway redis-server to answer', async () => (await probe.ping().catch(() => '')) === 'PONG', 10_000);
    } finally {
      probe.disconnect();
    }
    return child;
  }

  async function stopRedisServer(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  test('/healthz answers 503 while the gateway cannot reach Redis, and 200 again once it can', async () => {
    const port = await freePort();
    let server = await startRedisServer(port);
    const { gw, url } = await startGateway({}, undefined, `redis://127.0.0.1:${port}`);
    gateways.splice(gateways.indexOf(gw), 1); // closed here, while its Redis is up
    const healthz = async () => {
      const res = await fetch(url.replace('ws://', 'http://').replace('/live', '/healthz'));
      return { status: res.status, body: (await res.json()) as { ok: boolean; consumer: { healthy: boolean } } };
    };
    try {
      await eventually('/healthz 200 with Redis up', async () => (await healthz()).status === 200);
      await stopRedisServer(server);
      await eventually('/healthz 503 with Redis down', async () => (await healthz()).status === 503);
      expect((await healthz()).body).toMatchObject({ ok: false, consumer: { healthy: false } });
      server = await startRedisServer(port);
      await eventually('/healthz 200 once Redis is back', async () => (await healthz()).status === 200);
    } finally {
      if (server.exitCode !== null || server.signalCode !== null) server = await startRedisServer(port);
      await gw.close();
      await stopRedisServer(server);
    }
  });
});

describe('assignment changes on the refresh timer', () => {
  test('a device newly assigned to an entry reaches subscribers without a manual refresh', async () => {
    // a short interval stands in for the 5 s default (max 10 s): the deadline is the timer's
    const { url } = await startGateway({ LIVE_EVENT_MAP_REFRESH_MS: '200' });
    const c = await connect(url, userA.accessToken);
    c.send({ type: 'subscribe', event: eventA });
    await c.nextType('snapshot');
    const device = imei();
    await adminApi().request('POST', '/items/devices', { imei: device, organization: orgA.id });
    const entry = await adminApi().request<{ id: number }>('POST', '/items/entries', { event: eventA, number: 104, crew: 'Crew late', device });
    // publish until one arrives: the map was reloaded by the timer, nobody called refreshEventMap()
    let got: Msg | undefined;
    await eventually('a position of the newly assigned device', async () => {
      await publish(device);
      got = c.messages.find(isPosition(eventA, device));
      return got !== undefined;
    });
    expect(got).toMatchObject({ entry: entry.id, number: 104, crew: 'Crew late', imei: device });
    // and a change of the entry's number reaches the next positions the same way
    await adminApi().request('PATCH', `/items/entries/${entry.id}`, { number: 105 });
    await eventually('a position with the new number', async () => {
      await publish(device);
      return c.messages.some((m) => isPosition(eventA, device)(m) && m.number === 105);
    });
  });
});

describe('safety alerts (issue 13): race control only', () => {
  // the trm-safety hook of this run's Directus publishes under directusRedisPrefix
  const alertEnv = () => ({ TRM_REDIS_PREFIX: trm().directusRedisPrefix });
  const isAlert = (id: number, change?: string) => (m: Msg) => m.type === 'alert' && m.id === id && (change === undefined || m.change === change);
  let officialB: TestUser;
  let competitor: TestUser;
  let publicEntry: number;

  beforeAll(async () => {
    officialB = await createUser('Timing official', orgB.id, 'live-official-b');
    competitor = await createUser('Competitor', null, 'live-rider');
    const rows = await adminApi().request<{ id: number }[]>('GET', `/items/entries?filter=${encodeURIComponent(JSON.stringify({ event: { _eq: eventPublic } }))}&fields=id`);
    publicEntry = rows[0].id;
  });

  /** A client that has subscribed and got its snapshot(s). */
  async function subscribed(url: string, event: number, token?: string): Promise<WsTestClient> {
    const c = await connect(url, token);
    c.send({ type: 'subscribe', event });
    await c.next((m) => m.type === 'snapshot' && m.event === event);
    return c;
  }

  test("an official of the event's organisation gets opened, acknowledged and closed; a viewer of another organisation, a competitor and the public on the public event get nothing", async () => {
    const { url } = await startGateway(alertEnv());
    const official = await subscribed(url, eventPublic, officialB.accessToken);
    expect(official.messages.find((m) => m.type === 'alerts')).toMatchObject({ event: eventPublic });
    const others = [await subscribed(url, eventPublic, userA.accessToken), await subscribed(url, eventPublic, competitor.accessToken), await subscribed(url, eventPublic)];
    const alert = await adminApi().request<{ id: number }>('POST', '/items/alerts', { entry: publicEntry, kind: 'crash', note: 'test: live gateway' });
    expect(await official.next(isAlert(alert.id, 'opened'), 'opened')).toMatchObject({ event: eventPublic, entry: publicEntry, number: 301, kind: 'crash', status: 'open', device: imeiPublic });
    await officialB.api.request('PATCH', `/items/alerts/${alert.id}`, { status: 'acknowledged', note: 'marshal dispatched' });
    expect(await official.next(isAlert(alert.id, 'acknowledged'), 'acknowledged')).toMatchObject({ status: 'acknowledged', by: officialB.id, note: 'marshal dispatched' });
    await officialB.api.request('PATCH', `/items/alerts/${alert.id}`, { status: 'closed' });
    expect(await official.next(isAlert(alert.id, 'closed'), 'closed')).toMatchObject({ status: 'closed', by: officialB.id });
    // each alert went to every socket in one synchronous fan-out, before the official's copy:
    // a pong answered after it arrives after anything the others would have been sent
    for (const c of others) {
      c.send({ type: 'ping' });
      await c.nextType('pong');
      expect(c.messages.filter((m) => m.type === 'alert' || m.type === 'alerts')).toEqual([]);
    }
  });

  test('on subscribe: the alerts not closed as a snapshot, then the stream from there; position subscribers of their own organisation keep positions', async () => {
    const { url } = await startGateway(alertEnv());
    const alert = await adminApi().request<{ id: number }>('POST', '/items/alerts', { entry: publicEntry, kind: 'sos' });
    const official = await subscribed(url, eventPublic, officialB.accessToken);
    const snapshot = official.messages.find((m) => m.type === 'alerts')!; // sent before the positions snapshot
    expect((snapshot.alerts as Msg[]).map((a) => a.id)).toContain(alert.id);
    expect((snapshot.alerts as Msg[]).find((a) => a.id === alert.id)).toMatchObject({ kind: 'sos', status: 'open', entry: publicEntry, number: 301 });
    // the opening came before the snapshot's stream id: not sent again
    await officialB.api.request('PATCH', `/items/alerts/${alert.id}`, { status: 'closed' });
    await official.next(isAlert(alert.id, 'closed'), 'closed');
    expect(official.messages.filter(isAlert(alert.id, 'opened'))).toEqual([]);
    // an official of orgA on its own (private) event: an alerts snapshot too, empty
    const officialA = await createUser('Timing official', orgA.id, 'live-official-a');
    const own = await subscribed(url, eventA, officialA.accessToken);
    expect(own.messages.find((m) => m.type === 'alerts')).toMatchObject({ event: eventA, alerts: [] });
  });

  test('the re-check withdraws the alert feed of a user moved to another organisation', async () => {
    const { gw, url } = await startGateway(alertEnv());
    const mover = await createUser('Timing official', orgB.id, 'live-official-mover');
    const c = await subscribed(url, eventPublic, mover.accessToken);
    expect(c.messages.find((m) => m.type === 'alerts')).toMatchObject({ event: eventPublic });
    await adminApi().request('PATCH', `/users/${mover.id}`, { organization: orgA.id });
    await gw.recheckAll(0);
    const watcher = await subscribed(url, eventPublic, officialB.accessToken);
    const alert = await adminApi().request<{ id: number }>('POST', '/items/alerts', { entry: publicEntry, kind: 'towing' });
    await watcher.next(isAlert(alert.id, 'opened'), 'opened');
    c.send({ type: 'ping' });
    await c.nextType('pong');
    expect(c.messages.filter((m) => m.type === 'alert')).toEqual([]);
    await officialB.api.request('PATCH', `/items/alerts/${alert.id}`, { status: 'closed' });
  });
});
