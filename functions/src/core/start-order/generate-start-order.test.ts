import { describe, expect, test } from 'vitest';
import { SO_ERR_BAD_INPUT, SO_ERR_BAD_LOCK, SO_ERR_BAD_PARAMS, SO_ERR_UNKNOWN_STRATEGY } from './errors.ts';
import { generateStartOrder } from './generate-start-order.ts';
import { scheduleOffsetsMs } from './schedule.ts';
import type { ReferenceResult, StartEntry, StartOrderInput } from './types.ts';

const clock = (hh: number, mm: number, ss = 0) => Date.UTC(2025, 5, 9, hh, mm, ss);
const hms = (ms: number) => new Date(ms).toISOString().slice(11, 19);
const T7 = clock(7, 0);

const entry = (number: number, categoryId: string | null = 'moto'): StartEntry => ({ entryId: `e${number}`, number, categoryId });
const classified = (number: number, rawMs: number, penaltyMs = 0): ReferenceResult => ({ entryId: `e${number}`, status: 'classified', rawMs, totalMs: rawMs + penaltyMs });

function gen(over: Partial<StartOrderInput>) {
  return generateStartOrder({ stageId: 'ss1', strategy: 'previous_stage_clean_result', params: {}, firstStartAtMs: T7, entries: [], ...over });
}
const view = (rows: { number: number | null; position: number; startAtMs: number }[]) => rows.map((r) => [r.number, r.position, hms(r.startAtMs)]);

describe('AC-7 inverse_top_n_then_natural (Rally Albania 2012, N = 20, 60 s from 07:00:00)', () => {
  // prologue ranks 1..25: entry #(100 + r) finished r-th
  const entries = Array.from({ length: 25 }, (_, i) => entry(100 + i + 1));
  const reference = entries.map((e, i) => classified(e.number, 240_000 + i * 1_000));
  const result = gen({ strategy: 'inverse_top_n_then_natural', params: { n: 20, intervalMs: 60_000, referenceLabel: 'prologue' }, entries, reference });
  test.each([
    [7, 14, '07:13:00'],
    [20, 1, '07:00:00'],
    [1, 20, '07:19:00'],
    [2, 19, '07:18:00'],
    [19, 2, '07:01:00'],
    [21, 21, '07:20:00'],
    [23, 23, '07:22:00'],
  ])('prologue P%i → position %i at %s', (rank, position, time) => {
    const row = result.rows.find((r) => r.number === 100 + rank);
    expect([row?.position, hms(row?.startAtMs ?? 0)]).toEqual([position, time]);
  });
  test('explanations', () => {
    expect(result.rows.find((r) => r.number === 107)?.explanation).toBe('P7 in prologue; top 20 reversed → 14th');
    expect(result.rows.find((r) => r.number === 121)?.explanation).toBe('P21 in prologue; outside the top 20 → 21st');
  });
  test('fewer classified than N: all of them reversed', () => {
    const r = gen({ strategy: 'inverse_top_n_then_natural', params: { n: 20 }, entries: entries.slice(0, 3), reference: reference.slice(0, 3) });
    expect(r.rows.map((x) => x.number)).toEqual([103, 102, 101]);
  });
});

describe('S1 previous stage result: clean vs with penalties (§5)', () => {
  // stage 3: #12 4:01:10; #5 4:03:00 + 1:00 speeding; #7 4:03:30
  const entries = [entry(5), entry(7), entry(12)];
  const reference = [classified(12, 4 * 3_600_000 + 70_000), classified(5, 4 * 3_600_000 + 180_000, 60_000), classified(7, 4 * 3_600_000 + 210_000)];
  test.each([
    ['previous_stage_clean_result (default: without penalties)', 'previous_stage_clean_result', {}, [12, 5, 7]],
    ['previous_stage_clean_result with includePenalties', 'previous_stage_clean_result', { includePenalties: true }, [12, 7, 5]],
    ['natural (default: with penalties, Dakar)', 'natural', {}, [12, 7, 5]],
    ['natural without penalties', 'natural', { includePenalties: false }, [12, 5, 7]],
  ] as const)('%s', (_name, strategy, params, order) => {
    expect(gen({ strategy, params: { ...params, referenceLabel: 'SS3' }, entries, reference }).rows.map((r) => r.number)).toEqual(order);
  });
  test('explanation names the mode', () => {
    const rows = gen({ params: { referenceLabel: 'SS3' }, entries, reference }).rows;
    expect(rows[1].explanation).toBe('P2 in SS3 (4:03:00 without penalties) → 2nd');
  });
});

