import { describe, expect, test } from 'vitest';
import { evaluatePenalties } from './evaluate-penalties.ts';
import { PEN_ERR_BAD_FACTS, PEN_ERR_BAD_OVERRIDE, PEN_ERR_RULE_CONFLICT, PEN_ERR_UNKNOWN_EVALUATOR } from './errors.ts';
import { compileRules, resolveRule } from './resolve-rules.ts';
import type { EntryFacts, EvaluationInput, PenaltyRule, SpeedInfringement, StageRef, TimeControlArrival, WaypointPass } from './types.ts';

const stages: StageRef[] = [
  { id: 'pro', code: 'Prologue', sequence: 0 },
  { id: 'ss1', code: 'SS1', sequence: 1 },
  { id: 'ss2', code: 'SS2', sequence: 2 },
];

const T0 = Date.UTC(2025, 5, 8, 8, 0, 0); // 2025-06-08 08:00:00Z
const at = (hh: number, mm: number, ss = 0) => Date.UTC(2025, 5, 8, hh, mm, ss);

function inf(id: string, stageId: string, enteredAtMs: number, maxSpeedKmh: number, limitKmh = 50): SpeedInfringement {
  return { id, stageId, entryId: 'e1', zoneId: `z-${id}`, zoneCode: `SLZ ${id}`, limitKmh, maxSpeedKmh, avgSpeedKmh: limitKmh - 5, overMs: 5_000, overDistanceM: 80, enteredAtMs, exitedAtMs: enteredAtMs + 30_000 };
}

function wp(id: string, type: WaypointPass['type'], sequence: number, validated: boolean, stageId = 'ss1'): WaypointPass {
  return { id, stageId, entryId: 'e1', waypointId: `w-${id}`, waypointCode: `WP${sequence}`, type, sequence, validated };
}

function rule(id: string, evaluator: string, params: unknown, stageId: string | null = null, categoryId: string | null = null): PenaltyRule {
  return { id, evaluator, params, stageId, categoryId };
}

function run(entry: Omit<EntryFacts, 'entryId' | 'categoryId'> & { categoryId?: string | null }, rules: PenaltyRule[], overrides: EvaluationInput['overrides'] = []) {
  return evaluatePenalties({ stages, rules, entries: [{ entryId: 'e1', categoryId: entry.categoryId ?? null, ...entry }], overrides });
}

// Dakar 2005 (zitzewitz.com [S]): 30 s per km/h from the first km/h; ×2, ×4 for the 2nd, 3rd offence; 4th = exclusion.
const dakar2005 = rule('r-dakar05', 'speed_zone', {
  brackets: [{ aboveKmh: 0, method: 'per_kmh', perKmhMs: 30_000 }],
  escalation: { scope: 'event', multipliers: [1, 2, 4], excludeAtOffence: 4, fineByOffence: [300, 500, 1000] },
  currency: 'EUR',
});

