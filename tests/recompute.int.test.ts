/**
 * Issue 6 "done when", against the real Directus (TRM schema, roles, the trm-timing hook) and
 * Postgres: hand-computed tracks on a stage near Tirana (tests/recompute-scenario.ts).
 *
 *   A  1 Hz, 20 m/s from x = −207.3: start x = 0 at k = 10.365 s, finish x = 6007 at
 *      k = 310.715 s → raw 300 350 ms; 72 km/h in the 50 km/h zone (a real infringement)
 *   B  1 Hz, 10 m/s (36 km/h) from x = −104; the fix at k = 450 s (x = 4396, inside the zone)
 *      reports 150 km/h: a speed spike, i.e. a false infringement until flagged
 *   C  every 10 s, 20 m/s from x = −50: fixes at x = 2950 and 3150 are 104.4 m from the
 *      waypoint (3050, 30) of radius 40 m, the chord between them 30 m: validated by segment at
 *      j = 15.5 → 155 000 ms; start at j = 0.25 (2 500 ms), finish at j = 30.285 (302 850 ms)
 *   D  1 Hz, 20 m/s from x = −101 to x = 3000, then nothing: started at 5 050 ms, never finishes
 *   E  no fixes: dns
 *
 * The last block takes the real trigger path instead of calling runRecompute: flag → hook →
 * recompute:requests → the connector → the local functions gateway → the recompute handler.
 */
import { Queue } from 'bullmq';
import { finished } from 'node:stream/promises';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startConnectorService, type ConnectorService } from '../connector/src/main.ts';
import { CONSUMER_GROUP } from '../connector/src/stream-consumer.ts';
import { silentLogger } from '../common/src/log.ts';
import { pgConfig } from '../common/src/pg.ts';
import { createRedis, type Redis } from '../common/src/redis.ts';
import { redisKeys } from '../common/src/redis-keys.ts';
import { parseRecomputeRequest, requestRecompute, type PenaltyEvaluationRequest, type RecomputeRequest } from '../common/src/triggers.ts';
import { startFunctionsService, type FunctionsService } from '../functions/gateway/main.ts';
import { directusApi } from '../functions/src/recompute/directus-api.ts';
import { parseFixes, readFixes } from '../functions/src/recompute/fixes.ts';
import { runRecompute, type RecomputeSummary } from '../functions/src/recompute/recompute.ts';
import { adminApi, createOrg, createUser, trm, type TestOrg, type TestUser } from './directus-client.ts';
import { createScenario, insertFixes, newImei, straightTrack, type Scenario } from './recompute-scenario.ts';
import { waitFor } from '../common/src/testing/wait.ts';

const T0 = Date.UTC(2025, 5, 8, 6, 0, 0);
const NOW = T0 + 20 * 60_000; // stage still open, within the 2 h max time
const iso = (ms: number) => new Date(ms).toISOString();