describe('ties, DNF, DNS, excluded', () => {
  const entries = [entry(1), entry(2), entry(3), entry(4), entry(5), entry(6), entry(7), entry(8)];
  const reference: ReferenceResult[] = [
    classified(4, 100_000),
    classified(2, 100_000), // tie with #4
    classified(3, 90_000),
    { entryId: 'e5', status: 'dnf', rawMs: null, totalMs: null },
    { entryId: 'e1', status: 'dnf', rawMs: null, totalMs: null },
    { entryId: 'e6', status: 'dns', rawMs: null, totalMs: null },
    { entryId: 'e7', status: 'excluded', rawMs: null, totalMs: null },
    // #8 has no result at all: treated as DNS
  ];
  const previousOrder = [{ entryId: 'e4', position: 1 }, { entryId: 'e5', position: 2 }, { entryId: 'e1', position: 3 }, { entryId: 'e2', position: 4 }];
  test.each([
    ['tie broken by previous order; DNF at the end in previous order; excluded omitted', {}, [3, 4, 2, 5, 1, 6, 8], ['e7']],
    ['DNF by number, DNS omitted', { unclassified: { dnf: 'by_number', dns: 'omit' } }, [3, 4, 2, 1, 5], ['e6', 'e8', 'e7']],
    ['excluded at the end', { unclassified: { excluded: 'end' } }, [3, 4, 2, 5, 1, 6, 8, 7], []],
  ])('%s', (_name, params, order, omitted) => {
    const r = gen({ params, entries, reference, previousOrder });
    expect(r.rows.map((x) => x.number)).toEqual(order);
    expect(r.omitted.map((o) => o.entryId)).toEqual(omitted);
  });
  test('tie without previous order: race number', () => {
    expect(gen({ entries, reference }).rows.slice(0, 3).map((x) => x.number)).toEqual([3, 2, 4]);
  });
  test('explanations of the tail', () => {
    const rows = gen({ params: { referenceLabel: 'SS2' }, entries, reference, previousOrder }).rows;
    expect(rows.find((x) => x.number === 5)?.explanation).toBe('DNF in SS2; after the classified, in previous start order → 4th');
    expect(rows.find((x) => x.number === 8)?.explanation).toBe('no result in SS2; after the classified, in previous start order → 7th');
  });
});

describe('other strategies', () => {
  const entries = [entry(3), entry(1), entry(2), entry(4)];
  const overall = [classified(1, 1_000), classified(2, 2_000), classified(3, 3_000), classified(4, 4_000)];
  test.each([
    ['inverse_of_overall: whole order reversed', 'inverse_of_overall', {}, [4, 3, 2, 1]],
    ['inverse_of_overall with n = 2', 'inverse_of_overall', { n: 2 }, [2, 1, 3, 4]],
    ['race_number', 'race_number', {}, [1, 2, 3, 4]],
    ['reverse_race_number (Dakar 2022 prologue bikes)', 'reverse_race_number', {}, [4, 3, 2, 1]],
  ] as const)('%s', (_name, strategy, params, order) => {
    expect(gen({ strategy, params, entries, reference: overall }).rows.map((r) => r.number)).toEqual(order);
  });
  test('inverse_of_overall explanation', () => {
    expect(gen({ strategy: 'inverse_of_overall', entries, reference: overall }).rows[0].explanation).toBe('P4 overall; order reversed → 1st');
  });
  test('manual: given positions, the rest at the end by number', () => {
    const r = gen({ strategy: 'manual', entries, manual: [{ entryId: 'e4', position: 1 }, { entryId: 'e2', position: 2 }] });
    expect(r.rows.map((x) => [x.number, x.explanation])).toEqual([
      [4, 'manual position 1 → 1st'],
      [2, 'manual position 2 → 2nd'],
      [1, 'no manual position; at the end by race number → 3rd'],
      [3, 'no manual position; at the end by race number → 4th'],
    ]);
  });
});

