/**
 * Issue 8, the function half, against the real Directus (TRM schema, roles, the trm-results
 * hook): stage_times → generate-start-order → start_orders.
 *
 *   P    prologue: #101…#122 finished, #(100 + k) in 60 s + k s (so P k); #123 dnf, #124 dns,
 *        #125 (a car) no row
 *   SS1  inverse_top_n_then_natural, n = 20, 60 s from 07:00:00 (AC-7: P7 starts 14th)
 *   SS2  previous_stage_clean_result in two start groups: bikes (M-1) every 60 s, then cars
 *        (C-1) every 2 min, 10 min after the last bike
 *   SS3  inverse_of_overall, n = 3: the overall standings evaluate-penalties writes after SS1
 */
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createRedis, type Redis } from '../common/src/redis.ts';
import { redisKeys } from '../common/src/redis-keys.ts';
import type { StartOrderRequest } from '../common/src/triggers.ts';
import { directusApi } from '../functions/src/directus-io/directus-api.ts';
import { handle } from '../functions/generate-start-order/handler.ts';
import { runPenaltyEvaluation } from '../functions/src/evaluate-penalties/evaluate.ts';
import { runStartOrder } from '../functions/src/generate-start-order/generate.ts';
import { invoke } from '../template/node24-ts/runtime/invoke.ts';
import { adminApi, createOrg, createUser, trm, type TestUser } from './directus-client.ts';
import { createResultsEvent, createStageTimes, list, type ResultsEvent } from './results-scenario.ts';

const DAY1 = Date.UTC(2025, 5, 8, 7, 0, 0);
const DAY2 = Date.UTC(2025, 5, 9, 7, 0, 0);
const DAY3 = Date.UTC(2025, 5, 10, 7, 0, 0);
const DAY4 = Date.UTC(2025, 5, 11, 7, 0, 0);
const at = (base: number, minutes: number) => new Date(base + minutes * 60_000).toISOString();

interface StartOrderRow {
  id: number;
  key: string;
  entry: number;
  position: number;
  start_at: string;
  explanation: string;
  locked: boolean;
  strategy: string;
  date_updated: string | null;
}

