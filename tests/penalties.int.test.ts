/**
 * Issue 7, the function half, against the real Directus (TRM schema, roles, the trm-results and
 * trm-timing hooks) and Postgres: fixes → recompute → speed infringements → evaluate-penalties
 * under the Rally Albania 2025 preset rules → penalties, stage totals and positions, standings.
 *
 *   event: prologue P (seq 0, does not count), SS1 (seq 1, the recompute scenario's course:
 *   start x = 0, 50 km/h zone x 4000–5000, finish x = 6007), SS2 (seq 2, stage times written
 *   directly). Entries #1 and #2 in M-1, #3 in C-1.
 *   #1  20 m/s = 72 km/h: 22 km/h over → RA bracket 20–40 → 2:00
 *   #2  10 m/s = 36 km/h: no infringement
 *   #3  15 m/s = 54 km/h: 4 km/h over → RA bracket 0–20 → 1:00
 */
import { Queue } from 'bullmq';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { pgConfig } from '../common/src/pg.ts';
import { createRedis, type Redis } from '../common/src/redis.ts';
import { redisKeys } from '../common/src/redis-keys.ts';
import type { PenaltyEvaluationRequest } from '../common/src/triggers.ts';
import { at } from '../functions/src/core/timing/test-fixtures.ts';
import { directusApi } from '../functions/src/directus-io/directus-api.ts';
import { runPenaltyEvaluation, type PenaltySummary } from '../functions/src/evaluate-penalties/evaluate.ts';
import { findPreset } from '../functions/src/presets/index.ts';
import { directusApi as recomputeApi } from '../functions/src/recompute/directus-api.ts';
import { runRecompute } from '../functions/src/recompute/recompute.ts';
import { adminApi, createOrg, createUser, trm, type TestUser } from './directus-client.ts';
import { createScenario, insertFixes, straightTrack, type Scenario } from './recompute-scenario.ts';
import { createPresetRules, createStageTimes, list } from './results-scenario.ts';

const T0 = Date.UTC(2025, 5, 8, 6, 0, 0);
const NOW = T0 + 3 * 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

interface PenaltyRow {
  id: number;
  key: string;
  entry: number;
  stage: number | null;
  rule: number | null;
  source_kind: string;
  amount_ms: number;
  effective_ms: number;
  exclusion: boolean;
  explanation: string;
  override: string;
}
interface StageTimeRow {
  entry: number;
  net_ms: number;
  penalty_ms: number | null;
  total_ms: number | null;
  position: number | null;
  category_position: number | null;
}
interface StandingRow {
  key: string;
  stage: number;
  entry: number;
  category: number | null;
  scope: string;
  position: number | null;
  total_ms: number;
  gap_ms: number | null;
  penalty_ms: number;
  status: string;
}

