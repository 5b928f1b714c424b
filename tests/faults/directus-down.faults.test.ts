/**
 * Scenario 5 of issue 12, and the live channel's abuse cases, against real processes: a
 * Directus of this file's own (own database and port, so it can be stopped), `trm ingest`,
 * `trm writer` and `trm gateway` child processes, simulated devices driving a stage.
 *
 * Directus is stopped for FAULTS_DIRECTUS_DOWN_MS (15 s in CI; 60000 for the full minute).
 * Meanwhile ingestion and storage carry on, a live subscription made before the outage keeps
 * receiving positions, and a new subscription gets UNAVAILABLE (token checks still work locally
 * with the secret). After Directus is back, new subscriptions work; stored = sent; the stage
 * recomputed over the stored fixes equals a clean run.
 *
 * Then the abuse table on the same gateway: no token, forged tokens (wrong secret, alg none,
 * expired), another organisation's event, an oversized message, floods of messages; each gets
 * its code or close code, the gateway stays up with bounded memory, and the subscriber from
 * before keeps receiving.
 */
import { SignJWT, UnsecuredJWT } from 'jose';
import net from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { pgConfig } from '../../common/src/pg.ts';
import { createRedis, type Redis } from '../../common/src/redis.ts';
import { redisKeys } from '../../common/src/redis-keys.ts';
import { groupState } from '../../db-writer/src/testing/harness.ts';
import { WsTestClient, type Msg } from '../../live-gateway/src/testing/ws-client.ts';
import { bootOwnDirectus, type OwnDirectus } from './own-directus.ts';
import { compareSets, DeviceFleet, figures, freePort, knob, rssKb, seconds, sleep, spawnService, storedKeys, waitFor, waitHttp, waitTcp, type Service } from './support.ts';
import { checkTiming, createTimingCourse, type TimingCourse } from './timing.ts';

const DOWN_MS = knob('FAULTS_DIRECTUS_DOWN_MS', 15_000);

const positionsOf = (c: WsTestClient) => c.messages.filter((m) => m.type === 'position').length;

