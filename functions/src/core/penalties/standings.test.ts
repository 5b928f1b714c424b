import { describe, expect, test } from 'vitest';
import { evaluatePenalties } from './evaluate-penalties.ts';
import { computeStandings } from './standings.ts';
import { stageTotal, stageTotals } from './totals.ts';
import type { EntryFacts, Penalty, StageRef, StageTime } from './types.ts';

const stages: StageRef[] = [
  { id: 'pro', code: 'Prologue', sequence: 0 },
  { id: 'ss1', code: 'SS1', sequence: 1 },
  { id: 'ss2', code: 'SS2', sequence: 2 },
];
const H = 3_600_000;
const M = 60_000;

function time(entryId: string, stageId: string, rawMs: number | null, status: StageTime['status'] = 'finished', maxTimeMs: number | null = 8 * H): StageTime {
  return { id: `${entryId}-${stageId}`, stageId, entryId, status, rawMs, maxTimeMs };
}

function penalty(entryId: string, stageId: string | null, amountMs: number, over: Partial<Penalty> = {}): Penalty {
  const key = `manual:${entryId}-${stageId}-${amountMs}:manual`;
  return { key, entryId, stageId, sourceKind: 'manual', sourceId: key, evaluator: 'manual', ruleId: null, computedAmountMs: amountMs, computedExclusion: false, amountMs, exclusion: false, replacesRawMs: null, fine: null, offenceNumber: null, status: 'computed', override: null, explanation: '', ...over };
}

describe('stage totals', () => {
  test.each([
    ['raw + penalties', time('e1', 'ss1', 4 * H), [penalty('e1', 'ss1', M), penalty('e1', 'ss1', 30_000)], { totalMs: 4 * H + 90_000, penaltyMs: 90_000, classified: true }],
    ['other entries and stages ignored', time('e1', 'ss1', 4 * H), [penalty('e2', 'ss1', M), penalty('e1', 'ss2', M)], { totalMs: 4 * H, penaltyMs: 0 }],
    ['forfeit: max time + forfeit + other penalties', time('e1', 'ss1', 9 * H), [penalty('e1', 'ss1', 2 * H, { replacesRawMs: 8 * H, sourceKind: 'max_time' }), penalty('e1', 'ss1', 15 * M)], { countedRawMs: 8 * H, totalMs: 10 * H + 15 * M, forfeited: true, classified: true }],
    ['DNF forfeited at max time is classified', time('e1', 'ss1', null, 'dnf'), [penalty('e1', 'ss1', 10 * H, { replacesRawMs: 8 * H })], { totalMs: 18 * H, classified: true }],
    ['DNF without forfeit is not classified', time('e1', 'ss1', null, 'dnf'), [], { totalMs: null, classified: false }],
    ['an exclusion penalty excludes', time('e1', 'ss1', 4 * H), [penalty('e1', 'ss1', 0, { exclusion: true })], { totalMs: null, excluded: true, classified: false }],
    ['dsq excludes', time('e1', 'ss1', 4 * H, 'dsq'), [], { excluded: true, classified: false }],
  ])('%s', (_name, t, penalties, expected) => {
    expect(stageTotal(t, penalties)).toMatchObject(expected);
  });
});

describe('standings', () => {
  const entries = [
    { entryId: 'e5', number: 5, categoryId: 'moto' },
    { entryId: 'e7', number: 7, categoryId: 'moto' },
    { entryId: 'e12', number: 12, categoryId: 'moto' },
    { entryId: 'e3', number: 3, categoryId: 'car' },
    { entryId: 'e4', number: 4, categoryId: 'car' },
    { entryId: 'e9', number: 9, categoryId: 'car' },
    { entryId: 'e1', number: 1, categoryId: 'car' },
  ];
  const times = [
    time('e5', 'ss1', 2 * H), time('e5', 'ss2', 2 * H + 3 * M),
    time('e7', 'ss1', 2 * H + M), time('e7', 'ss2', 2 * H + 2 * M),
    time('e12', 'ss1', 2 * H + 30_000), time('e12', 'ss2', 2 * H),
    time('e3', 'ss1', 3 * H), time('e3', 'ss2', null, 'dnf'),
    time('e4', 'ss1', 3 * H), time('e4', 'ss2', 3 * H),
    time('e9', 'ss1', 2 * H + 59 * M), time('e9', 'ss2', 3 * H),
    time('e1', 'ss1', 2 * H), time('e1', 'ss2', 2 * H),
    // the prologue does not count (Rally Albania: start order only)
    time('e7', 'pro', 10 * H),
  ];
  const penalties = [penalty('e12', 'ss1', 2 * M), penalty('e4', null, M), penalty('e1', 'ss2', 0, { exclusion: true })];
  const standings = computeStandings({ stages, countedStageIds: ['ss1', 'ss2'], entries, stageTotals: stageTotals(times, penalties), penalties });

  test('overall: sum of counted totals, ties broken by the first stage, gaps to the leader', () => {
    expect(standings.overall.map((r) => [r.number, r.position, r.status, r.totalMs, r.gapToLeaderMs, r.gapToPreviousMs])).toEqual([
      [12, 1, 'classified', 4 * H + 2 * M + 30_000, 0, 0],
      [5, 2, 'classified', 4 * H + 3 * M, 30_000, 30_000], // tie with #7 on total; #5 was faster on SS1
      [7, 3, 'classified', 4 * H + 3 * M, 30_000, 0],
      [9, 4, 'classified', 5 * H + 59 * M, H + 56 * M + 30_000, H + 56 * M],
      [4, 5, 'classified', 6 * H + M, H + 58 * M + 30_000, 2 * M], // event-level penalty counted
      [3, null, 'not_classified', 3 * H, null, null], // DNF on SS2
      [1, null, 'excluded', 2 * H, null, null], // the excluded stage is not summed
    ]);
  });

  test('by category, each with its own positions and gaps', () => {
    expect(standings.byCategory.map((c) => [c.categoryId, c.rows.map((r) => [r.number, r.position, r.gapToLeaderMs])])).toEqual([
      ['car', [[9, 1, 0], [4, 2, 2 * M], [3, null, null], [1, null, null]]],
      ['moto', [[12, 1, 0], [5, 2, 30_000], [7, 3, 30_000]]],
    ]);
  });

  test('same totals and same stage times: race number decides', () => {
    const tie = computeStandings({ stages, entries: [{ entryId: 'b', number: 22, categoryId: null }, { entryId: 'a', number: 11, categoryId: null }], stageTotals: stageTotals([time('a', 'ss1', H), time('b', 'ss1', H)], []), countedStageIds: ['ss1'] });
    expect(tie.overall.map((r) => [r.number, r.position])).toEqual([[11, 1], [22, 2]]);
  });

  test('end to end: evaluated penalties feed the totals', () => {
    const facts: EntryFacts[] = [{ entryId: 'e1', categoryId: null, stageTimes: [time('e1', 'ss1', 9 * H)], manualPenalties: [{ id: 'm', stageId: 'ss1', entryId: 'e1', amountMs: M, reason: 'r', issuedBy: 'CoC' }] }];
    const { penalties: ps } = evaluatePenalties({ stages, entries: facts, rules: [{ id: 'mt', evaluator: 'max_time', params: { forfeitMs: H }, stageId: null, categoryId: null }] });
    expect(stageTotal(time('e1', 'ss1', 9 * H), ps)).toMatchObject({ countedRawMs: 8 * H, penaltyMs: H + M, totalMs: 9 * H + M });
  });
});