describe('evaluate-penalties against Directus', () => {
  let sc: Scenario;
  let db: pg.Pool;
  let redis: Redis;
  let official: TestUser;
  let penaltyQueue: Queue;
  let P: number, SS1: number, SS2: number;
  let E1: number, E2: number, E3: number;
  let M1: number, C1: number;
  let rules: Record<string, number>;
  const requests: PenaltyEvaluationRequest[] = [];

  const api = () => directusApi({ url: trm().directusUrl, token: trm().serviceToken });
  const evaluate = (request: PenaltyEvaluationRequest): Promise<PenaltySummary> => runPenaltyEvaluation({ api: api() }, request);
  const recompute = (request: Parameters<typeof runRecompute>[1]) =>
    runRecompute({ api: recomputeApi({ url: trm().directusUrl, token: trm().serviceToken }), pool: db, now: () => NOW, penalties: async (p) => requests.push(p) }, request);
  const penalties = () => list<PenaltyRow>(adminApi(), 'penalties', { event: { _eq: sc.event } });
  const penaltyOf = async (entry: number, kind = 'infringement') => (await penalties()).find((p) => p.entry === entry && p.source_kind === kind);
  const stageTime = async (stage: number, entry: number) => (await list<StageTimeRow>(adminApi(), 'stage_times', { stage: { _eq: stage } })).find((r) => r.entry === entry)!;
  const standings = () => list<StandingRow>(adminApi(), 'standings', { event: { _eq: sc.event } }, 'key');
  /** The evaluate-penalties job the trm-results hook queued for an entry (or event), matching the reason. */
  const queuedJob = async (entry: number, reason: string) => {
    await expect
      .poll(async () => (await penaltyQueue.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed'])).some((j) => j.data.id === String(entry) && String(j.data.reason).includes(reason)), { timeout: 20_000, interval: 100 })
      .toBe(true);
    return (await penaltyQueue.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed'])).find((j) => j.data.id === String(entry) && String(j.data.reason).includes(reason))!.data as PenaltyEvaluationRequest;
  };

  beforeAll(async () => {
    const org = await createOrg('pen');
    official = await createUser('Timing official', org.id, 'steward');
    const admin = adminApi();
    sc = await createScenario(admin, { organization: org.id, plannedStartMs: T0, entryCount: 3, maxTimeS: 7200 });
    [E1, E2, E3] = sc.entries;
    SS1 = sc.stage;
    M1 = (await admin.request<{ id: number }>('POST', '/items/categories', { event: sc.event, code: 'M-1', name: 'Moto 1' })).id;
    C1 = (await admin.request<{ id: number }>('POST', '/items/categories', { event: sc.event, code: 'C-1', name: 'Car 1' })).id;
    await admin.request('PATCH', '/items/entries', [
      { id: E1, category: M1 },
      { id: E2, category: M1 },
      { id: E3, category: C1 },
    ]);
    P = (await admin.request<{ id: number }>('POST', '/items/stages', { event: sc.event, code: 'P', kind: 'prologue', sequence: 0, status: 'confirmed' })).id;
    SS2 = (await admin.request<{ id: number }>('POST', '/items/stages', { event: sc.event, code: 'SS2', kind: 'special', sequence: 2, status: 'finished' })).id;
    await createStageTimes(admin, [
      { stage: P, entry: E1, status: 'finished', netMs: 200_000 },
      { stage: P, entry: E2, status: 'finished', netMs: 100_000 },
      { stage: P, entry: E3, status: 'finished', netMs: 150_000 },
      { stage: SS2, entry: E1, status: 'finished', netMs: 3_600_000 },
      { stage: SS2, entry: E2, status: 'finished', netMs: 3_500_000 },
      { stage: SS2, entry: E3, status: 'finished', netMs: 3_700_000 },
    ]);
    rules = await createPresetRules(admin, { event: sc.event, categories: { 'M-1': M1, 'C-1': C1 }, stages: { P, SS1, SS2 }, entries: {} }, findPreset('rally-albania-2025')!);
    db = new pg.Pool(pgConfig(trm().directusDatabaseUrl, process.env, { max: 4 }));
    redis = createRedis(trm().redisUrl);
    const keys = redisKeys(trm().directusRedisPrefix);
    penaltyQueue = new Queue(keys.queues.penalties, { connection: redis, prefix: keys.bullPrefix });
    await insertFixes(db, sc.devices[0], straightTrack({ t0: T0, x0: -100, x1: 6200, speedMs: 20, periodMs: 1000 }));
    await insertFixes(db, sc.devices[1], straightTrack({ t0: T0, x0: -100, x1: 6200, speedMs: 10, periodMs: 1000 }));
    await insertFixes(db, sc.devices[2], straightTrack({ t0: T0, x0: -100, x1: 6200, speedMs: 15, periodMs: 1000 }));
    await adminApi().request('PATCH', `/items/stages/${SS1}`, { status: 'finished' });
    const timing = await recompute({ scope: 'event', id: String(sc.event), reason: 'penalties test' });
    expect(timing.changed.speed_infringements.created).toBe(2);
  });

  afterAll(async () => {
    await penaltyQueue?.close();
    await db?.end();
    redis?.disconnect();
  });

  test('a speed infringement under the Rally Albania preset rule yields a penalty a competitor can read, and the stage total adds it', async () => {
    const summary = await evaluate({ scope: 'event', id: String(sc.event), reason: 'test' });
    expect(summary).toMatchObject({ event: sc.event, entries: 3, penalties: { created: 2, deleted: 0 }, ignored: [] });
    const p1 = (await penaltyOf(E1))!;
    expect(p1).toMatchObject({ key: `infringement:${SS1}:${E1}:${sc.zone}:0:speed_zone`, stage: SS1, rule: rules['ra2025-speed-zone'], amount_ms: 120_000, effective_ms: 120_000, exclusion: false, override: 'none' });
    expect(p1.explanation).toBe('SS1: SLZ1: 72 km/h in a 50 zone, 22 km/h over → bracket 21–40 km/h: 2:00 (1st offence)');
    expect(await penaltyOf(E3)).toMatchObject({ amount_ms: 60_000, effective_ms: 60_000 });
    expect(await penaltyOf(E2)).toBeUndefined();

    const [t1, t2, t3] = [await stageTime(SS1, E1), await stageTime(SS1, E2), await stageTime(SS1, E3)];
    expect(t1).toMatchObject({ penalty_ms: 120_000, total_ms: t1.net_ms + 120_000 });
    expect(t2).toMatchObject({ penalty_ms: 0, total_ms: t2.net_ms });
    expect(t3).toMatchObject({ penalty_ms: 60_000, total_ms: t3.net_ms + 60_000 });
    // 300 s + 2:00 = 7:00 < 400 s + 1:00 = 7:40 < 600 s
    expect([t1, t2, t3].map((t) => [t.position, t.category_position])).toEqual([
      [1, 1],
      [3, 2],
      [2, 1],
    ]);
  });

  test('standings by category and overall after each counted stage; the prologue does not count', async () => {
    const rows = await standings();
    expect(new Set(rows.map((r) => r.stage))).toEqual(new Set([SS1, SS2]));
    const [t1, t2, t3] = [await stageTime(SS1, E1), await stageTime(SS1, E2), await stageTime(SS1, E3)];
    const afterSS2 = rows.filter((r) => r.stage === SS2 && r.scope === 'overall').sort((a, b) => a.position! - b.position!);
    const totals = { [E1]: t1.total_ms! + 3_600_000, [E2]: t2.total_ms! + 3_500_000, [E3]: t3.total_ms! + 3_700_000 };
    const order = [E1, E2, E3].sort((a, b) => totals[a] - totals[b]);
    expect(afterSS2.map((r) => r.entry)).toEqual(order);
    expect(afterSS2.map((r) => r.total_ms)).toEqual(order.map((e) => totals[e]));
    expect(afterSS2[0]).toMatchObject({ key: `${SS2}:overall:${order[0]}`, status: 'classified', gap_ms: 0 });
    expect(afterSS2[1].gap_ms).toBe(totals[order[1]] - totals[order[0]]);
    expect(rows.find((r) => r.key === `${SS1}:overall:${E1}`)).toMatchObject({ position: 1, penalty_ms: 120_000, category: M1 });
    const moto = rows.filter((r) => r.stage === SS1 && r.scope === 'category' && r.category === M1).sort((a, b) => a.position! - b.position!);
    expect(moto.map((r) => r.entry)).toEqual([E1, E2]);
    expect(rows.find((r) => r.key === `${SS1}:category:${E3}`)).toMatchObject({ position: 1, category: C1 });
  });

  test('a second evaluation, and one per entry, change nothing', async () => {
    const before = await Promise.all([penalties(), standings(), list(adminApi(), 'stage_times', { stage: { event: { _eq: sc.event } } })]);
    expect((await evaluate({ scope: 'event', id: String(sc.event) })).total_changes).toBe(0);
    expect((await evaluate({ scope: 'stage', id: String(SS1) })).total_changes).toBe(0);
    for (const e of [E1, E2, E3]) expect((await evaluate({ scope: 'entry', id: String(e) })).total_changes).toBe(0);
    expect(await Promise.all([penalties(), standings(), list(adminApi(), 'stage_times', { stage: { event: { _eq: sc.event } } })])).toEqual(before);
  });

  test("an official's waive, then adjust, survives every recompute", async () => {
    const p1 = (await penaltyOf(E1))!;
    await expect(official.api.request('PATCH', `/items/penalties/${p1.id}`, { override: 'waive' })).rejects.toMatchObject({ status: 400 });
    await official.api.request('PATCH', `/items/penalties/${p1.id}`, { override: 'waive', override_reason: 'radar calibration disputed' });
    const job = await queuedJob(E1, 'override waive');
    expect(job).toMatchObject({ scope: 'entry', id: String(E1), requested_by: official.id });
    await evaluate(job);
    const waived = (await penaltyOf(E1))!;
    expect(waived).toMatchObject({ id: p1.id, amount_ms: 120_000, effective_ms: 0, override: 'waive' });
    expect(waived.explanation).toContain('waived by officials: radar calibration disputed');
    const t1 = await stageTime(SS1, E1);
    expect(t1).toMatchObject({ penalty_ms: 0, total_ms: t1.net_ms, position: 1 });

    // timing recomputed (nothing changes) and a full evaluation: the decision stays
    await recompute({ scope: 'event', id: String(sc.event) });
    await evaluate({ scope: 'event', id: String(sc.event) });
    expect(await penaltyOf(E1)).toMatchObject({ id: p1.id, effective_ms: 0, override: 'waive' });

    await official.api.request('PATCH', `/items/penalties/${p1.id}`, { override: 'adjust', override_amount_ms: 30_000, override_reason: 'stewards: 30 s' });
    await evaluate(await queuedJob(E1, 'override adjust'));
    await evaluate({ scope: 'event', id: String(sc.event) });
    const adjusted = (await penaltyOf(E1))!;
    expect(adjusted).toMatchObject({ amount_ms: 120_000, effective_ms: 30_000, override: 'adjust' });
    expect(adjusted.explanation).toContain('adjusted to 30 s by officials: stewards: 30 s');
    expect(await stageTime(SS1, E1)).toMatchObject({ penalty_ms: 30_000 });
    expect((await standings()).find((r) => r.key === `${SS1}:overall:${E1}`)).toMatchObject({ penalty_ms: 30_000 });
  });

  test("an official's manual penalty is kept, counted on its stage and in the standings", async () => {
    const created = await official.api.request<{ id: number; key: string; event: number; source_kind: string }>('POST', '/items/penalties', { entry: E2, stage: SS2, amount_ms: 300_000, explanation: 'dangerous driving at CP2' });
    expect(created).toMatchObject({ event: sc.event, source_kind: 'manual' });
    expect(created.key).toMatch(/^manual:/);
    await evaluate(await queuedJob(E2, `manual penalty #${created.id} created`));
    await evaluate({ scope: 'event', id: String(sc.event) });
    const manual = (await penaltyOf(E2, 'manual'))!;
    expect(manual).toMatchObject({ id: created.id, key: created.key, amount_ms: 300_000, effective_ms: 300_000, explanation: 'dangerous driving at CP2' });
    const t = await stageTime(SS2, E2);
    expect(t).toMatchObject({ penalty_ms: 300_000, total_ms: 3_800_000 });
    expect((await standings()).find((r) => r.key === `${SS2}:overall:${E2}`)!.penalty_ms).toBe(300_000);
    expect((await evaluate({ scope: 'entry', id: String(E2) })).total_changes).toBe(0);
  });

  test("editing a rule queues the event's evaluation; the official's adjust still counts over the new computed amount", async () => {
    const ruleId = rules['ra2025-speed-zone'];
    const rule = await adminApi().request<{ params: { brackets: { aboveKmh: number; amountMs?: number }[] } }>('GET', `/items/penalty_rules/${ruleId}`);
    const params = { ...rule.params, brackets: rule.params.brackets.map((b) => (b.aboveKmh === 20 ? { ...b, amountMs: 90_000 } : b)) };
    await adminApi().request('PATCH', `/items/penalty_rules/${ruleId}`, { params });
    const job = await queuedJob(sc.event, `penalty rule #${ruleId} updated`);
    expect(job.scope).toBe('event');
    await evaluate(job);
    expect(await penaltyOf(E1)).toMatchObject({ amount_ms: 90_000, effective_ms: 30_000, override: 'adjust' });
    expect(await penaltyOf(E3)).toMatchObject({ amount_ms: 60_000, effective_ms: 60_000 });
  });

  test('removing the cause (the fixes in the zone flagged faulty) removes the infringement and then the penalty', async () => {
    // #3 at 15 m/s from x = −100 is inside the zone (x 4000–5000) from 273 s to 340 s
    const flagged = await db.query("UPDATE positions SET faulty = true WHERE imei = $1 AND ts BETWEEN $2 AND $3", [sc.devices[2], iso(T0 + 260_000), iso(T0 + 350_000)]);
    expect(flagged.rowCount).toBeGreaterThan(60);
    requests.length = 0;
    const timing = await recompute({ scope: 'device', id: sc.devices[2], from: iso(T0 + 200_000), to: iso(T0 + 400_000) });
    expect(timing.changed.speed_infringements.deleted).toBe(1);
    expect(requests).toEqual([expect.objectContaining({ scope: 'entry', id: String(E3) })]);
    const summary = await evaluate(requests[0]);
    expect(summary.penalties.deleted).toBe(1);
    expect(await penaltyOf(E3)).toBeUndefined();
    const t3 = await stageTime(SS1, E3);
    expect(t3).toMatchObject({ penalty_ms: 0, total_ms: t3.net_ms });
    expect((await standings()).find((r) => r.key === `${SS1}:overall:${E3}`)).toMatchObject({ penalty_ms: 0, total_ms: t3.net_ms });
  });
});

/**
 * Time controls end to end: a time_control geofence (line x = 3000, due 2 min after the
 * scheduled start) → recompute stores the arrivals in stage_times.time_controls →
 * evaluate-penalties hands them to the `time_control` evaluator under the Rally Albania 2025
 * preset (10 s per minute late, clock minute).
 *   #1  scheduled 06:00, 10 m/s from x = −100 at 06:00:00: at x = 3000 at 06:05:10, due 06:02 → 3 min late → 30 s
 *   #2  scheduled 06:01, 20 m/s from x = −100 at 06:01:00: at x = 3000 at 06:03:35, due 06:03 → on time
 */
describe('time-control arrivals: recompute → stage_times.time_controls → time_control penalty', () => {
  let sc: Scenario;
  let db: pg.Pool;
  let E1: number, E2: number, TC: number;
  const api = () => directusApi({ url: trm().directusUrl, token: trm().serviceToken });
  const recompute = (request: Parameters<typeof runRecompute>[1]) => runRecompute({ api: recomputeApi({ url: trm().directusUrl, token: trm().serviceToken }), pool: db, now: () => NOW }, request);
  const evaluate = (request: PenaltyEvaluationRequest) => runPenaltyEvaluation({ api: api() }, request);
  const tcLine = { type: 'LineString', coordinates: [at(3000, 150), at(3000, -150)] };

  beforeAll(async () => {
    const org = await createOrg('tc');
    const admin = adminApi();
    sc = await createScenario(admin, { organization: org.id, plannedStartMs: T0, entryCount: 2, maxTimeS: 7200 });
    [E1, E2] = sc.entries;
    // the speed zone is the other test's subject: #2 would infringe it
    await admin.request('DELETE', `/items/speed_limit_zones/${sc.zone}`);
    TC = (await admin.request<{ id: number }>('POST', '/items/geofences', { stage: sc.stage, code: 'TC1', kind: 'time_control', sequence: 5, geometry: tcLine, due_offset_s: 120 })).id;
    await admin.request('POST', '/items/start_orders', [
      { key: `${sc.stage}:${E1}`, stage: sc.stage, entry: E1, position: 1, start_at: iso(T0) },
      { key: `${sc.stage}:${E2}`, stage: sc.stage, entry: E2, position: 2, start_at: iso(T0 + 60_000) },
    ]);
    await createPresetRules(admin, { event: sc.event, categories: {}, stages: { SS1: sc.stage }, entries: {} }, findPreset('rally-albania-2025')!);
    db = new pg.Pool(pgConfig(trm().directusDatabaseUrl, process.env, { max: 4 }));
    await insertFixes(db, sc.devices[0], straightTrack({ t0: T0, x0: -100, x1: 6200, speedMs: 10, periodMs: 1000 }));
    await insertFixes(db, sc.devices[1], straightTrack({ t0: T0 + 60_000, x0: -100, x1: 6200, speedMs: 20, periodMs: 1000 }));
    await admin.request('PATCH', `/items/stages/${sc.stage}`, { status: 'finished' });
  });

  afterAll(async () => {
    await db?.end();
  });

  test('the recompute stores each entry arrival with its due time; a second run changes nothing', async () => {
    const first = await recompute({ scope: 'event', id: String(sc.event) });
    expect(first.changed.stage_times.created).toBe(2);
    const rows = await list<{ entry: number; status: string; time_controls: unknown }>(adminApi(), 'stage_times', { stage: { _eq: sc.stage } });
    const byEntry = new Map(rows.map((r) => [r.entry, r]));
    expect(byEntry.get(E1)).toMatchObject({ status: 'finished', time_controls: [{ control: TC, code: 'TC1', due_at: iso(T0 + 120_000), arrived_at: iso(T0 + 310_000), interpolated: true, late_ms: 190_000, early_ms: 0 }] });
    expect(byEntry.get(E2)).toMatchObject({ status: 'finished', time_controls: [{ control: TC, code: 'TC1', due_at: iso(T0 + 180_000), arrived_at: iso(T0 + 215_000), late_ms: 35_000, early_ms: 0 }] });
    expect((await recompute({ scope: 'event', id: String(sc.event) })).totalChanges).toBe(0);
  });

  test('3 min late at the time control → +30 s at 10 s/min (Rally Albania 2025 preset), readable, in the stage total; on time → nothing', async () => {
    const summary = await evaluate({ scope: 'event', id: String(sc.event), reason: 'time controls' });
    expect(summary).toMatchObject({ penalties: { created: 1 }, ignored: [] });
    const rows = await list<PenaltyRow>(adminApi(), 'penalties', { event: { _eq: sc.event } });
    expect(rows).toEqual([
      expect.objectContaining({ key: `time_control:${sc.stage}:${E1}:${TC}:time_control`, entry: E1, stage: sc.stage, source_kind: 'time_control', amount_ms: 30_000, effective_ms: 30_000, exclusion: false, explanation: 'SS1: TC1: 3 min late × 10 s/min → 30 s' }),
    ]);
    const times = await list<StageTimeRow>(adminApi(), 'stage_times', { stage: { _eq: sc.stage } });
    const t1 = times.find((t) => t.entry === E1)!;
    const t2 = times.find((t) => t.entry === E2)!;
    expect(t1).toMatchObject({ penalty_ms: 30_000, total_ms: t1.net_ms + 30_000 });
    expect(t2).toMatchObject({ penalty_ms: 0, total_ms: t2.net_ms });
    expect((await evaluate({ scope: 'entry', id: String(E1) })).total_changes).toBe(0);
  });
});