describe('AC-2 Dakar 2005 escalation across the event', () => {
  const result = run(
    {
      infringements: [
        // given out of order and over two stages: the engine orders them in time
        inf('C', 'ss2', T0 + 1_000, 53),
        inf('A', 'ss1', T0, 58),
        inf('D', 'ss2', T0 + 2_000, 51),
        inf('B', 'ss1', T0 + 500, 61),
      ],
    },
    [dakar2005],
  );
  test.each([
    ['A', 1, 240_000, false, 300], // 8 × 30 s = 4:00
    ['B', 2, 660_000, false, 500], // 11 × 60 s = 11:00
    ['C', 3, 360_000, false, 1000], // 3 × 120 s = 6:00
    ['D', 4, 0, true, 1000], // exclusion
  ])('zone %s: offence %i → %i ms, exclusion %s, fine %i', (id, offence, amountMs, exclusion, fine) => {
    const p = result.penalties.find((x) => x.sourceId === id);
    expect(p).toMatchObject({ offenceNumber: offence, amountMs, exclusion, fine, key: `infringement:${id}:speed_zone`, ruleId: 'r-dakar05' });
  });
  test('21:00 before the exclusion', () => {
    expect(result.penalties.filter((p) => !p.exclusion).reduce((s, p) => s + p.amountMs, 0)).toBe(21 * 60_000);
  });
  test('a dismissed infringement is no offence and renumbers the later ones', () => {
    const again = run({ infringements: [{ ...inf('A', 'ss1', T0, 58), dismissed: true }, inf('B', 'ss1', T0 + 500, 61)] }, [dakar2005]);
    expect(again.penalties).toHaveLength(1);
    expect(again.penalties[0]).toMatchObject({ sourceId: 'B', offenceNumber: 1, amountMs: 330_000 });
  });
  test('an infringement within tolerance is shown at 0 and is no offence', () => {
    const tolerant = rule('r', 'speed_zone', { toleranceKmh: 3, brackets: [{ aboveKmh: 0, method: 'per_kmh', perKmhMs: 30_000 }], escalation: { multipliers: [1, 2] } });
    const r = run({ infringements: [inf('A', 'ss1', T0, 52), inf('B', 'ss1', T0 + 1, 58)] }, [tolerant]);
    expect(r.penalties.map((p) => [p.sourceId, p.amountMs, p.offenceNumber])).toEqual([['A', 0, null], ['B', 240_000, 1]]);
    expect(r.penalties[0].explanation).toContain('within the 3 km/h tolerance');
  });
});

const missedWp = rule('r-wp', 'missed_waypoint', { amountMsByType: { WPV: 900_000, WPM: 900_000, WPS: 900_000, WPE: 600_000, WPC: 900_000, WPN: 3_600_000 }, wpeAfterMissedAmountMs: 0 });

describe('missed waypoint by type', () => {
  test.each([
    ['WPM missed → 15 min', [wp('1', 'WPM', 1, false)], [['1', 900_000]]],
    ['WPN missed → 60 min', [wp('1', 'WPN', 1, false)], [['1', 3_600_000]]],
    ['WPE missed after a validated WP → 10 min', [wp('1', 'WPV', 1, true), wp('2', 'WPE', 2, false)], [['2', 600_000]]],
    ['WPE missed right after a missed WPM → the WPE-after-miss amount', [wp('1', 'WPM', 1, false), wp('2', 'WPE', 2, false)], [['1', 900_000], ['2', 0]]],
    ['validated waypoints cost nothing', [wp('1', 'WPM', 1, true), wp('2', 'WPS', 2, true)], []],
    ['missed per fact: lost and rejoined', [wp('1', 'WPV', 1, true), wp('2', 'WPM', 2, false), wp('3', 'WPM', 3, false), wp('4', 'WPV', 4, true)], [['2', 900_000], ['3', 900_000]]],
  ])('%s', (_name, passes, expected) => {
    const r = run({ waypointPasses: passes }, [missedWp]);
    expect(r.penalties.map((p) => [p.sourceId, p.amountMs])).toEqual(expected);
  });
  test('explanation', () => {
    expect(run({ waypointPasses: [wp('1', 'WPM', 7, false)] }, [missedWp]).penalties[0].explanation).toBe('SS1: WPM WP7 missed → 15:00');
  });
  test('exclusion at the 3rd miss of the stage', () => {
    const r = run({ waypointPasses: [wp('1', 'WPM', 1, false), wp('2', 'WPM', 2, false), wp('3', 'WPM', 3, false), wp('4', 'WPM', 1, false, 'ss2')] }, [rule('r', 'missed_waypoint', { amountMsByType: { WPV: 1, WPM: 900_000, WPS: 1, WPE: 1, WPC: 1 }, excludeAtMissedInStage: 3 })]);
    expect(r.penalties.map((p) => [p.sourceId, p.exclusion])).toEqual([['1', false], ['2', false], ['3', true], ['4', false]]);
  });
});