describe('interval schedules', () => {
  test('Dakar 2017 bikes: 1–10 every 3 min, 11–20 every 2 min, 21+ two at a time every 30 s', () => {
    const entries = Array.from({ length: 26 }, (_, i) => entry(i + 1));
    const r = gen({ strategy: 'race_number', params: { blocks: [{ fromPosition: 1, intervalMs: 180_000 }, { fromPosition: 11, intervalMs: 120_000 }, { fromPosition: 21, intervalMs: 30_000, perSlot: 2 }] }, entries });
    const at = (n: number) => hms(r.rows[n - 1].startAtMs);
    expect([1, 2, 10, 11, 20, 21, 22, 23, 24, 25].map((n) => [n, at(n)])).toEqual([
      [1, '07:00:00'], [2, '07:03:00'], [10, '07:27:00'], [11, '07:30:00'], [20, '07:48:00'],
      [21, '07:50:00'], [22, '07:50:00'], [23, '07:50:30'], [24, '07:50:30'], [25, '07:51:00'],
    ]);
  });

  test('Rally Albania 2011 prologue: bikes+quads (3 × 1 min, then 20 s), then cars (3 × 2 min, then 1 min)', () => {
    const entries = [entry(1, 'M-1'), entry(2, 'M-2'), entry(3, 'Q-1'), entry(4, 'M-1'), entry(5, 'M-1'), entry(201, 'C-1'), entry(202, 'C-2'), entry(203, 'C-1'), entry(204, 'C-1'), entry(205, 'C-2')];
    const params = {
      groups: [
        { id: 'bikes-quads', categoryIds: ['M-1', 'M-2', 'Q-1'], blocks: [{ fromPosition: 1, intervalMs: 60_000 }, { fromPosition: 4, intervalMs: 20_000 }] },
        { id: 'cars', categoryIds: ['C-1', 'C-2'], blocks: [{ fromPosition: 1, intervalMs: 120_000 }, { fromPosition: 4, intervalMs: 60_000 }], gapBeforeMs: 600_000 },
      ],
    };
    const r = gen({ strategy: 'race_number', params, entries });
    expect(view(r.rows)).toEqual([
      [1, 1, '07:00:00'], [2, 2, '07:01:00'], [3, 3, '07:02:00'], [4, 4, '07:03:00'], [5, 5, '07:03:20'],
      [201, 6, '07:13:20'], [202, 7, '07:15:20'], [203, 8, '07:17:20'], [204, 9, '07:19:20'], [205, 10, '07:20:20'],
    ]);
    expect(r.rows.map((x) => x.groupId)).toEqual([...Array(5).fill('bikes-quads'), ...Array(5).fill('cars')]);
  });

  test('a group with its own absolute start (Albania 2011 stage II: cars from 14:00) ranks within the group', () => {
    const entries = [entry(1, 'moto'), entry(2, 'moto'), entry(201, 'car'), entry(202, 'car')];
    const reference = [classified(1, 5_000), classified(2, 4_000), classified(201, 1_000), classified(202, 2_000)];
    const r = gen({ params: { groups: [{ id: 'moto', categoryIds: ['moto'] }, { id: 'car', categoryIds: ['car'], startAtMs: clock(14, 0) }] }, entries, reference, firstStartAtMs: clock(10, 0) });
    expect(view(r.rows)).toEqual([[2, 1, '10:00:00'], [1, 2, '10:01:00'], [201, 3, '14:00:00'], [202, 4, '14:01:00']]);
    expect(r.rows[2].explanation).toBe('P1 in the previous stage (1 s without penalties) → 3rd');
  });

  test('offsets helper', () => {
    expect(scheduleOffsetsMs([{ fromPosition: 1, intervalMs: 60_000, perSlot: 1 }, { fromPosition: 3, intervalMs: 30_000, perSlot: 2 }], 6)).toEqual([0, 60_000, 120_000, 120_000, 150_000, 150_000]);
  });
});