describe('recompute against Directus and Postgres', () => {
  let org: TestOrg;
  let operator: TestUser;
  let sc: Scenario;
  let db: pg.Pool;
  let redis: Redis;
  const penalties: PenaltyEvaluationRequest[] = [];
  let A: number, B: number, C: number, D: number, E: number;
  let devB: string, devA: string;

  const run = (request: RecomputeRequest, now = NOW): Promise<RecomputeSummary> =>
    runRecompute({ api: directusApi({ url: trm().directusUrl, token: trm().serviceToken }), pool: db, now: () => now, penalties: async (p) => penalties.push(p) }, request);

  const rows = async <T = Record<string, unknown>>(collection: string, fields = '*') =>
    (await adminApi().request<T[]>('GET', `/items/${collection}?limit=-1&sort=key&fields=${fields}&filter=${encodeURIComponent(JSON.stringify({ stage: { _eq: sc.stage } }))}`));
  const stageTime = async (entry: number) => (await rows<Record<string, unknown>>('stage_times')).find((r) => r.entry === entry);

  beforeAll(async () => {
    org = await createOrg('rc');
    operator = await createUser('Timing official', org.id, 'official');
    sc = await createScenario(adminApi(), { organization: org.id, plannedStartMs: T0, entryCount: 5, maxTimeS: 7200 });
    [A, B, C, D, E] = sc.entries;
    [devA, devB] = sc.devices;
    db = new pg.Pool(pgConfig(trm().directusDatabaseUrl, process.env, { max: 4 }));
    redis = createRedis(trm().redisUrl);
    await insertFixes(db, sc.devices[0], straightTrack({ t0: T0, x0: -207.3, x1: 6200, speedMs: 20, periodMs: 1000 }));
    const b = straightTrack({ t0: T0, x0: -104, x1: 6100, speedMs: 10, periodMs: 1000 });
    b[450] = { ...b[450], speedKmh: 150 };
    await insertFixes(db, sc.devices[1], b);
    await insertFixes(db, sc.devices[2], straightTrack({ t0: T0, x0: -50, x1: 6200, speedMs: 20, periodMs: 10_000 }));
    await insertFixes(db, sc.devices[3], straightTrack({ t0: T0, x0: -101, x1: 3000, speedMs: 20, periodMs: 1000 }));
  });

  afterAll(async () => {
    await db?.end();
    redis?.disconnect();
  });

  test('crossing times interpolated to the millisecond land in stage_times', async () => {
    const summary = await run({ scope: 'event', id: String(sc.event), reason: 'test', requested_by: 'vitest' });
    expect(summary.status).toBe('done');
    expect(summary.stages).toHaveLength(1);
    expect(summary.changed.stage_times).toMatchObject({ created: 5, updated: 0, deleted: 0 });
    expect(await stageTime(A)).toMatchObject({ key: `${sc.stage}:${A}`, status: 'finished', raw_ms: 300_350, net_ms: 300_350, neutralised_ms: 0 });
    expect(Date.parse(String((await stageTime(A))!.start_at))).toBe(T0 + 10_365);
    expect(Date.parse(String((await stageTime(A))!.finish_at))).toBe(T0 + 310_715);
    const c = (await stageTime(C))!;
    expect([Date.parse(String(c.start_at)), Date.parse(String(c.finish_at)), c.raw_ms]).toEqual([T0 + 2_500, T0 + 302_850, 300_350]);
    // A's real infringement (72 km/h in 50) and B's false one (the 150 km/h spike)
    const inf = await rows<{ entry: number; key: string; max_speed_kmh: number; evidence: { fixes: unknown[] } }>('speed_infringements');
    expect(inf.map((r) => r.entry).sort()).toEqual([A, B, C].sort());
    expect(inf.find((r) => r.entry === B)).toMatchObject({ key: `${sc.stage}:${B}:${sc.zone}:0`, max_speed_kmh: 150 });
    expect(inf.find((r) => r.entry === B)!.evidence.fixes.length).toBeGreaterThanOrEqual(4);
    // one penalty evaluation per changed entry
    expect(penalties.map((p) => `${p.scope}:${p.id}`).sort()).toEqual([A, B, C, D, E].map((e) => `entry:${e}`).sort());
  });

  test('a 10-second track validates a waypoint passed between fixes', async () => {
    const passes = await rows<{ entry: number; waypoint: number; validated: boolean; method: string; passed_at: string; distance_m: number }>('waypoint_passes');
    const c = passes.find((p) => p.entry === C)!;
    expect(c).toMatchObject({ waypoint: sc.waypoint, validated: true, method: 'segment' });
    expect(Date.parse(c.passed_at)).toBe(T0 + 155_000);
    expect(c.distance_m).toBeCloseTo(30, 1);
  });

  test('two recomputes give identical rows and the second reports zero changes', async () => {
    // every field, date_updated included: an untouched row is not even rewritten
    const snapshot = async () => Promise.all(['stage_times', 'waypoint_passes', 'speed_infringements'].map((c) => rows(c)));
    const before = await snapshot();
    const again = await run({ scope: 'event', id: String(sc.event), reason: 'again' });
    expect(again.totalChanges).toBe(0);
    expect(again.penaltyRequests).toEqual([]);
    // the same entries through other scopes: same rows, nothing to write
    expect((await run({ scope: 'device', id: devA })).totalChanges).toBe(0);
    expect((await run({ scope: 'entry', id: String(C), from: iso(T0), to: iso(T0 + 60_000) })).totalChanges).toBe(0);
    expect((await run({ scope: 'stage', id: String(sc.stage) })).totalChanges).toBe(0);
    expect(await snapshot()).toEqual(before);
    const audit = await adminApi().request<{ status: string; scope: string; reason: string; changed: { total: number } }>('GET', `/items/recompute_runs/${again.runId}`);
    expect(audit).toMatchObject({ status: 'done', scope: 'event', reason: 'again', changed: { total: 0 } });
  });

  test('the binary COPY reader gives exactly the fixes the text COPY gives (µs rounding, 17-digit doubles, real speeds)', async () => {
    const imei = newImei();
    await adminApi().request('POST', '/items/devices', { imei, organization: org.id });
    await db.query(
      `INSERT INTO positions (imei, ts, lat, lon, speed, heading, sats, fix) SELECT $1, ts::timestamptz, lat, lon, speed, 0, 12, true
       FROM (VALUES ('2025-06-08T05:59:59.9995Z', 41.30000000000001::float8, -19.785639515586833::float8, 72.3::real),
                    ('2025-06-08T06:00:01.0004Z', 1e-7, 179.99999999999997, 150),
                    ('2025-06-08T06:00:02Z', -0.0, 19.8, 0.1),
                    ('2025-06-08T06:00:03.999999Z', 41.3, 19.8, 1e-5)) AS v(ts, lat, lon, speed)`,
      [imei],
    );
    const span = { fromMs: T0 - 60_000, toMs: T0 + 60_000 };
    const client = await db.connect();
    let text = '';
    try {
      const out = client.query(copyTo(`COPY (SELECT (extract(epoch FROM ts) * 1000)::int8, lat, lon, speed FROM positions WHERE imei = '${imei}' AND faulty = false AND fix = true ORDER BY ts) TO STDOUT`));
      out.on('data', (c: Buffer) => (text += c.toString('latin1')));
      await finished(out);
    } finally {
      client.release();
    }
    const viaText = parseFixes(text);
    expect(viaText.map((f) => f.ts)).toEqual([T0, T0 + 1_000, T0 + 2_000, T0 + 4_000]); // .9995 s and .999999 s round up
    expect(await readFixes(db, imei, span)).toEqual(viaText);
  });

  test('a window outside the stage selects no stage', async () => {
    const summary = await run({ scope: 'event', id: String(sc.event), from: iso(T0 + 86_400_000), to: iso(T0 + 90_000_000) });
    expect(summary.stages).toEqual([]);
  });

  test('a GPS spike flagged faulty by a timing official removes the false infringement; deleting the flag brings it back', async () => {
    const stream = redisKeys(trm().directusRedisPrefix).recomputeRequests;
    const spikeTs = T0 + 450_000;
    const requestFor = (flagId: number, verb: string) =>
      waitFor(`recompute request for flag ${flagId} ${verb}`, async () => {
        const entries = await redis.xrange(stream, '-', '+');
        for (const [, fields] of entries) {
          const o: Record<string, string> = {};
          for (let i = 0; i < fields.length; i += 2) o[fields[i]] = fields[i + 1];
          if (o.id === devB && o.reason?.includes(`#${flagId} ${verb}`)) return parseRecomputeRequest(o);
        }
        return undefined;
      });
    const faultyAt = async (ts: number) => (await db.query<{ faulty: boolean }>('SELECT faulty FROM positions WHERE imei = $1 AND ts = $2', [devB, iso(ts)])).rows[0]?.faulty;
    const infringementOfB = async () => (await rows<{ entry: number; max_speed_kmh: number }>('speed_infringements')).find((r) => r.entry === B);
    const before = await stageTime(B);

    const flag = await operator.api.request<{ id: number; user_created: string }>('POST', '/items/position_flags', { device: devB, from: iso(spikeTs), faulty: true, reason: 'GPS speed spike' });
    expect(flag.user_created).toBe(operator.id);
    await waitFor('the spike marked faulty', async () => (await faultyAt(spikeTs)) === true);
    expect(await faultyAt(spikeTs - 1000)).toBe(false);
    await waitFor('affected stored', async () => (await adminApi().request<{ affected: number | null }>('GET', `/items/position_flags/${flag.id}`)).affected === 1);
    const request = await requestFor(flag.id, 'created');
    expect(request).toMatchObject({ scope: 'device', id: devB, requested_by: operator.id });
    expect(Date.parse(request.from!)).toBeLessThanOrEqual(spikeTs);
    expect(Date.parse(request.to!)).toBeGreaterThanOrEqual(spikeTs);

    penalties.length = 0;
    const flagged = await run(request);
    expect(flagged.changed.speed_infringements).toMatchObject({ deleted: 1, created: 0 });
    expect(await infringementOfB()).toBeUndefined();
    expect(await stageTime(B)).toEqual(before);
    expect(penalties).toEqual([{ scope: 'entry', id: String(B), reason: `recompute ${flagged.runId}`, requested_by: operator.id }]);
    const audit = await adminApi().request<{ requested_by: string; reason: string; scope: string; scope_id: string; changed: { speed_infringements: { deleted: number } } }>('GET', `/items/recompute_runs/${flagged.runId}`);
    expect(audit).toMatchObject({ requested_by: operator.id, scope: 'device', scope_id: devB, changed: { speed_infringements: { deleted: 1 } } });
    expect(audit.reason).toContain('GPS speed spike');

    await operator.api.request('DELETE', `/items/position_flags/${flag.id}`);
    await waitFor('the spike restored', async () => (await faultyAt(spikeTs)) === false);
    const restored = await run(await requestFor(flag.id, 'deleted'));
    expect(restored.changed.speed_infringements).toMatchObject({ created: 1, deleted: 0 });
    expect(await infringementOfB()).toMatchObject({ max_speed_kmh: 150 });
  });

  test('a valid-again flag inside a faulty range shows those fixes again', async () => {
    const faulty = await operator.api.request<{ id: number }>('POST', '/items/position_flags', { device: devB, from: iso(T0 + 440_000), to: iso(T0 + 460_000), faulty: true, reason: 'range' });
    const count = (sql: string) => async () => Number((await db.query(sql, [devB, iso(T0 + 440_000), iso(T0 + 460_000)])).rows[0].n);
    const faultyCount = count('SELECT count(*) FILTER (WHERE faulty) AS n FROM positions WHERE imei = $1 AND ts BETWEEN $2 AND $3');
    await waitFor('21 faulty', async () => (await faultyCount()) === 21);
    const valid = await operator.api.request<{ id: number }>('POST', '/items/position_flags', { device: devB, from: iso(T0 + 450_000), to: iso(T0 + 455_000), faulty: false, reason: 'these are fine' });
    await waitFor('15 faulty', async () => (await faultyCount()) === 15);
    await operator.api.request('DELETE', `/items/position_flags/${faulty.id}`);
    await waitFor('none faulty', async () => (await faultyCount()) === 0);
    await operator.api.request('DELETE', `/items/position_flags/${valid.id}`);
  });

  test('an operator of another organisation cannot create a flag on this device (403)', async () => {
    const other = await createOrg('other');
    const intruder = await createUser('Timing official', other.id, 'intruder');
    await expect(intruder.api.request('POST', '/items/position_flags', { device: devB, from: iso(T0), faulty: true, reason: 'not mine' })).rejects.toMatchObject({ status: 403 });
    await expect(operator.api.request('POST', '/items/position_flags', { device: devB, from: iso(T0 + 1000), to: iso(T0), faulty: true })).rejects.toMatchObject({ status: 400 });
    const flags = await adminApi().request<unknown[]>('GET', `/items/position_flags?filter=${encodeURIComponent(JSON.stringify({ reason: { _eq: 'not mine' } }))}`);
    expect(flags).toEqual([]);
  });

  test('a competitor who never crosses the finish has no finish time: running while the stage is open, dnf once it closes; no fixes is dns', async () => {
    expect(await stageTime(D)).toMatchObject({ status: 'running', finish_at: null, raw_ms: null, net_ms: null });
    expect(Date.parse(String((await stageTime(D))!.start_at))).toBe(T0 + 5_050);
    expect(await stageTime(E)).toMatchObject({ status: 'dns', start_at: null, finish_at: null, raw_ms: null });
    // past the max time (2 h after D's start) the stage is still open, but D is out of time
    const late = await run({ scope: 'entry', id: String(D) }, T0 + 3 * 3_600_000);
    expect(late.changed.stage_times).toMatchObject({ updated: 1 });
    expect(await stageTime(D)).toMatchObject({ status: 'dnf', finish_at: null, raw_ms: null });
    // a closed stage: dnf whatever the clock; D now has every waypoint row (missed ones unvalidated)
    await adminApi().request('PATCH', `/items/stages/${sc.stage}`, { status: 'finished' });
    await run({ scope: 'stage', id: String(sc.stage) });
    expect(await stageTime(D)).toMatchObject({ status: 'dnf' });
    const wpD = (await rows<{ entry: number; validated: boolean }>('waypoint_passes')).filter((p) => p.entry === D);
    expect(wpD).toEqual([expect.objectContaining({ validated: false })]);
  });

  test('trm recompute runs in-process and records who asked; --via-stream only requests', async () => {
    const { command } = await import('../cli/src/commands/recompute.ts');
    const prefix = `t:cli:${sc.stage}:`;
    const env = { DATABASE_URL: trm().directusDatabaseUrl, DIRECTUS_URL: trm().directusUrl, DIRECTUS_TOKEN: trm().serviceToken, REDIS_URL: trm().redisUrl, TRM_REDIS_PREFIX: prefix, RECOMPUTE_PENALTIES: 'false', PATH: process.env.PATH };
    expect(await command.run({ values: { stage: String(sc.stage), quiet: true, by: 'cli-test', reason: 'manual check' }, positionals: [] }, env)).toBe(0);
    const runs = await adminApi().request<{ status: string; reason: string; scope: string }[]>('GET', `/items/recompute_runs?filter=${encodeURIComponent(JSON.stringify({ requested_by: { _eq: 'cli-test' } }))}`);
    expect(runs).toEqual([expect.objectContaining({ status: 'done', reason: 'manual check', scope: 'stage' })]);
    expect(await command.run({ values: { device: devA, 'via-stream': true, from: iso(T0), to: iso(T0 + 60_000) }, positionals: [] }, env)).toBe(0);
    const entries = await redis.xrange(redisKeys(prefix).recomputeRequests, '-', '+');
    expect(entries).toHaveLength(1);
    expect(entries[0][1]).toEqual(expect.arrayContaining(['scope', 'device', 'id', devA]));
    await redis.del(redisKeys(prefix).recomputeRequests);
    expect(await command.run({ values: { stage: '1', entry: '2' }, positionals: [] }, env)).toBe(2);
  });
});