// AC-8, the stage-rally standard (Wikipedia "Scheduled time" [S]): 10 s per minute late, 1 min per minute early, OTL → exclusion.
const tcRule = (granularity: string, extra: object = {}) => rule('r-tc', 'time_control', { latePerMinuteMs: 10_000, earlyPerMinuteMs: 60_000, granularity, otlAfterMinutes: 15, ...extra });
const tc = (arrivedMs: number | null): TimeControlArrival => ({ id: 'tc1', stageId: 'ss1', entryId: 'e1', controlId: 'ch2', controlCode: 'CH2', dueMs: at(10, 15), arrivedMs });

describe('AC-8 time control', () => {
  test.each([
    ['arrival in minute 10:18 (clock minute) → 3 late → 30 s', 'clock_minute', at(10, 18, 40), 30_000, false],
    ['arrival in minute 10:13 (clock minute) → 2 early → 2:00', 'clock_minute', at(10, 13, 5), 120_000, false],
    ['10:13:59 is still 2 early by the clock', 'clock_minute', at(10, 13, 59), 120_000, false],
    ['10:15:59 is on time by the clock', 'clock_minute', at(10, 15, 59), null, false],
    ['3:40 late, started minutes → 4 → 40 s', 'started_minute', at(10, 18, 40), 40_000, false],
    ['3:40 late, completed minutes → 3 → 30 s', 'completed_minute', at(10, 18, 40), 30_000, false],
    ['3:40 late, exact → 36.667 s', 'exact', at(10, 18, 40), 36_667, false],
    ['16 min late with a 15 min limit → OTL exclusion', 'clock_minute', at(10, 31), 0, true],
    ['15 min late is still within the limit → 2:30', 'clock_minute', at(10, 30, 30), 150_000, false],
  ])('%s', (_name, granularity, arrivedMs, amountMs, exclusion) => {
    const p = run({ timeControls: [tc(arrivedMs)] }, [tcRule(granularity)]).penalties;
    if (amountMs === null) expect(p).toEqual([]);
    else expect(p[0]).toMatchObject({ amountMs, exclusion, key: 'time_control:tc1:time_control' });
  });
  test('explanation', () => {
    expect(run({ timeControls: [tc(at(10, 18, 40))] }, [tcRule('clock_minute')]).penalties[0].explanation).toBe('SS1: CH2: 3 min late × 10 s/min → 30 s');
  });
  test('no check-in: nothing unless configured, then exclusion', () => {
    expect(run({ timeControls: [tc(null)] }, [tcRule('clock_minute')]).penalties).toEqual([]);
    expect(run({ timeControls: [tc(null)] }, [tcRule('clock_minute', { missedOutcome: 'exclusion' })]).penalties[0].exclusion).toBe(true);
  });
});

describe('max time forfeit and manual penalties', () => {
  const maxRule = rule('r-max', 'max_time', { forfeitMs: 2 * 3_600_000 });
  test('over max time → stage time = max + forfeit', () => {
    const r = run({ stageTimes: [{ id: 'st1', stageId: 'ss1', entryId: 'e1', status: 'finished', rawMs: 6.2 * 3_600_000, maxTimeMs: 6 * 3_600_000 }] }, [maxRule]);
    expect(r.penalties[0]).toMatchObject({ key: 'max_time:st1:max_time', amountMs: 7_200_000, replacesRawMs: 21_600_000 });
    expect(r.penalties[0].explanation).toBe('SS1: 6:12:00 is over the maximum time → stage time = maximum 6:00:00 + forfeit 2:00:00');
  });
  test.each([
    ['within max time', 'finished', 5 * 3_600_000, false, 0],
    ['DNF without dnfForfeit', 'dnf', null, false, 0],
    ['DNF with dnfForfeit (Dakar: max time + 10 h)', 'dnf', null, true, 1],
  ] as const)('%s', (_name, status, rawMs, dnfForfeit, count) => {
    const r = run({ stageTimes: [{ id: 'st1', stageId: 'ss1', entryId: 'e1', status, rawMs, maxTimeMs: 6 * 3_600_000 }] }, [rule('r', 'max_time', { forfeitMs: 36_000_000, dnfForfeit })]);
    expect(r.penalties).toHaveLength(count);
  });
  test('manual penalties pass through, with or without a rule; credits are negative', () => {
    const r = run({ manualPenalties: [
      { id: 'm1', stageId: 'ss1', entryId: 'e1', amountMs: 300_000, reason: 'refuelling outside the zone', issuedBy: 'Clerk of the Course' },
      { id: 'm2', stageId: null, entryId: 'e1', amountMs: -300_000, reason: 'time credit for helping a crew', issuedBy: 'Stewards' },
    ] }, []);
    expect(r.penalties.map((p) => [p.key, p.amountMs, p.ruleId, p.explanation])).toEqual([
      ['manual:m1:manual', 300_000, null, 'SS1: 5:00 by Clerk of the Course: refuelling outside the zone'],
      ['manual:m2:manual', -300_000, null, 'credit 5:00 by Stewards: time credit for helping a crew'],
    ]);
  });
});