describe('locked rows', () => {
  const entries = Array.from({ length: 6 }, (_, i) => entry(i + 1));
  const reference = entries.map((e) => classified(e.number, e.number * 1_000));
  test('a locked row keeps its position and time; the others fill around it', () => {
    const locked = [{ entryId: 'e6', position: 2, startAtMs: clock(7, 1, 30), explanation: 'late arrival, placed by the Clerk' }];
    const r = gen({ entries, reference, locked });
    expect(view(r.rows)).toEqual([[1, 1, '07:00:00'], [6, 2, '07:01:30'], [2, 3, '07:02:00'], [3, 4, '07:03:00'], [4, 5, '07:04:00'], [5, 6, '07:05:00']]);
    expect(r.rows[1]).toMatchObject({ locked: true, explanation: 'late arrival, placed by the Clerk' });
  });
  test('a fully locked order is kept as it is, whatever the strategy says', () => {
    const locked = entries.map((e, i) => ({ entryId: e.entryId, position: i + 1, startAtMs: T7 + i * 120_000, explanation: `kept ${i + 1}` }));
    const r = gen({ strategy: 'inverse_top_n_then_natural', params: { n: 6 }, entries, reference, locked });
    expect(r.rows.map((x) => [x.entryId, x.position, x.startAtMs, x.locked, x.explanation])).toEqual(locked.map((l) => [l.entryId, l.position, l.startAtMs, true, l.explanation]));
  });
  test('a locked entry that would be omitted stays', () => {
    const r = gen({ entries, reference: [...reference.slice(1), { entryId: 'e1', status: 'excluded', rawMs: null, totalMs: null }], locked: [{ entryId: 'e1', position: 6, startAtMs: T7 }] });
    expect(r.rows.map((x) => x.number)).toEqual([2, 3, 4, 5, 6, 1]);
    expect(r.omitted).toEqual([]);
  });
  test('regeneration is idempotent', () => {
    const input: StartOrderInput = { stageId: 'ss1', strategy: 'inverse_top_n_then_natural', params: { n: 3 }, firstStartAtMs: T7, entries, reference, locked: [{ entryId: 'e4', position: 1, startAtMs: T7 }] };
    const first = generateStartOrder(input);
    expect(generateStartOrder(input)).toEqual(first);
    // feeding the output back as locked rows changes nothing
    const relocked = generateStartOrder({ ...input, locked: first.rows.map((x) => ({ entryId: x.entryId, position: x.position, startAtMs: x.startAtMs, explanation: x.explanation })) });
    expect(relocked.rows.map((x) => [x.entryId, x.position, x.startAtMs, x.explanation])).toEqual(first.rows.map((x) => [x.entryId, x.position, x.startAtMs, x.explanation]));
    // input order does not matter
    expect(generateStartOrder({ ...input, entries: [...entries].reverse(), reference: [...reference].reverse() })).toEqual(first);
  });
});

describe('errors', () => {
  test.each([
    ['unknown strategy', { strategy: 'fastest_first' as never }, SO_ERR_UNKNOWN_STRATEGY],
    ['n missing for inverse_top_n', { strategy: 'inverse_top_n_then_natural' as const, reference: [] }, SO_ERR_BAD_PARAMS],
    ['blocks not starting at 1', { params: { blocks: [{ fromPosition: 2, intervalMs: 1 }] }, reference: [] }, SO_ERR_BAD_PARAMS],
    ['category in two groups', { params: { groups: [{ id: 'a', categoryIds: ['x'] }, { id: 'b', categoryIds: ['x'] }] }, reference: [] }, SO_ERR_BAD_PARAMS],
    ['no reference for a ranking strategy', {}, SO_ERR_BAD_INPUT],
    ['entry in no group', { params: { groups: [{ id: 'a', categoryIds: ['car'] }] }, entries: [entry(1, 'moto')], reference: [] }, SO_ERR_BAD_INPUT],
    ['two locks on one position', { reference: [], locked: [{ entryId: 'e1', position: 1, startAtMs: 0 }, { entryId: 'e2', position: 1, startAtMs: 0 }] }, SO_ERR_BAD_LOCK],
  ])('%s', (_name, over, code) => {
    expect(() => gen(over)).toThrow(expect.objectContaining({ code }));
  });
  test('every bad param listed at once', () => {
    expect(() => gen({ strategy: 'inverse_top_n_then_natural', params: { n: 0, intervalMs: -5, unclassified: { dnf: 'first' }, colour: 1 }, reference: [] })).toThrow(
      expect.objectContaining({ problems: ['colour is not a known parameter', 'n must be >= 1', 'intervalMs must be >= 0', 'unclassified.dnf must be one of end, by_number, omit'] }),
    );
  });
});
