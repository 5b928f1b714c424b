/**
 * Live timing end to end on the real Redis, Postgres and Directus: positions committed (rows in
 * `positions` + a `telemetry:committed` entry, as the db-writer publishes them) → the
 * live-timing consumer → coalesced device requests on recompute:requests → the recompute (run
 * here by a small stand-in for the connector) → the stage time in Directus once the finish is
 * crossed. Track: 1 Hz, 20 m/s from x = −207.3 (tests/recompute-scenario.ts): start at
 * 10 365 ms, finish at 310 715 ms.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { silentLogger } from '../common/src/log.ts';
import { pgConfig } from '../common/src/pg.ts';
import { createTestRedis, type TestRedis } from '../common/src/testing/redis.ts';
import { parseRecomputeRequest } from '../common/src/triggers.ts';
import { directusApi } from '../functions/src/recompute/directus-api.ts';
import { createLiveTiming, LIVE_REQUESTER, LIVE_TIMING_GROUP, type LiveTiming } from '../functions/src/recompute/live-timing.ts';
import { runRecompute } from '../functions/src/recompute/recompute.ts';
import { adminApi, createOrg, trm } from './directus-client.ts';
import { createScenario, insertFixes, straightTrack, type Scenario, type TrackFix } from './recompute-scenario.ts';
import { waitFor } from '../common/src/testing/wait.ts';

const T0 = Date.UTC(2025, 5, 9, 6, 0, 0);

describe('live timing', () => {
  let r: TestRedis;
  let db: pg.Pool;
  let sc: Scenario;
  let live: LiveTiming;
  let stopConnector = false;
  let connectorLoop: Promise<void>;
  const runs: { from: string; to: string; changes: number }[] = [];

  beforeAll(async () => {
    r = await createTestRedis('live');
    db = new pg.Pool(pgConfig(trm().directusDatabaseUrl, process.env, { max: 4 }));
    const org = await createOrg('live');
    sc = await createScenario(adminApi(), { organization: org.id, plannedStartMs: T0, entryCount: 1 });
    live = createLiveTiming({ redisUrl: r.url, keys: r.keys, log: silentLogger(), consumer: 'test', intervalMs: 200, deviceMinIntervalMs: 0, blockMs: 200 });
    await live.start();
    // the connector's part: recompute:requests → recompute (the clock is the stage's, 20 min in)
    const api = directusApi({ url: trm().directusUrl, token: trm().serviceToken });
    connectorLoop = (async () => {
      let last = '0';
      while (!stopConnector) {
        const entries = await r.redis.xrange(r.keys.recomputeRequests, `(${last}`, '+');
        for (const [id, fields] of entries) {
          last = id;
          const o: Record<string, string> = {};
          for (let i = 0; i < fields.length; i += 2) o[fields[i]] = fields[i + 1];
          const request = parseRecomputeRequest(o);
          const summary = await runRecompute({ api, pool: db, now: () => T0 + 20 * 60_000 }, request);
          runs.push({ from: request.from!, to: request.to!, changes: summary.totalChanges });
        }
        await new Promise((res) => setTimeout(res, 100));
      }
    })();
  });

  afterAll(async () => {
    stopConnector = true;
    await connectorLoop;
    await live?.close();
    await db?.end();
    await r?.cleanup();
  });

  const commit = async (imei: string, fixes: TrackFix[]) => {
    await insertFixes(db, imei, fixes);
    const window = { imei, from: fixes[0].ts, to: fixes[fixes.length - 1].ts, count: fixes.length };
    await r.redis.xadd(r.keys.positionsCommitted, '*', 'windows', JSON.stringify([window]), 'rows', String(fixes.length), 'inserted', String(fixes.length), 'consumer', 'test');
  };
  const stageTime = async () => (await adminApi().request<{ status: string; finish_at: string | null; raw_ms: number | null }[]>('GET', `/items/stage_times?filter=${encodeURIComponent(JSON.stringify({ stage: { _eq: sc.stage } }))}`))[0];

  test('a stage time appears after the committed finish crossing; batches of one device are coalesced', async () => {
    const imei = sc.devices[0];
    const track = straightTrack({ t0: T0, x0: -207.3, x1: 6200, speedMs: 20, periodMs: 1000 });
    // the first 300 s in three writer batches, committed at once: one request for the union
    await commit(imei, track.slice(0, 100));
    await commit(imei, track.slice(100, 200));
    await commit(imei, track.slice(200, 300));
    await waitFor('running', async () => (await stageTime())?.status === 'running');
    expect((await stageTime()).finish_at).toBeNull();
    // the finish crossing (k = 310.715 s) is committed
    await commit(imei, track.slice(300));
    const done = await waitFor('finished', async () => {
      const st = await stageTime();
      return st?.status === 'finished' ? st : undefined;
    });
    expect(Date.parse(done.finish_at!)).toBe(T0 + 310_715);
    expect(done.raw_ms).toBe(300_350);
    // every committed entry was acknowledged; requests came from live timing
    await waitFor('acknowledged', async () => ((await r.redis.xpending(r.keys.positionsCommitted, LIVE_TIMING_GROUP)) as [number])[0] === 0);
    const requests = await r.redis.xrange(r.keys.recomputeRequests, '-', '+');
    expect(requests.length).toBeGreaterThanOrEqual(2);
    expect(requests.length).toBeLessThanOrEqual(4);
    expect(requests.every(([, f]) => f.includes(LIVE_REQUESTER) && f.includes(imei))).toBe(true);
  });
});