/**
 * The real trigger path: a timing official's position_flags item → the trm-timing hook XADDs to
 * this run's `recompute:requests` (directusRedisPrefix) → the connector (startConnectorService,
 * routes from stack.yml) → the local functions gateway (startFunctionsService on port 0, as
 * `trm functions` starts it, with the recompute function's stack.yml environment) → the recompute
 * handler (worker threads, real clock) → stage_times in Directus.
 *
 * Every test file's flags go to that one stream, and the connector recomputes with the real
 * clock, so it must not see the requests of the tests above (they recompute at NOW themselves):
 * this block runs after them, in this file, the only one that creates flags, and the group starts
 * at the end of the stream.
 */
describe('position_flags → hook → recompute:requests → connector → functions gateway → recompute', () => {
  const T1 = Date.UTC(2025, 5, 8, 9, 0, 0);
  const FINISH = T1 + 310_715; // 1 Hz at 20 m/s from x = −207.3: finish x = 6007 at k = 310.715 s
  let sc: Scenario;
  let entry: number;
  let device: string;
  let official: TestUser;
  let db: pg.Pool;
  let redis: Redis;
  let functions: FunctionsService | undefined;
  let connector: ConnectorService | undefined;
  let penaltyQueue: Queue;
  const keys = () => redisKeys(trm().directusRedisPrefix);

  beforeAll(async () => {
    const t = trm();
    redis = createRedis(t.redisUrl);
    db = new pg.Pool(pgConfig(t.directusDatabaseUrl, process.env, { max: 2 }));
    const org = await createOrg('rc-conn');
    official = await createUser('Timing official', org.id, 'official');
    sc = await createScenario(adminApi(), { organization: org.id, plannedStartMs: T1, entryCount: 1, maxTimeS: 7200 });
    [entry] = sc.entries;
    [device] = sc.devices;
    await insertFixes(db, device, straightTrack({ t0: T1, x0: -207.3, x1: 6200, speedMs: 20, periodMs: 1000 }));

    // only requests written from now on (the tests above ran theirs themselves)
    await redis.xgroup('CREATE', keys().recomputeRequests, CONSUMER_GROUP, '$', 'MKSTREAM').catch(async (error: Error) => {
      if (!error.message.startsWith('BUSYGROUP')) throw error;
      await redis.xgroup('SETID', keys().recomputeRequests, CONSUMER_GROUP, '$');
    });
    // what `trm up` gives the functions gateway and the connector (cli/src/commands/up.ts)
    const env = { DATABASE_URL: t.directusDatabaseUrl, REDIS_URL: t.redisUrl, DIRECTUS_URL: t.directusUrl, DIRECTUS_TOKEN: t.serviceToken, TRM_REDIS_PREFIX: t.directusRedisPrefix, LOG_LEVEL: 'silent' };
    functions = await startFunctionsService({ ...env, FUNCTIONS_PORT: '0', FUNCTIONS_ONLY: 'recompute' }, { log: silentLogger() });
    connector = await startConnectorService({ ...env, FUNCTIONS_PORT: String(functions.port), CONNECTOR_FUNCTIONS: 'recompute', CONNECTOR_ADMIN_PORT: '0', CONNECTOR_CONSUMER: `rc-test-${process.pid}`, CONNECTOR_BACKOFF_MS: '100', LIVE_TIMING: 'false' }, { log: silentLogger() });
    penaltyQueue = new Queue(keys().queues.penalties, { connection: createRedis(t.redisUrl), prefix: keys().bullPrefix });
  });

  afterAll(async () => {
    await connector?.close();
    await functions?.close();
    // the handler's adapters (pg pool, compute workers, penalty queue) live as long as its module
    await (await import('../functions/recompute/handler.ts')).close();
    await penaltyQueue?.close();
    await db?.end();
    redis?.disconnect();
  });

  const stageTime = async () => (await adminApi().request<{ status: string; finish_at: string | null; raw_ms: number | null }[]>('GET', `/items/stage_times?fields=status,finish_at,raw_ms&filter=${encodeURIComponent(JSON.stringify({ key: { _eq: `${sc.stage}:${entry}` } }))}`))[0];
  const runsBy = (requestedBy: string) => adminApi().request<{ id: string; status: string; scope: string; scope_id: string; reason: string; changed: { total: number } }[]>('GET', `/items/recompute_runs?sort=started_at&filter=${encodeURIComponent(JSON.stringify({ requested_by: { _eq: requestedBy } }))}`);

  test('a flag over the finish takes the stage time away and deleting it brings it back, every step through the connector and the gateway', async () => {
    // the first computation, asked on the stream like any producer does
    await requestRecompute(redis, keys(), { scope: 'entry', id: String(entry), reason: 'connector test', requested_by: 'vitest-connector' });
    const first = await waitFor('the first stage time', async () => ((await stageTime())?.status === 'finished' ? stageTime() : undefined));
    expect(first).toMatchObject({ status: 'finished', raw_ms: 300_350 });
    expect(Date.parse(first.finish_at!)).toBe(FINISH);

    // 60 s of fixes around the finish flagged faulty: no fix pair straddles the line within the
    // 30 s interpolation gap, so no finish; the real clock is far past the 2 h max time: dnf
    const flag = await official.api.request<{ id: number }>('POST', '/items/position_flags', { device, from: new Date(FINISH - 30_000).toISOString(), to: new Date(FINISH + 30_000).toISOString(), faulty: true, reason: 'finish fixes off' });
    const flagged = await waitFor('the stage time changed by the flag', async () => ((await stageTime())?.finish_at === null ? stageTime() : undefined));
    expect(flagged).toMatchObject({ status: 'dnf', finish_at: null, raw_ms: null });
    // the rows are written before the run row is finished
    const [run] = await waitFor('the flag\'s run recorded', async () => {
      const runs = await runsBy(official.id);
      return runs.length === 1 && runs[0].status !== 'running' ? runs : undefined;
    });
    expect(run).toMatchObject({ status: 'done', scope: 'device', scope_id: device });
    expect(run.reason).toContain(`#${flag.id} created`);
    expect(run.changed.total).toBeGreaterThan(0);
    // the changed entry's penalty evaluation was queued by the handler
    await waitFor('penalty evaluation queued', async () => (await penaltyQueue.getJobs(['waiting', 'delayed', 'prioritized'])).some((j) => j.data?.scope === 'entry' && j.data?.id === String(entry) && String(j.data?.reason).includes(run.id)));

    await official.api.request('DELETE', `/items/position_flags/${flag.id}`);
    const restored = await waitFor('the stage time restored', async () => ((await stageTime())?.status === 'finished' ? stageTime() : undefined));
    expect(restored).toEqual(first);

    // every request acknowledged after its call; nothing dead-lettered for the recompute
    await waitFor('no pending requests', async () => Number(((await redis.xpending(keys().recomputeRequests, CONSUMER_GROUP)) as [number])[0]) === 0);
    const dead = await redis.xrange(keys().connectorDead, '-', '+');
    expect(dead.filter(([, f]) => f.includes('recompute'))).toEqual([]);
  });
});
