import { describe, expect, test } from 'vitest';
import { evaluatePenalties } from '../core/penalties/index.ts';
import { findPreset } from '../presets/index.ts';
import { entryFacts, manualKey, timeControlFacts, penaltyRules, stageRefs, storedOverrides, type EntryRow, type InfringementRow, type PenaltyRow, type RuleRow, type StageRow, type StageTimeRow } from './facts.ts';
import { eventTotals, penaltyWrites, stageTimeWrites, standingRows, storedTotal, type TotalsInput } from './results.ts';

const stages: StageRow[] = [
  { id: 10, event: 1, code: 'P', kind: 'prologue', sequence: 0, max_time_s: null, status: 'confirmed' },
  { id: 11, event: 1, code: 'SS1', kind: 'special', sequence: 1, max_time_s: 7200, status: 'finished' },
];
const entries: EntryRow[] = [
  { id: 101, event: 1, number: 1, category: 7, status: 'started' },
  { id: 102, event: 1, number: 2, category: 8, status: 'started' },
  { id: 103, event: 1, number: 3, category: 7, status: 'started' },
];
const rules: RuleRow[] = [
  { id: 5, event: 1, stage: null, category: null, evaluator: 'speed_zone', active: true, params: { brackets: [{ aboveKmh: 0, upToKmh: 20, method: 'fixed', amountMs: 60_000 }, { aboveKmh: 20, method: 'fixed', amountMs: 180_000 }] } },
  { id: 6, event: 1, stage: null, category: null, evaluator: 'max_time', active: true, params: { forfeitMs: 3_600_000 } },
];
const st = (stage: number, entry: number, status: string, net: number | null, extra: Partial<StageTimeRow> = {}): StageTimeRow => ({ id: stage * 1000 + entry, key: `${stage}:${entry}`, stage, entry, status, raw_ms: net, net_ms: net, penalty_ms: null, total_ms: null, excluded: false, position: null, category_position: null, ...extra });
const stageTimes: StageTimeRow[] = [st(11, 101, 'finished', 3_600_000), st(11, 102, 'finished', 3_590_000), st(11, 103, 'dnf', null)];
const infringement: InfringementRow = { id: 900, key: '11:101:44:0', stage: 11, entry: 101, zone: 44, entered_at: '2025-06-08T06:10:00Z', exited_at: '2025-06-08T06:11:00Z', limit_kmh: 50, max_speed_kmh: 72, avg_speed_kmh: 60, nominal_avg_speed_kmh: null, over_ms: 40_000, over_distance_m: 700, evidence: { fixes: [{ ts: '2025-06-08T06:10:10Z', speed_kmh: 72 }] } };
const penaltyRow = (extra: Partial<PenaltyRow>): PenaltyRow => ({ id: 1, key: 'k', event: 1, stage: 11, entry: 101, rule: null, source_kind: 'manual', source_id: null, amount_ms: 0, exclusion: false, explanation: null, override: 'none', override_amount_ms: null, override_reason: null, effective_ms: null, ...extra });

function evaluate(stored: PenaltyRow[], infringements = [infringement]) {
  const { facts } = entryFacts({ stages, entries, infringements, zones: [{ id: 44, code: 'SLZ 3' }], waypointPasses: [], waypoints: [], stageTimes, penalties: stored });
  const { overrides } = storedOverrides(stored);
  return { facts, ...evaluatePenalties({ stages: stageRefs(stages), rules: penaltyRules(rules), entries: facts, overrides }) };
}

