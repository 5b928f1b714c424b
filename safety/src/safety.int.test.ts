/**
 * Issue 13 end to end on the real Redis, Postgres and Directus (TRM schema, roles, the
 * trm-safety and trm-timing hooks): simulated Teltonika devices over TCP → an in-process ingest
 * daemon → group `safety` → the safety service → alerts through Directus → the hook's entries
 * on safety:alerts. Tracks (testing/tracks.ts) carry device times in the last half hour, so
 * the stop rule (device time) needs no waiting; silence (server time) uses an event whose
 * alert_silence_s is 2 s.
 *
 *   event A (stop 180 s, silence 1 h, corridor 500 m, a neutralisation zone at 8.0–8.4 km):
 *     sos, crash, towing, unplug, stopped, off course, spike (wild fix + zero-speed glitch),
 *     faulty (panic record flagged before), flagged-later (panic record flagged after its
 *     alert), neutralised (a stop inside the zone), competitor (a clean run)
 *   event B (silence 2 s): silent (drives, then nothing), sos-silent (panic, then nothing)
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { silentLogger } from '../../common/src/log.ts';
import { redisKeys } from '../../common/src/redis-keys.ts';
import { createRedis, type Redis } from '../../common/src/redis.ts';
import { createTestRedis, type TestRedis } from '../../common/src/testing/redis.ts';
import { rest } from '../../directus/src/rest.ts';
import { at } from '../../functions/src/core/timing/test-fixtures.ts';
import { loadIngestConfig } from '../../ingest-daemon/src/config.ts';
import { startIngest, type RunningIngest } from '../../ingest-daemon/src/main.ts';
import { adminApi, createOrg, createUser, trm, type TestOrg, type TestUser } from '../../tests/directus-client.ts';
import { parseStreamFields, type AlertMessage } from './alert-stream.ts';
import { startSafetyService, type SafetyService } from './main.ts';
import { GROUP } from './stream.ts';
import { createSafetyRally, playTrack, type SafetyRally } from './testing/scenario.ts';
import { Track } from './testing/tracks.ts';
import { waitFor } from '../../common/src/testing/wait.ts';

const NOW = Date.now();
const T0 = NOW - 30 * 60_000; // the stage started half an hour ago; tracks start then

interface AlertRow {
  id: number;
  key: string;
  event: number;
  stage: number | null;
  entry: number;
  device: string;
  kind: string;
  severity: string;
  status: string;
  position: { type: string; coordinates: number[] } | null;
  evidence: { rule: string; fixes: { ts: string }[] };
  opened_at: string;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
  closed_at: string | null;
  closed_by: string | null;
  note: string | null;
}

const tracks = {
  sos: () => new Track(T0).drive(3000, 0, 80).record({ priority: 2 }).drive(3040, 0, 10).record({ priority: 2 }).drive(5000, 0, 80),
  crash: () => new Track(T0).drive(3000, 0, 80).record({ eventIo: 247, io: { 247: 1 } }).drive(3100, 0, 20),
  towing: () => new Track(T0).drive(2000, 0, 80).record({ eventIo: 246, io: { 246: 1 } }).drive(2200, 0, 20),
  unplug: () => new Track(T0).drive(2000, 0, 80).record({ eventIo: 252, io: { 252: 1 } }).drive(2500, 0, 80),
  stopped: () => new Track(T0).drive(3000, 0, 80).stay(240_000).drive(6000, 0, 80),
  offCourse: () => new Track(T0).drive(3000, 0, 80).drive(3000, 1000, 60).drive(4500, 1000, 60).drive(4500, 0, 60).drive(6000, 0, 80),
  spike: () => new Track(T0).drive(3000, 0, 80).patchLast({ y: 5000 }).drive(4000, 0, 80).patchLast({ speedKmh: 0 }).drive(6000, 0, 80),
  panicAt3000: () => new Track(T0).drive(3000, 0, 80).record({ priority: 2 }).drive(3500, 0, 80),
  clean: () => new Track(T0).drive(6000, 0, 90),
  neutralised: () => new Track(T0).drive(8200, 0, 90).stay(240_000).drive(9000, 0, 90),
};
/** event A's neutralisation zone (a geofence Polygon): x 8000 → 8400 m, y −100 → 100 m */
const ZONE = [[at(8000, -100), at(8400, -100), at(8400, 100), at(8000, 100), at(8000, -100)]];
/** device time of the panic record of panicAt3000 (3000 m at 80 km/h, a fix a second) */
const PANIC_AT = T0 + 135_000;