describe('rule scoping: most specific wins', () => {
  const rules = [
    rule('event', 'missed_waypoint', { amountMsByType: { WPV: 1, WPM: 1, WPS: 1, WPE: 1, WPC: 1 } }),
    rule('cat', 'missed_waypoint', { amountMsByType: { WPV: 2, WPM: 2, WPS: 2, WPE: 2, WPC: 2 } }, null, 'car'),
    rule('stage', 'missed_waypoint', { amountMsByType: { WPV: 3, WPM: 3, WPS: 3, WPE: 3, WPC: 3 } }, 'ss2'),
    rule('both', 'missed_waypoint', { amountMsByType: { WPV: 4, WPM: 4, WPS: 4, WPE: 4, WPC: 4 } }, 'ss2', 'car'),
    { ...rule('off', 'missed_waypoint', { amountMsByType: { WPV: 5, WPM: 5, WPS: 5, WPE: 5, WPC: 5 } }, 'ss1', 'moto'), enabled: false },
  ];
  const compiled = compileRules(rules);
  test.each([
    ['ss1', 'moto', 'event'],
    ['ss1', 'car', 'cat'],
    ['ss2', 'moto', 'stage'],
    ['ss2', 'car', 'both'],
    ['ss1', null, 'event'],
    [null, 'car', 'cat'],
  ])('stage %s, category %s → rule %s', (stageId, categoryId, expected) => {
    expect(resolveRule(compiled, 'missed_waypoint', stageId, categoryId)?.rule.id).toBe(expected);
  });
  test('no rule → no penalty for that evaluator', () => {
    expect(resolveRule(compiled, 'speed_zone', 'ss1', 'car')).toBeNull();
    expect(run({ infringements: [inf('A', 'ss1', T0, 90)] }, rules).penalties).toEqual([]);
  });
  test.each([
    ['two rules with the same scope', [rule('a', 'manual', {}), rule('b', 'manual', {})], PEN_ERR_RULE_CONFLICT],
    ['unknown evaluator', [rule('a', 'speeding', {})], PEN_ERR_UNKNOWN_EVALUATOR],
  ])('%s → coded error', (_name, bad, code) => {
    expect(() => compileRules(bad)).toThrow(expect.objectContaining({ code }));
  });
  test('every problem of every rule in one error', () => {
    try {
      compileRules([rule('a', 'time_control', { latePerMinuteMs: -1 }), rule('b', 'max_time', {})]);
      expect.unreachable();
    } catch (error) {
      expect((error as { problems: string[] }).problems).toEqual([
        'rule a (time_control): latePerMinuteMs must be >= 0',
        'rule a (time_control): earlyPerMinuteMs is required',
        'rule a (time_control): granularity is required (one of clock_minute, started_minute, completed_minute, exact)',
        'rule b (max_time): forfeitMs is required',
      ]);
    }
  });
});