describe('Directus rows → the core', () => {
  test('the infringement is keyed by its natural key and names its zone; the stage time is the net time', () => {
    const { facts, penalties } = evaluate([]);
    expect(facts[0].infringements![0]).toMatchObject({ id: '11:101:44:0', zoneCode: 'SLZ 3', samples: [{ speedKmh: 72 }] });
    expect(penalties).toHaveLength(1);
    expect(penalties[0]).toMatchObject({ key: 'infringement:11:101:44:0:speed_zone', ruleId: '5', amountMs: 180_000 });
    expect(penalties[0].explanation).toContain('SLZ 3');
  });

  test.each([
    ['waive', { override: 'waive', override_reason: 'GPS glitch' }, 0, 'waived by officials: GPS glitch'],
    ['adjust', { override: 'adjust', override_amount_ms: 30_000, override_reason: 'stewards' }, 30_000, 'adjusted to'],
  ])('a stored %s override applies and keeps the computed amount', (_name, o, effective, text) => {
    const stored = [penaltyRow({ id: 2, key: 'infringement:11:101:44:0:speed_zone', source_kind: 'infringement', ...o })];
    const { penalties } = evaluate(stored);
    const w = penaltyWrites(1, penalties, stored);
    expect(w.diff.create).toEqual([]);
    expect(w.diff.update).toEqual([expect.objectContaining({ id: 2, amount_ms: 180_000, effective_ms: effective, rule: 5 })]);
    expect(String(w.diff.update[0].explanation)).toContain(text);
  });

  test('an adjust without an amount is ignored and reported', () => {
    expect(storedOverrides([penaltyRow({ key: 'x', source_kind: 'infringement', override: 'adjust' })]).ignored).toEqual([{ key: 'x', reason: 'adjust without override_amount_ms' }]);
  });

  test('manual rows are facts, never deleted, and only their effective amount is written', () => {
    const manual = penaltyRow({ id: 3, key: 'manual-a', amount_ms: 120_000, explanation: 'dangerous driving' });
    const { penalties } = evaluate([manual], []);
    expect(penalties.map((p) => p.key)).toEqual([manualKey(manual)]);
    const w = penaltyWrites(1, penalties, [manual]);
    expect(w.diff).toMatchObject({ create: [], update: [], delete: [] });
    expect(w.manual).toEqual([{ id: 3, effective_ms: 120_000, source_id: '3' }]);
  });

  test('a computed row whose source is gone is deleted, unless an official decided on it (voided)', () => {
    const plain = penaltyRow({ id: 4, key: 'infringement:gone:speed_zone', source_kind: 'infringement', amount_ms: 60_000, effective_ms: 60_000 });
    const decided = penaltyRow({ id: 5, key: 'infringement:gone2:speed_zone', source_kind: 'infringement', amount_ms: 60_000, effective_ms: 0, override: 'waive', override_reason: 'x' });
    const { penalties } = evaluate([plain, decided], []);
    const w = penaltyWrites(1, penalties, [plain, decided]);
    expect(w.diff.delete).toEqual([4]);
    expect(w.voided).toBe(1);
    // only what differs is written: effective_ms was already 0
    expect(w.diff.update).toEqual([{ id: 5, amount_ms: 0, explanation: expect.stringContaining('No longer applies') }]);
  });
});

describe('totals, positions and standings', () => {
  const totalsFor = (evaluatedIds: number[]) => {
    const { facts, penalties } = evaluate([]);
    const evaluated = new Set(evaluatedIds);
    const input: TotalsInput = { stages, entries, stageTimes, evaluated, coreStageTimes: facts.filter((f) => evaluated.has(Number(f.entryId))).flatMap((f) => f.stageTimes ?? []), penalties: penalties.filter((p) => evaluated.has(Number(p.entryId))) };
    return { input, totals: eventTotals(input) };
  };

  test('stage totals add the penalty; positions overall and per category follow the totals', () => {
    const { input, totals } = totalsFor([101, 102, 103]);
    const patches = stageTimeWrites(input, totals);
    const by = (entry: number) => patches.find((p) => p.id === 11_000 + entry);
    // patches hold what differs (excluded is already false)
    expect(by(101)).toEqual({ id: 11_101, penalty_ms: 180_000, total_ms: 3_780_000, position: 2, category_position: 1 });
    expect(by(102)).toMatchObject({ penalty_ms: 0, total_ms: 3_590_000, position: 1, category_position: 1 });
    expect(by(103)).toEqual({ id: 11_103, penalty_ms: 0 });
  });

  test('an entry evaluated alone is ranked against the stored totals of the others', () => {
    const stored = stageTimes.map((r) => (r.entry === 102 ? { ...r, penalty_ms: 300_000, total_ms: 3_890_000 } : r));
    const { facts, penalties } = evaluate([]);
    const evaluated = new Set([101]);
    const input: TotalsInput = { stages, entries, stageTimes: stored, evaluated, coreStageTimes: facts[0].stageTimes!, penalties: penalties.filter((p) => p.entryId === '101') };
    const patches = stageTimeWrites(input, eventTotals(input));
    expect(patches.find((p) => p.id === 11_101)).toMatchObject({ total_ms: 3_780_000, position: 1 });
    expect(patches.find((p) => p.id === 11_102)).toEqual({ id: 11_102, position: 2, category_position: 1 });
  });

  test('a never-evaluated finished row counts with its net time; an excluded one has no total', () => {
    expect(storedTotal(st(11, 1, 'finished', 5000))).toMatchObject({ totalMs: 5000, classified: true });
    expect(storedTotal(st(11, 1, 'finished', 5000, { excluded: true, penalty_ms: 0, total_ms: 5000 }))).toMatchObject({ totalMs: null, classified: false, excluded: true });
  });

  test('standings after each counted stage: the prologue does not count; overall and per category', () => {
    const { totals } = totalsFor([101, 102, 103]);
    const rows = standingRows({ eventId: 1, stages, entries, totals, eventPenalties: [], countedKinds: ['special'] });
    expect(new Set(rows.map((r) => r.stage))).toEqual(new Set([11]));
    const overall = rows.filter((r) => r.scope === 'overall');
    expect(overall.map((r) => [r.entry, r.position, r.status, r.gap_ms])).toEqual([
      [102, 1, 'classified', 0],
      [101, 2, 'classified', 190_000],
      [103, null, 'not_classified', null],
    ]);
    expect(rows.filter((r) => r.scope === 'category' && r.category === 7).map((r) => [r.entry, r.position])).toEqual([
      [101, 1],
      [103, null],
    ]);
    expect(rows[0].key).toBe('11:overall:102');
  });
});