describe('generate-start-order against Directus', () => {
  let ev: ResultsEvent;
  let official: TestUser;
  let redis: Redis;
  let queue: Queue;
  const numbers = Array.from({ length: 25 }, (_, i) => 101 + i);

  const api = () => directusApi({ url: trm().directusUrl, token: trm().serviceToken });
  const rows = async (stage: string) => (await list<StartOrderRow>(adminApi(), 'start_orders', { stage: { _eq: ev.stages[stage] } }, 'position')).map((r) => ({ ...r, number: numberOf(r.entry) }));
  const numberOf = (entry: number) => Number(Object.entries(ev.entries).find(([, id]) => id === entry)![0]);
  const queued = async (stage: string, reason: string): Promise<StartOrderRequest> => {
    const find = async () => (await queue.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed'])).find((j) => j.data.stage_id === String(ev.stages[stage]) && String(j.data.reason).includes(reason));
    await expect.poll(async () => (await find()) !== undefined, { timeout: 20_000, interval: 100 }).toBe(true);
    return (await find())!.data as StartOrderRequest;
  };
  const callFunction = async (request: StartOrderRequest) => {
    const res = await invoke(handle, { method: 'POST', url: '/', headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(request)) }, { env: { DIRECTUS_URL: trm().directusUrl, DIRECTUS_TOKEN: trm().serviceToken } });
    return { status: res.status, body: JSON.parse(res.body.toString('utf8')) as Record<string, unknown> };
  };

  beforeAll(async () => {
    const org = await createOrg('so');
    official = await createUser('Timing official', org.id, 'clerk');
    ev = await createResultsEvent(adminApi(), {
      organization: org.id,
      categories: ['M-1', 'C-1'],
      stages: [
        { code: 'P', kind: 'prologue', sequence: 0, plannedStartMs: DAY1, status: 'finished', strategy: 'race_number' },
        { code: 'SS1', sequence: 1, plannedStartMs: DAY2, startIntervalS: 60, strategy: 'inverse_top_n_then_natural', params: { n: 20 } },
        { code: 'SS2', sequence: 2, plannedStartMs: DAY3, strategy: 'previous_stage_clean_result' },
        { code: 'SS3', sequence: 3, plannedStartMs: DAY4, strategy: 'inverse_of_overall', params: { n: 3 } },
      ],
      entries: numbers.map((n) => ({ number: n, category: n === 125 ? 'C-1' : 'M-1' })),
    });
    await createStageTimes(adminApi(), [
      ...numbers.filter((n) => n <= 122).map((n) => ({ stage: ev.stages.P, entry: ev.entries[n], status: 'finished' as const, netMs: 60_000 + (n - 100) * 1000 })),
      { stage: ev.stages.P, entry: ev.entries[123], status: 'dnf' },
      { stage: ev.stages.P, entry: ev.entries[124], status: 'dns' },
    ]);
    redis = createRedis(trm().redisUrl);
    const keys = redisKeys(trm().directusRedisPrefix);
    queue = new Queue(keys.queues.startOrders, { connection: redis, prefix: keys.bullPrefix });
  });

  afterAll(async () => {
    await queue?.close();
    redis?.disconnect();
  });

  test('confirming the prologue through Directus queues the next stage; the function then writes AC-7: 7th in the prologue starts 14th with the top 20 reversed', async () => {
    await official.api.request('PATCH', `/items/stages/${ev.stages.P}`, { status: 'confirmed' });
    const request = await queued('SS1', 'stage P confirmed');
    expect(request).toMatchObject({ stage_id: String(ev.stages.SS1), requested_by: official.id });

    const res = await callFunction(request);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ stage: ev.stages.SS1, strategy: 'inverse_top_n_then_natural', reference: `stage ${ev.stages.P} (P)`, rows: 25, locked: 0, changed: { created: 25, updated: 0, deleted: 0 } });

    const order = await rows('SS1');
    const p7 = order.find((r) => r.number === 107)!;
    expect(p7).toMatchObject({ key: `${ev.stages.SS1}:${ev.entries[107]}`, position: 14, explanation: 'P7 in prologue; top 20 reversed → 14th', locked: false, strategy: 'inverse_top_n_then_natural' });
    expect(Date.parse(p7.start_at)).toBe(Date.parse(at(DAY2, 13)));
    expect(order.slice(0, 3).map((r) => r.number)).toEqual([120, 119, 118]);
    expect(order.slice(19).map((r) => r.number)).toEqual([101, 121, 122, 123, 124, 125]);
    expect(order.find((r) => r.number === 121)!.explanation).toBe('P21 in prologue; outside the top 20 → 21st');
    expect(order.find((r) => r.number === 123)!.explanation).toMatch(/^DNF in prologue; after the classified/);
    expect(Date.parse(order[24].start_at)).toBe(Date.parse(at(DAY2, 24)));
  });

  test('regenerating changes nothing: same rows, not even rewritten', async () => {
    const before = await rows('SS1');
    const again = await runStartOrder({ api: api() }, { stage_id: String(ev.stages.SS1) });
    expect(again.changed).toEqual({ created: 0, updated: 0, deleted: 0, unchanged: 25 });
    expect(await rows('SS1')).toEqual(before);
  });

  test("an official's locked row is kept when the reference changes; the others fill around it", async () => {
    const p7 = (await rows('SS1')).find((r) => r.number === 107)!;
    await official.api.request('PATCH', `/items/start_orders/${p7.id}`, { locked: true });
    // #107 loses 30 s in the prologue (a late correction): it is now P20, would start 1st
    const stageTime = (await list<{ id: number; entry: number }>(adminApi(), 'stage_times', { stage: { _eq: ev.stages.P } })).find((r) => r.entry === ev.entries[107])!;
    await adminApi().request('PATCH', `/items/stage_times/${stageTime.id}`, { net_ms: 60_000 + 20_500, raw_ms: 60_000 + 20_500 });
    const lockedBefore = (await rows('SS1')).find((r) => r.number === 107)!;

    const summary = await runStartOrder({ api: api() }, { stage_id: String(ev.stages.SS1) });
    expect(summary.locked).toBe(1);
    const order = await rows('SS1');
    expect(order.find((r) => r.number === 107)).toEqual(lockedBefore);
    expect(order.filter((r) => r.position === 14).map((r) => r.number)).toEqual([107]);
    expect(order.map((r) => r.position)).toEqual(numbers.map((_, i) => i + 1));
    // #120 (P19 now) opens the road, #107's slot is skipped by the others
    expect(order[0]).toMatchObject({ number: 120, explanation: 'P19 in prologue; top 20 reversed → 1st' });
    expect((await runStartOrder({ api: api() }, { stage_id: String(ev.stages.SS1) })).changed).toMatchObject({ created: 0, updated: 0, deleted: 0 });
  });

  test('start groups by category with their own intervals, an excluded entry left out, triggered by a settings change', async () => {
    // SS1 results: #125 fastest … #101 slowest; #110 excluded, #111 dnf
    await createStageTimes(
      adminApi(),
      numbers.map((n) => ({ stage: ev.stages.SS1, entry: ev.entries[n], status: n === 111 ? ('dnf' as const) : ('finished' as const), ...(n === 111 ? {} : { netMs: 3_600_000 + (125 - n) * 1000 }) })),
    );
    const excluded = (await list<{ id: number; entry: number }>(adminApi(), 'stage_times', { stage: { _eq: ev.stages.SS1 } })).find((r) => r.entry === ev.entries[110])!;
    await adminApi().request('PATCH', `/items/stage_times/${excluded.id}`, { excluded: true });
    await official.api.request('PATCH', `/items/stages/${ev.stages.SS2}`, {
      start_order_params: {
        groups: [
          { id: 'bikes', label: 'Moto', categoryIds: ['M-1'], blocks: [{ fromPosition: 1, intervalMs: 60_000 }] },
          { id: 'cars', label: 'Cars', categoryIds: ['C-1'], blocks: [{ fromPosition: 1, intervalMs: 120_000 }], gapBeforeMs: 600_000 },
        ],
      },
    });
    const res = await callFunction(await queued('SS2', 'start-order settings changed'));
    expect(res.status).toBe(200);
    expect(res.body.omitted).toEqual([{ entry: ev.entries[110], reason: 'excluded in SS1: not starting' }]);
    const order = await rows('SS2');
    expect(order).toHaveLength(24);
    const bikes = order.filter((r) => r.number !== 125);
    expect(bikes.slice(0, 2).map((r) => r.number)).toEqual([124, 123]);
    expect(bikes.at(-1)).toMatchObject({ number: 111, position: 23 });
    expect(bikes.at(-1)!.explanation).toMatch(/^DNF in SS1/);
    expect(bikes.map((r) => Date.parse(r.start_at))).toEqual(bikes.map((_, i) => Date.parse(at(DAY3, i))));
    // the car group: 10 min after the last bike (07:22)
    expect(order.find((r) => r.number === 125)).toMatchObject({ position: 24 });
    expect(Date.parse(order.find((r) => r.number === 125)!.start_at)).toBe(Date.parse(at(DAY3, 32)));
  });

  test('inverse_of_overall starts from the overall standings evaluate-penalties wrote', async () => {
    // no rules: the overall after SS1 (the prologue does not count) is the SS1 result; the
    // stewards' exclusion of #110 is a manual penalty (stage_times.excluded is the function's output)
    await official.api.request('POST', '/items/penalties', { entry: ev.entries[110], stage: ev.stages.SS1, exclusion: true, amount_ms: 0, explanation: 'outside assistance' });
    const evaluation = await runPenaltyEvaluation({ api: api() }, { scope: 'event', id: String(ev.event) });
    expect(evaluation.standings.created).toBeGreaterThan(0);
    const summary = await runStartOrder({ api: api() }, { stage_id: String(ev.stages.SS3) });
    expect(summary).toMatchObject({ strategy: 'inverse_of_overall', reference: 'overall after SS1', omitted: [{ entry: ev.entries[110], reason: 'excluded in overall: not starting' }] });
    const order = await rows('SS3');
    expect(order.slice(0, 4).map((r) => [r.number, r.explanation])).toEqual([
      [123, 'P3 overall; top 3 reversed → 1st'],
      [124, 'P2 overall; top 3 reversed → 2nd'],
      [125, 'P1 overall; top 3 reversed → 3rd'],
      [122, 'P4 overall; outside the top 3 → 4th'],
    ]);
    expect(order.at(-1)).toMatchObject({ number: 111 });
    expect(Date.parse(order[3].start_at)).toBe(Date.parse(at(DAY4, 3)));
  });

  test('a stage already running is refused (409), an unknown stage is 404', async () => {
    expect((await callFunction({ stage_id: String(ev.stages.P) })).status).toBe(409);
    expect(await callFunction({ stage_id: '999999999' })).toMatchObject({ status: 404, body: { code: 'START_ORDER_ERR_NOT_FOUND' } });
  });
});
