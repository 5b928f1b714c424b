import { describe, expect, test } from 'vitest';
import { generateStartOrder } from '../core/start-order/index.ts';
import { coreParams, lockedRows, nextStage, overallReference, previousStage, stageReference, startEntries, startOrderWrites, type StageRow, type StartOrderRow } from './plan.ts';

const stage = (id: number, sequence: number, kind = 'special', extra: Partial<StageRow> = {}): StageRow => ({ id, event: 1, code: `S${id}`, kind, sequence, planned_start: '2025-06-08T07:00:00Z', start_interval_s: 60, start_order_strategy: 'previous_stage_clean_result', start_order_params: null, status: 'planned', ...extra });

describe('previous and next stage', () => {
  const stages = [stage(1, 0, 'prologue'), stage(2, 1, 'liaison'), stage(3, 2), stage(4, 3)];
  test.each([
    [3, 1],
    [4, 3],
    [1, undefined],
  ])('before stage %i comes %s (liaisons skipped)', (id, want) => {
    expect(previousStage(stages, stages.find((s) => s.id === id)!)?.id).toBe(want);
  });
  test.each([
    [1, 3],
    [3, 4],
    [4, undefined],
  ])('after stage %i comes %s', (id, want) => {
    expect(nextStage(stages, stages.find((s) => s.id === id)!)?.id).toBe(want);
  });
});

describe('stage settings → core params', () => {
  test('the stage interval stands in; the previous stage labels the reference; category codes become ids', () => {
    const s = stage(3, 2, 'special', { start_interval_s: 120, start_order_params: { groups: [{ id: 'bikes', label: 'Moto', categoryIds: ['M-1', 8] }] } });
    expect(coreParams(s, [{ id: 7, code: 'M-1' }, { id: 8, code: 'C-1' }], { code: 'P', kind: 'prologue' })).toEqual({ intervalMs: 120_000, referenceLabel: 'prologue', groups: [{ id: 'bikes', label: 'Moto', categoryIds: ['7', '8'] }] });
  });
  test('explicit blocks and label win', () => {
    const s = stage(3, 2, 'special', { start_order_params: { blocks: [{ fromPosition: 1, intervalMs: 30_000 }], referenceLabel: 'SS1' } });
    expect(coreParams(s, [], { code: 'S2', kind: 'special' })).toEqual({ blocks: [{ fromPosition: 1, intervalMs: 30_000 }], referenceLabel: 'SS1' });
  });
});

describe('references', () => {
  test.each([
    ['finished, evaluated', { status: 'finished', net_ms: 1000, penalty_ms: 60_000, total_ms: 61_000 }, { status: 'classified', rawMs: 1000, totalMs: 61_000 }],
    ['finished, not evaluated yet', { status: 'finished', net_ms: 1000, penalty_ms: null, total_ms: null }, { status: 'classified', rawMs: 1000, totalMs: 1000 }],
    ['excluded by a penalty', { status: 'finished', net_ms: 1000, excluded: true }, { status: 'excluded' }],
    ['dnf', { status: 'dnf' }, { status: 'dnf' }],
    ['still running when confirmed', { status: 'running' }, { status: 'dnf' }],
    ['dns', { status: 'dns' }, { status: 'dns' }],
  ] as const)('stage_times %s', (_name, row, want) => {
    expect(stageReference([{ entry: 5, raw_ms: null, net_ms: null, penalty_ms: null, total_ms: null, excluded: false, ...row }])[0]).toMatchObject({ entryId: '5', ...want });
  });
  test('overall standings: clean = total − penalties', () => {
    expect(overallReference([{ entry: 5, status: 'classified', total_ms: 9000, penalty_ms: 1000 }, { entry: 6, status: 'not_classified', total_ms: 100, penalty_ms: 0 }])).toEqual([
      { entryId: '5', status: 'classified', rawMs: 8000, totalMs: 9000 },
      { entryId: '6', status: 'dnf', rawMs: null, totalMs: null },
    ]);
  });
  test('retired entries do not start unless locked in', () => {
    const { entries, notStarting } = startEntries([{ id: 1, number: 1, category: null, status: 'retired' }, { id: 2, number: 2, category: null, status: 'retired' }, { id: 3, number: 3, category: 4, status: 'started' }], new Set([2]));
    expect(entries.map((e) => e.entryId)).toEqual(['2', '3']);
    expect(notStarting).toEqual([{ entryId: '1', reason: 'entry status retired: not starting' }]);
  });
});

describe('start_orders writes', () => {
  const so = (id: number, entry: number, extra: Partial<StartOrderRow> = {}): StartOrderRow => ({ id, key: `9:${entry}`, stage: 9, entry, position: null, start_at: null, explanation: null, locked: false, strategy: null, ...extra });
  const generate = (stored: StartOrderRow[]) =>
    generateStartOrder({ stageId: '9', strategy: 'race_number', params: { intervalMs: 60_000 }, firstStartAtMs: Date.parse('2025-06-08T07:00:00Z'), entries: [1, 2, 3].map((n) => ({ entryId: String(n), number: n, categoryId: null })), locked: lockedRows(stored) });

  test('a locked row is never written; the others fill around it; a second pass changes nothing', () => {
    const lockedRow = so(50, 3, { position: 1, start_at: '2025-06-08T06:59:00Z', explanation: 'stewards', locked: true });
    const first = startOrderWrites(9, 'race_number', generate([lockedRow]), [lockedRow]);
    expect(first.locked).toBe(1);
    expect(first.create.map((r) => [r.entry, r.position, r.start_at])).toEqual([
      [1, 2, '2025-06-08T07:01:00.000Z'],
      [2, 3, '2025-06-08T07:02:00.000Z'],
    ]);
    const stored = [lockedRow, ...first.create.map((r, i) => ({ ...r, id: 60 + i }))];
    const second = startOrderWrites(9, 'race_number', generate(stored), stored);
    expect(second).toMatchObject({ create: [], update: [], delete: [], unchanged: 2 });
  });

  test('a row an official typed with another key gets the natural key; a duplicate and a row of an entry that no longer starts are deleted', () => {
    const stored = [so(70, 1, { key: 'typed' }), so(71, 1), so(72, 99)];
    const w = startOrderWrites(9, 'race_number', generate([]), stored);
    expect(w.update.find((u) => u.id === 70)).toMatchObject({ key: '9:1', position: 1 });
    expect(w.delete.sort()).toEqual([71, 72]);
  });
});