describe('time-control arrivals (stage_times.time_controls) → the time_control evaluator', () => {
  const tcRule: RuleRow = { id: 7, event: 1, stage: null, category: null, evaluator: 'time_control', active: true, params: findPreset('rally-albania-2025')!.penaltyRules.find((r) => r.evaluator === 'time_control')!.params };
  const due = '2025-06-08T10:15:00.000Z';
  const withTc = (arrivedAt: string | null, extra: Record<string, unknown> = {}) =>
    st(11, 101, 'finished', 3_600_000, { time_controls: [{ control: 31, code: 'TC1', due_at: due, arrived_at: arrivedAt, interpolated: true, late_ms: null, early_ms: null, ...extra }] });
  const run = (row: StageTimeRow) => {
    const { facts } = entryFacts({ stages, entries: entries.slice(0, 1), infringements: [], zones: [], waypointPasses: [], waypoints: [], stageTimes: [row], penalties: [] });
    return { facts, penalties: evaluatePenalties({ stages: stageRefs(stages), rules: penaltyRules([tcRule]), entries: facts, overrides: [] }).penalties };
  };

  // Rally Albania 2025 preset: 10 s per minute late, 1 min per minute early, clock minute, OTL after 30 min
  test.each([
    ['3 min late (any second of 10:18)', '2025-06-08T10:18:59.000Z', 30_000, false, 'SS1: TC1: 3 min late × 10 s/min → 30 s'],
    ['on time', '2025-06-08T10:15:40.000Z', 0, false, null],
    ['2 min early', '2025-06-08T10:13:59.000Z', 120_000, false, 'SS1: TC1: 2 min early × 1:00/min → 2:00'],
    ['OTL', '2025-06-08T10:46:00.000Z', 0, true, 'SS1: TC1: 31 min late, over the 30 min limit (OTL) → exclusion'],
  ])('%s', (_name, arrivedAt, amountMs, exclusion, explanation) => {
    const { facts, penalties } = run(withTc(arrivedAt));
    expect(facts[0].timeControls).toEqual([{ id: '11:101:31', stageId: '11', entryId: '101', controlId: '31', controlCode: 'TC1', dueMs: Date.parse(due), arrivedMs: Date.parse(arrivedAt) }]);
    if (explanation === null) return expect(penalties).toEqual([]);
    expect(penalties).toEqual([expect.objectContaining({ key: 'time_control:11:101:31:time_control', stageId: '11', ruleId: '7', amountMs, exclusion, explanation })]);
  });

  test('a control without a due time is reported, not evaluated; no time_controls = no facts', () => {
    const skipped: string[] = [];
    expect(timeControlFacts(withTc('2025-06-08T10:18:00.000Z', { due_at: null }), skipped)).toEqual([]);
    expect(skipped).toEqual(['stage_times 11:101: time control TC1 has no due time']);
    expect(timeControlFacts(st(11, 101, 'finished', 1), skipped)).toEqual([]);
  });
});