describe('overrides', () => {
  const facts = { infringements: [inf('A', 'ss1', T0, 58), inf('B', 'ss1', T0 + 500, 61)] };
  const overrides = [
    { penaltyKey: 'infringement:A:speed_zone', action: 'waive' as const, reason: 'GPS glitch, confirmed by video', by: 'Race Director' },
    { penaltyKey: 'infringement:B:speed_zone', action: 'adjust' as const, amountMs: 120_000, reason: 'tolerance agreed at briefing', by: 'Stewards' },
    { penaltyKey: 'infringement:gone:speed_zone', action: 'waive' as const, reason: 'x', by: 'y' },
  ];
  const first = run(facts, [dakar2005], overrides);
  test('applied, keeping the computed amount', () => {
    expect(first.penalties.map((p) => [p.sourceId, p.status, p.computedAmountMs, p.amountMs])).toEqual([
      ['A', 'waived', 240_000, 0],
      ['B', 'adjusted', 660_000, 120_000],
    ]);
    expect(first.penalties[1].explanation).toMatch(/ — adjusted to 2:00 by Stewards: tolerance agreed at briefing$/);
    expect(first.orphanOverrides.map((o) => o.penaltyKey)).toEqual(['infringement:gone:speed_zone']);
  });
  test('survive a re-evaluation: same input + overrides → identical output', () => {
    expect(run(facts, [dakar2005], overrides)).toEqual(first);
  });
  test('survive a rule edit: the key does not depend on the rule row', () => {
    const edited = { ...dakar2005, id: 'r-dakar05-v2' };
    const again = run(facts, [edited], overrides);
    expect(again.penalties.map((p) => [p.status, p.amountMs])).toEqual([['waived', 0], ['adjusted', 120_000]]);
  });
  test('a waived max-time forfeit restores the measured time', () => {
    const r = run({ stageTimes: [{ id: 'st1', stageId: 'ss1', entryId: 'e1', status: 'finished', rawMs: 7_000_000, maxTimeMs: 6_000_000 }] }, [rule('m', 'max_time', { forfeitMs: 1_000_000 })], [{ penaltyKey: 'max_time:st1:max_time', action: 'waive', reason: 'stage delayed by organiser', by: 'CoC' }]);
    expect(r.penalties[0]).toMatchObject({ replacesRawMs: null, amountMs: 0 });
  });
  test.each([
    ['adjust without amount', [{ penaltyKey: 'k', action: 'adjust', reason: 'r', by: 'b' }], 'amountMs is required'],
    ['no reason', [{ penaltyKey: 'k', action: 'waive', reason: '', by: 'b' }], 'reason is required'],
    ['two for one key', [{ penaltyKey: 'k', action: 'waive', reason: 'r', by: 'b' }, { penaltyKey: 'k', action: 'waive', reason: 'r', by: 'b' }], 'one per penalty'],
  ])('rejects %s', (_name, bad, fragment) => {
    expect(() => run(facts, [dakar2005], bad as never)).toThrow(expect.objectContaining({ code: PEN_ERR_BAD_OVERRIDE, message: expect.stringContaining(fragment) }));
  });
});

describe('facts consistency', () => {
  test.each([
    ['a fact of another entry', { infringements: [{ ...inf('A', 'ss1', T0, 58), entryId: 'e2' }] }, 'belongs to entry e2'],
    ['an unknown stage', { infringements: [inf('A', 'ss9', T0, 58)] }, 'unknown stage ss9'],
    ['a duplicate id', { infringements: [inf('A', 'ss1', T0, 58), inf('A', 'ss1', T0 + 1, 58)] }, 'duplicate infringement id A'],
  ])('%s → PEN_ERR_BAD_FACTS', (_name, facts, fragment) => {
    expect(() => run(facts, [dakar2005])).toThrow(expect.objectContaining({ code: PEN_ERR_BAD_FACTS, message: expect.stringContaining(fragment) }));
  });
});