describe('Directus down: telemetry and running live subscriptions carry on', () => {
  let dx: OwnDirectus;
  let pool: pg.Pool;
  let redis: Redis;
  let course: TimingCourse;
  let otherEvent: number;
  let fleet: DeviceFleet | undefined;
  const services: Service[] = [];
  const clients: WsTestClient[] = [];
  let liveUrl = '';
  let gateway: Service;
  let viewer: { id: string; accessToken: string };

  beforeAll(async () => {
    dx = await bootOwnDirectus('faultsdx');
    pool = new pg.Pool(pgConfig(dx.databaseUrl, process.env, { max: 4 }));
    pool.on('error', () => {});
    redis = createRedis(dx.redisUrl);
    course = await createTimingCourse(dx.admin, 20);
    const other = await createTimingCourse(dx.admin, 1);
    otherEvent = other.sc.event;
  });
  afterAll(async () => {
    fleet?.stop();
    for (const c of clients) c.close();
    for (const s of services) await s.kill9();
    const keys = redisKeys(dx?.redisPrefix ?? 'none:');
    const found = dx ? await redis.keys(`${keys.prefix}*`) : [];
    if (found.length) await redis.del(...found);
    redis?.disconnect();
    await pool?.end();
    await dx?.destroy();
  });

  const open = async (token?: string) => {
    const c = await WsTestClient.open(token ? `${liveUrl}?access_token=${encodeURIComponent(token)}` : liveUrl);
    clients.push(c);
    return c;
  };

  test('ingestion, storage and running subscriptions carry on; new subscriptions UNAVAILABLE, then work again', async () => {
    const ingestPort = await freePort();
    const livePort = await freePort();
    liveUrl = `ws://127.0.0.1:${livePort}/live`;
    const common = { REDIS_URL: dx.redisUrl, TRM_REDIS_PREFIX: dx.redisPrefix };
    const ing = spawnService('ingest', { ...common, INGEST_PORT: String(ingestPort), INGEST_ADMIN_PORT: '0', INGEST_ACCEPT: 'any', INGEST_INSTANCE_ID: 'faults-dx' });
    const wr = spawnService('writer', { ...common, DATABASE_URL: dx.databaseUrl, WRITER_ADMIN_PORT: '0', WRITER_CONSUMER: 'faults-dx-writer' });
    gateway = spawnService('gateway', {
      ...common, DATABASE_URL: dx.databaseUrl, LIVE_PORT: String(livePort), LIVE_HOST: '127.0.0.1', DIRECTUS_URL: dx.url, DIRECTUS_SECRET: dx.secret,
      DIRECTUS_TOKEN: dx.serviceToken, LIVE_EVENT_MAP_REFRESH_MS: '500', LIVE_DIRECTUS_TIMEOUT_MS: '2000',
    });
    services.push(ing, wr, gateway);
    await waitTcp(ingestPort);
    await waitHttp(`http://127.0.0.1:${livePort}/healthz`, gateway);

    viewer = await dx.createUser('Viewer', course.organization, 'viewer');
    const late = await dx.createUser('Viewer', course.organization, 'late');
    const before = await open(viewer.accessToken);
    before.send({ type: 'subscribe', event: course.sc.event });
    await before.nextType('snapshot');

    fleet = new DeviceFleet({ port: ingestPort, records: course.records, perTick: 1, tickMs: 50 });
    const total = fleet.total;
    await waitFor('positions flowing to the subscriber', () => positionsOf(before) > 50, { timeoutMs: 60_000 });

    const count = async () => Number((await pool.query('SELECT count(*) AS n FROM positions')).rows[0].n);
    await dx.stop();
    const stoppedAt = Date.now();
    const at = { acked: fleet.acked, stored: await count(), live: positionsOf(before) };
    // a new subscription while Directus is away: the token is checked locally, the access cannot be
    const during = await open(late.accessToken);
    during.send({ type: 'subscribe', event: course.sc.event });
    const unavailable = await during.next((m) => m.type === 'error' || m.type === 'snapshot', 'answer to subscribe', 30_000);
    await sleep(Math.max(0, DOWN_MS - (Date.now() - stoppedAt)));
    const whileDown = { acked: fleet.acked - at.acked, stored: (await count()) - at.stored, live: positionsOf(before) - at.live };
    const restartAt = Date.now();
    await dx.restart();
    const directusBackS = seconds(Date.now() - restartAt);
    // after Directus is back a new subscription works (retry with back-off, as a client would)
    let subscribedAfter: Msg | undefined;
    const retryStart = Date.now();
    await waitFor('a new subscription after Directus is back', async () => {
      const c = await open(late.accessToken);
      c.send({ type: 'subscribe', event: course.sc.event });
      const m = await c.next((x) => x.type === 'error' || x.type === 'snapshot', 'answer', 15_000);
      if (m.type === 'snapshot') subscribedAfter = m;
      return m.type === 'snapshot';
    }, { timeoutMs: 60_000, intervalMs: 500 });
    const newSubscriptionS = seconds(Date.now() - retryStart);

    await waitFor('every record ACKed', () => fleet!.done(), { timeoutMs: 180_000, intervalMs: 100 });
    const keys = redisKeys(dx.redisPrefix);
    await waitFor('everything written', async () => {
      const g = await groupState(redis, keys.positions);
      return g.pending === 0 && g.lag === 0;
    }, { timeoutMs: 120_000, intervalMs: 100 });
    fleet.stop();
    expect(await wr.stop()).toBe(0);
    expect(await ing.stop()).toBe(0);
    const sent = fleet.sentKeys();
    const stored = await storedKeys(pool, course.sc.devices);
    const diff = compareSets(sent, stored);
    const timing = await checkTiming({ directusUrl: dx.url, serviceToken: dx.serviceToken, admin: dx.admin, pipeline: pool, course });
    figures('directus-down', {
      devices: course.sc.devices.length, sent: sent.size, stored: stored.rows, ...diff, downS: seconds(DOWN_MS), whileDown,
      newSubscriptionDuringOutage: unavailable.type === 'error' ? unavailable.code : unavailable.type, directusBackS, newSubscriptionAfterS: newSubscriptionS,
      liveReceivedTotal: positionsOf(before), timing,
    });
    expect(whileDown.acked).toBeGreaterThan(0);
    expect(whileDown.stored).toBeGreaterThan(0);
    expect(whileDown.live).toBeGreaterThan(0);
    expect(before.closed).toBeUndefined();
    expect(unavailable).toMatchObject({ type: 'error', code: 'UNAVAILABLE' });
    expect(subscribedAfter).toMatchObject({ type: 'snapshot', event: course.sc.event });
    expect(diff).toEqual({ missing: 0, extra: 0, duplicates: 0 });
    expect(stored.rows).toBe(total);
    expect(timing.finished).toBe(timing.entries);
    expect(timing.changesVsClean).toBe(0);
  });

  test('live channel abuse: every hostile client gets its code, the gateway stays up, the subscriber keeps receiving', async () => {
    const secret = new TextEncoder().encode(dx.secret);
    const claims = { id: viewer.id, role: dx.roles.Viewer, app_access: false, admin_access: false };
    const forged: [string, string | undefined, string][] = [
      ['no token', undefined, 'UNAUTHENTICATED'],
      ['garbage token', 'not-a-jwt', 'UNAUTHENTICATED'],
      ['wrong secret', await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuer('directus').setIssuedAt().setExpirationTime('10m').sign(new TextEncoder().encode('not-the-secret')), 'UNAUTHENTICATED'],
      ['alg none', new UnsecuredJWT(claims).setIssuer('directus').setIssuedAt().setExpirationTime('10m').encode(), 'UNAUTHENTICATED'],
      ['expired', await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuer('directus').setIssuedAt(Math.floor(Date.now() / 1000) - 3600).setExpirationTime(Math.floor(Date.now() / 1000) - 60).sign(secret), 'TOKEN_EXPIRED'],
      ['another organisation’s event', viewer.accessToken, 'FORBIDDEN'],
    ];
    // a subscriber that must not notice any of this: positions keep coming while the abuse runs
    const keeper = await open(viewer.accessToken);
    keeper.send({ type: 'subscribe', event: course.sc.event });
    await keeper.nextType('snapshot');
    const rssBefore = rssKb(gateway.pid);
    const results: Record<string, unknown> = {};
    for (const [name, token, code] of forged) {
      const c = await open();
      if (token) c.send({ type: 'auth', access_token: token });
      c.send({ type: 'subscribe', event: name === 'another organisation’s event' ? otherEvent : course.sc.event });
      const m = await c.next((x) => x.type === 'error', `${name} → error`, 15_000);
      results[name] = m.code;
      expect(m.code, name).toBe(code);
      c.close();
    }
    // oversized message: above the 16 KiB cap → closed with a policy/size code
    const big = await open(viewer.accessToken);
    big.send({ type: 'subscribe', event: course.sc.event, pad: 'x'.repeat(20_000) });
    results.oversized = (await big.waitClosed()).code;
    expect([1008, 1009]).toContain(results.oversized);
    // floods: 20,000 pings from a client that does not read; 5,000 subscribes of a forbidden event
    const flood = await open(viewer.accessToken);
    flood.pause();
    for (let i = 0; i < 20_000; i++) flood.send({ type: 'ping' });
    const subFlood = await open(viewer.accessToken);
    for (let i = 0; i < 5_000; i++) subFlood.send({ type: 'subscribe', event: otherEvent });
    await waitFor('the subscribe flood answered or closed', () => subFlood.closed || subFlood.messages.filter((m) => m.type === 'error').length >= 5_000, { timeoutMs: 120_000, intervalMs: 200 });
    flood.resume();
    await waitFor('the ping flood answered or closed', () => flood.closed || flood.messages.filter((m) => m.type === 'pong').length >= 20_000, { timeoutMs: 120_000, intervalMs: 200 });
    results.pingFlood = flood.closed ? `closed ${flood.closed.code}` : `${flood.messages.length} pongs`;
    results.subscribeFlood = subFlood.closed ? `closed ${subFlood.closed.code}` : `${subFlood.messages.filter((m) => m.code === 'FORBIDDEN').length} FORBIDDEN`;
    // the gateway is alive and the keeper still receives: push a few more positions
    const keeperBefore = positionsOf(keeper);
    const device = course.sc.devices[0];
    const ingestPort = await freePort();
    const ing = spawnService('ingest', { REDIS_URL: dx.redisUrl, TRM_REDIS_PREFIX: dx.redisPrefix, INGEST_PORT: String(ingestPort), INGEST_ADMIN_PORT: '0', INGEST_ACCEPT: 'any', INGEST_INSTANCE_ID: 'faults-dx-2' });
    services.push(ing);
    await waitTcp(ingestPort);
    const last = course.records.get(device)!.at(-1)!;
    const extra = new Map([[device, Array.from({ length: 20 }, (_, i) => ({ ...last, timestampMs: last.timestampMs + (i + 1) * 1000 }))]]);
    const more = new DeviceFleet({ port: ingestPort, records: extra, perTick: 5, tickMs: 50 });
    await waitFor('the keeper receiving again', () => positionsOf(keeper) > keeperBefore, { timeoutMs: 30_000 });
    more.stop();
    await ing.stop();
    // regression (a subscribe flood queued without bound): Directus accepts but never answers,
    // so each subscribe waits out LIVE_DIRECTUS_TIMEOUT_MS; the flooder is closed with 1008
    const blackHole = net.createServer(() => {});
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', () => resolve()));
    const slowPort = await freePort();
    const slowGateway = spawnService('gateway', {
      REDIS_URL: dx.redisUrl, TRM_REDIS_PREFIX: dx.redisPrefix, DATABASE_URL: dx.databaseUrl, LIVE_PORT: String(slowPort), LIVE_HOST: '127.0.0.1',
      DIRECTUS_URL: `http://127.0.0.1:${(blackHole.address() as net.AddressInfo).port}`, DIRECTUS_SECRET: dx.secret, LIVE_DIRECTUS_TIMEOUT_MS: '5000',
    });
    services.push(slowGateway);
    await waitHttp(`http://127.0.0.1:${slowPort}/healthz`, slowGateway);
    const slowUrl = `ws://127.0.0.1:${slowPort}/live?access_token=${encodeURIComponent(viewer.accessToken)}`;
    const flooder = await WsTestClient.open(slowUrl);
    const bystander = await WsTestClient.open(slowUrl);
    clients.push(flooder, bystander);
    for (let i = 0; i < 2_000; i++) flooder.send({ type: 'subscribe', event: course.sc.event + (i % 8) });
    results.subscribeFloodSlowDirectus = (await flooder.waitClosed()).code;
    bystander.send({ type: 'ping' });
    await bystander.nextType('pong');
    blackHole.close();
    expect(results.subscribeFloodSlowDirectus).toBe(1008);
    const health = await fetch(liveUrl.replace('ws:', 'http:').replace('/live', '/healthz'));
    results.gatewayHealthz = health.status;
    results.rssGrowthMb = Math.round((rssKb(gateway.pid) - rssBefore) / 102.4) / 10;
    figures('live-abuse', results);
    expect(keeper.closed).toBeUndefined();
    expect(gateway.child.exitCode).toBe(null);
  });
});