describe('safety alerts end to end', () => {
  let org: TestOrg;
  let official: TestUser;
  let competitor: TestUser;
  let otherOfficial: TestUser;
  let A: SafetyRally;
  let B: SafetyRally;
  let r: TestRedis;
  let ingest: RunningIngest;
  let safety: SafetyService;
  let hookRedis: Redis;
  const hookStream = () => redisKeys(trm().directusRedisPrefix).alerts;

  const alertsOf = async (event: number): Promise<AlertRow[]> =>
    adminApi().request<AlertRow[]>('GET', `/items/alerts?limit=-1&sort=id&filter=${encodeURIComponent(JSON.stringify({ event: { _eq: event } }))}`);
  const byKind = (rows: AlertRow[], entry: number) => rows.filter((a) => a.entry === entry).map((a) => a.kind).sort();
  const messages = async (events: number[]): Promise<AlertMessage[]> =>
    (await hookRedis.xrange(hookStream(), '-', '+')).map(([, f]) => parseStreamFields(f)).filter((m): m is AlertMessage => m !== null && events.includes(m.event));
  /** every record in the stream is processed and acknowledged by group safety */
  const drained = () =>
    waitFor('group safety drained', async () => {
      const info = (await r.redis.call('XINFO', 'GROUPS', r.keys.positions)) as unknown[][];
      const g = info.map((x) => Object.fromEntries(x.reduce<[string, unknown][]>((acc, v, i, all) => (i % 2 === 0 ? [...acc, [String(v), all[i + 1]]] : acc), []))).find((x) => x.name === GROUP);
      return g && Number(g.lag) === 0 && Number(g.pending) === 0;
    });
  const play = (rally: SafetyRally, name: string, track: Track) => playTrack({ host: '127.0.0.1', port: ingest.port, imei: rally.devices[name], track });

  beforeAll(async () => {
    org = await createOrg('safety');
    official = await createUser('Timing official', org.id, 'official');
    competitor = await createUser('Competitor', null, 'rider');
    otherOfficial = await createUser('Timing official', (await createOrg('other')).id, 'other-official');
    A = await createSafetyRally(adminApi(), { organization: org.id, nowMs: NOW, stageStartMs: T0, names: ['sos', 'crash', 'towing', 'unplug', 'stopped', 'offCourse', 'spike', 'faulty', 'flaggedLater', 'neutralised', 'competitor'], silenceS: 3600, competitorUser: competitor.id, neutralZones: [ZONE] });
    B = await createSafetyRally(adminApi(), { organization: org.id, nowMs: NOW, stageStartMs: T0, names: ['silent', 'sosSilent'], silenceS: 2 });
    // flagged before anything is sent: the panic record of "faulty" never raises
    await adminApi().request('POST', '/items/position_flags', { device: A.devices.faulty, from: new Date(PANIC_AT - 500).toISOString(), to: new Date(PANIC_AT + 500).toISOString(), faulty: true, reason: 'test: panic button shorted' });
    r = await createTestRedis('safety');
    hookRedis = createRedis(trm().redisUrl);
    const ingestEnv = { REDIS_URL: r.url, TRM_REDIS_PREFIX: r.keys.prefix, INGEST_PORT: '0', INGEST_ADMIN_PORT: '0', INGEST_ACCEPT: 'any', INGEST_INSTANCE_ID: 'safety-test' };
    ingest = await startIngest(loadIngestConfig(ingestEnv), ingestEnv, silentLogger());
    safety = await startSafetyService(
      { DATABASE_URL: trm().directusDatabaseUrl, REDIS_URL: r.url, TRM_REDIS_PREFIX: r.keys.prefix, DIRECTUS_URL: trm().directusUrl, DIRECTUS_TOKEN: trm().serviceToken, SAFETY_ADMIN_PORT: '0', SAFETY_REFRESH_MS: '200', SAFETY_TICK_MS: '100', SAFETY_READ_BLOCK_MS: '200' },
      { log: silentLogger() },
    );
  });

  afterAll(async () => {
    await safety?.close();
    await ingest?.close();
    hookRedis?.disconnect();
    await r?.cleanup();
  });

  test('replayed tracks raise each kind exactly once; a GPS spike, a zero-speed glitch, a stop in a neutralisation zone, a clean run and a faulty-flagged panic record raise nothing', async () => {
    await Promise.all([
      play(A, 'sos', tracks.sos()),
      play(A, 'crash', tracks.crash()),
      play(A, 'towing', tracks.towing()),
      play(A, 'unplug', tracks.unplug()),
      play(A, 'stopped', tracks.stopped()),
      play(A, 'offCourse', tracks.offCourse()),
      play(A, 'spike', tracks.spike()),
      play(A, 'faulty', tracks.panicAt3000()),
      play(A, 'neutralised', tracks.neutralised()),
      play(A, 'competitor', tracks.clean()),
    ]);
    await drained();
    const rows = await alertsOf(A.event);
    const e = A.entries;
    expect(byKind(rows, e.sos)).toEqual(['sos']);
    expect(byKind(rows, e.crash)).toEqual(['crash']);
    expect(byKind(rows, e.towing)).toEqual(['towing']);
    expect(byKind(rows, e.unplug)).toEqual(['unplug']);
    expect(byKind(rows, e.stopped)).toEqual(['stopped']);
    expect(byKind(rows, e.offCourse)).toEqual(['off_course']);
    expect(byKind(rows, e.spike)).toEqual([]);
    expect(byKind(rows, e.faulty)).toEqual([]);
    expect(byKind(rows, e.neutralised)).toEqual([]);
    expect(byKind(rows, e.competitor)).toEqual([]);
    expect(rows).toHaveLength(6);

    const sos = rows.find((a) => a.entry === e.sos)!;
    expect(sos).toMatchObject({ key: `${e.sos}:sos`, event: A.event, stage: A.stage, device: A.devices.sos, severity: 'critical', status: 'open', closed_at: null });
    expect(sos.position?.type).toBe('Point');
    expect(sos.evidence.rule).toContain('priority 2');
    expect(Date.parse(sos.evidence.fixes[0].ts)).toBe(PANIC_AT);
    // condition kinds close themselves when the condition clears, stamped by the service account
    for (const kind of ['stopped', 'off_course']) {
      const a = rows.find((x) => x.kind === kind)!;
      expect(a.status).toBe('closed');
      expect(a.note).toMatch(/^auto-closed: (moving again|back on course)$/);
      expect(a.closed_by).not.toBeNull();
      expect(a.closed_at).not.toBeNull();
    }
    // one "opened" message per alert on safety:alerts, and a "closed" one per auto-close
    const published = await waitFor('published changes', async () => {
      const got = await messages([A.event]);
      return got.length >= rows.length + 2 && got;
    });
    expect(published.filter((m) => m.change === 'opened').map((m) => m.id).sort()).toEqual(rows.map((a) => a.id).sort());
    expect(published.filter((m) => m.change === 'closed').map((m) => m.kind).sort()).toEqual(['off_course', 'stopped']);
    expect(published.find((m) => m.id === sos.id)).toMatchObject({ event: A.event, entry: e.sos, number: expect.any(Number), kind: 'sos', severity: 'critical', status: 'open', position: { type: 'Point' } });
  });

  test('an SOS and then silence raise two alerts, one per kind, and no duplicates while the device stays silent', async () => {
    await Promise.all([play(B, 'silent', new Track(T0).drive(2000, 0, 80)), play(B, 'sosSilent', tracks.panicAt3000().record({ priority: 2 }))]);
    const rows = await waitFor('silent alerts', async () => {
      const got = await alertsOf(B.event);
      return got.filter((a) => a.kind === 'silent').length === 2 && got;
    });
    expect(byKind(rows, B.entries.silent)).toEqual(['silent']);
    expect(byKind(rows, B.entries.sosSilent)).toEqual(['silent', 'sos']);
    const silent = rows.find((a) => a.entry === B.entries.silent)!;
    expect(silent).toMatchObject({ severity: 'high', status: 'open' });
    expect(silent.evidence.fixes).toHaveLength(1);
    // more ticks pass (another device's records go through the loop): still one per kind
    await play(A, 'competitor', new Track(T0 + 20 * 60_000, 6000).drive(6500, 0, 90));
    await drained();
    await waitFor('another refresh', async () => (await safety.safety.health()).lastRefreshAt !== null && Date.parse(String((await safety.safety.health()).lastRefreshAt)) > Date.now() - 1000);
    expect(byKind(await alertsOf(B.event), B.entries.sosSilent)).toEqual(['silent', 'sos']);
    // heard again: silent closes itself
    await play(B, 'silent', new Track(Date.now() - 1000, 2000).drive(2100, 0, 80));
    await waitFor('silent auto-closed', async () => (await alertsOf(B.event)).find((a) => a.id === silent.id)?.status === 'closed');
  });

  test('a timing official acknowledges then closes an alert through Directus REST; who and when are stamped and audited', async () => {
    const sos = (await alertsOf(A.event)).find((a) => a.entry === A.entries.sos)!;
    await official.api.request('PATCH', `/items/alerts/${sos.id}`, { status: 'acknowledged', note: 'marshal at km 3 dispatched' });
    const acked = await adminApi().request<AlertRow>('GET', `/items/alerts/${sos.id}`);
    expect(acked).toMatchObject({ status: 'acknowledged', acknowledged_by: official.id, closed_at: null });
    expect(Date.parse(acked.acknowledged_at!)).toBeGreaterThan(NOW - 60_000);
    // the stamps are the workflow's, not the caller's; closed is final
    await expect(official.api.request('PATCH', `/items/alerts/${sos.id}`, { acknowledged_by: otherOfficial.id })).rejects.toMatchObject({ status: 400 });
    await expect(official.api.request('PATCH', `/items/alerts/${sos.id}`, { kind: 'crash' })).rejects.toMatchObject({ status: 400 });
    await expect(official.api.request('PATCH', `/items/alerts/${sos.id}`, { status: 'open' })).rejects.toMatchObject({ status: 400, details: { directusCode: 'SAFETY_BAD_TRANSITION' } });
    await official.api.request('PATCH', `/items/alerts/${sos.id}`, { status: 'closed', note: 'rider OK, continuing' });
    const closed = await adminApi().request<AlertRow>('GET', `/items/alerts/${sos.id}`);
    expect(closed).toMatchObject({ status: 'closed', acknowledged_by: official.id, closed_by: official.id, note: 'rider OK, continuing' });
    await expect(official.api.request('PATCH', `/items/alerts/${sos.id}`, { status: 'acknowledged' })).rejects.toMatchObject({ status: 400 });
    // audit: Directus revisions of the alert, the official's two changes among them
    const revisions = await adminApi().request<{ activity: { user: string; action: string } }[]>('GET', `/revisions?fields=activity.user,activity.action&filter=${encodeURIComponent(JSON.stringify({ collection: { _eq: 'alerts' }, item: { _eq: String(sos.id) } }))}`);
    expect(revisions.filter((x) => x.activity.user === official.id && x.activity.action === 'update')).toHaveLength(2);
    expect(revisions.filter((x) => x.activity.action === 'create')).toHaveLength(1);
    // published: acknowledged then closed, by the official
    const mine = await waitFor('three changes published', async () => {
      const got = (await messages([A.event])).filter((m) => m.id === sos.id);
      return got.length >= 3 && got;
    });
    expect(mine.map((m) => `${m.change}:${m.status}:${m.by ?? ''}`)).toEqual([`opened:open:${mine[0].by}`, `acknowledged:acknowledged:${official.id}`, `closed:closed:${official.id}`]);
  });

  test('one open alert per entry and kind: a second create is refused (409) until it is closed; a new SOS after closing is a new alert', async () => {
    const crash = (await alertsOf(A.event)).find((a) => a.entry === A.entries.crash)!;
    await expect(official.api.request('POST', '/items/alerts', { entry: A.entries.crash, kind: 'crash' })).rejects.toMatchObject({ status: 409, details: { directusCode: 'SAFETY_DUPLICATE_OPEN' } });
    // an official may raise one by hand for another kind (a radio call): event and key filled in
    const manual = await official.api.request<AlertRow>('POST', '/items/alerts', { entry: A.entries.crash, kind: 'stopped', note: 'radio: stuck in the river' });
    expect(manual).toMatchObject({ key: `${A.entries.crash}:stopped`, event: A.event, device: A.devices.crash, severity: 'high', status: 'open' });
    // the SOS of entry "sos" was closed by the official above: pressing again raises a new one
    await play(A, 'sos', new Track(T0 + 25 * 60_000, 5000).drive(5100, 0, 50).record({ priority: 2 }));
    await drained();
    const sos = (await alertsOf(A.event)).filter((a) => a.key === `${A.entries.sos}:sos`);
    expect(sos.map((a) => a.status)).toEqual(['closed', 'open']);
    expect(crash.status).toBe('open');
  });

  test('a panic record flagged faulty after its alert was raised closes that alert', async () => {
    await play(A, 'flaggedLater', tracks.panicAt3000());
    await drained();
    const raised = await waitFor('the alert', async () => (await alertsOf(A.event)).find((a) => a.entry === A.entries.flaggedLater));
    expect(raised).toMatchObject({ kind: 'sos', status: 'open' });
    await official.api.request('POST', '/items/position_flags', { device: A.devices.flaggedLater, from: new Date(PANIC_AT).toISOString(), faulty: true, reason: 'test: button pressed by a mechanic' });
    const closed = await waitFor('flag-closed alert', async () => {
      const a = await adminApi().request<AlertRow>('GET', `/items/alerts/${raised.id}`);
      return a.status === 'closed' && a;
    });
    expect(closed.note).toContain('flagged faulty');
  });

  test('competitors, the public and other organisations cannot read the alerts', async () => {
    await expect(competitor.api.request('GET', '/items/alerts')).rejects.toMatchObject({ status: 403 });
    await expect(rest(trm().directusUrl).request('GET', '/items/alerts')).rejects.toMatchObject({ status: 403 });
    await expect(otherOfficial.api.request<AlertRow[]>('GET', `/items/alerts?filter=${encodeURIComponent(JSON.stringify({ event: { _eq: A.event } }))}`)).resolves.toEqual([]);
    await expect(otherOfficial.api.request('POST', '/items/alerts', { entry: A.entries.spike, kind: 'sos' })).rejects.toMatchObject({ status: 403 });
    expect((await official.api.request<AlertRow[]>('GET', `/items/alerts?filter=${encodeURIComponent(JSON.stringify({ event: { _eq: A.event } }))}`)).length).toBeGreaterThan(0);
  });

  test('/healthz reports the group, its lag and the course loaded', async () => {
    const res = await fetch(`http://127.0.0.1:${safety.admin.port}/healthz`);
    expect(res.status).toBe(200);
    const health = (await res.json()) as { ok: boolean; group: string; lag: number; entries: number };
    expect(health).toMatchObject({ ok: true, group: 'safety', lag: 0 });
    expect(health.entries).toBeGreaterThanOrEqual(12);
    const metrics = await (await fetch(`http://127.0.0.1:${safety.admin.port}/metrics`)).text();
    expect(metrics).toContain('trm_safety_alerts_opened_total{kind="sos"}');
  });
});
