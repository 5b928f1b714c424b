/**
 * Seeded property tests over random, valid speed-zone rules: zero at or below the limit (plus
 * tolerance), never decreasing as the excess grows, continuity where the rule says so, and
 * deterministic, input-order-independent evaluation with overrides.
 */
import { describe, expect, test } from 'vitest';
import { evaluatePenalties } from './evaluate-penalties.ts';
import type { SpeedZoneParams } from './evaluators/speed-zone.ts';
import { evaluateSpeedZone, validateSpeedZoneParams } from './evaluators/speed-zone.ts';
import type { EntryFacts, FactContext, PenaltyOverride, SpeedInfringement } from './types.ts';
import { rng } from '../../../../common/src/testing/random.ts';

const int = (r: () => number, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];

/** A random rule of fixed / per_kmh brackets (and maybe a final exclusion), kept only when valid. */
function randomParams(r: () => number): SpeedZoneParams {
  for (;;) {
    const count = int(r, 1, 4);
    let bound = 0;
    let amount = 0;
    const brackets: object[] = [];
    for (let i = 0; i < count; i++) {
      const upTo = i === count - 1 ? null : bound + int(r, 1, 25);
      const method = pick(r, ['fixed', 'per_kmh'] as const);
      amount += int(r, 0, 120) * 1_000;
      brackets.push(method === 'fixed'
        ? { aboveKmh: bound, upToKmh: upTo, method, amountMs: amount }
        : { aboveKmh: bound, upToKmh: upTo, method, amountMs: i === 0 ? 0 : amount, perKmhMs: int(r, 0, 30) * 1_000, kmhFrom: pick(r, ['zero', 'bracket_start'] as const), capMs: r() < 0.2 ? amount + 600_000 : null });
      if (upTo !== null) bound = upTo;
    }
    if (r() < 0.3) {
      const last = brackets[brackets.length - 1] as { upToKmh: number | null };
      last.upToKmh = bound + 10;
      brackets.push({ aboveKmh: bound + 10, method: 'exclusion' });
    }
    const result = validateSpeedZoneParams({
      brackets,
      accumulation: pick(r, ['bracket', 'progressive'] as const),
      toleranceKmh: int(r, 0, 5),
      toleranceMode: pick(r, ['threshold', 'deduct'] as const),
      capMs: r() < 0.2 ? int(r, 1, 30) * 60_000 : null,
    });
    if (result.ok) return result.params;
  }
}

const ctx: FactContext<SpeedInfringement> = { entryId: 'e', categoryId: null, ruleId: 'r', stageCode: 'SS1', offencesBefore: 0, offencesBeforeInStage: 0, previous: null };
const fact = (limitKmh: number, maxSpeedKmh: number, overMs = 5_000): SpeedInfringement => ({ id: 'i', stageId: 's', entryId: 'e', zoneId: 'z', limitKmh, maxSpeedKmh, avgSpeedKmh: limitKmh, overMs, overDistanceM: 0, enteredAtMs: 0, exitedAtMs: 1 });
/** exclusion is worse than any amount */
const severity = (p: SpeedZoneParams, f: SpeedInfringement) => {
  const a = evaluateSpeedZone(p, f, ctx);
  return a.exclusion ? Number.POSITIVE_INFINITY : a.amountMs;
};

const SEEDS = Array.from({ length: 40 }, (_, i) => [i * 7919 + 1]);

describe('speed_zone properties (seeded)', () => {
  test.each(SEEDS)('seed %i: zero at or below limit + tolerance', (seed) => {
    const r = rng(seed);
    const p = randomParams(r);
    const limit = pick(r, [30, 50, 80, 110]);
    for (let i = 0; i < 50; i++) {
      const speed = limit - 20 + r() * (20 + p.toleranceKmh);
      expect(evaluateSpeedZone(p, fact(limit, speed), ctx).amountMs).toBe(0);
      expect(evaluateSpeedZone(p, fact(limit, speed), ctx).exclusion).toBe(false);
    }
  });

  test.each(SEEDS)('seed %i: never decreasing as the excess grows', (seed) => {
    const r = rng(seed);
    const p = randomParams(r);
    const limit = pick(r, [30, 50, 80, 110]);
    const speeds = Array.from({ length: 200 }, () => limit + r() * 80).sort((a, b) => a - b);
    // include every boundary and a hair either side
    for (const b of p.brackets) for (const d of [-1e-6, 0, 1e-6]) speeds.push(limit + p.toleranceKmh + b.aboveKmh + d);
    speeds.sort((a, b) => a - b);
    let previous = -1;
    for (const speed of speeds) {
      const s = severity(p, fact(limit, speed));
      expect(s).toBeGreaterThanOrEqual(previous);
      previous = s;
    }
  });

  test.each(SEEDS)('seed %i: time gained never decreases with speed or with time over the limit', (seed) => {
    const r = rng(seed);
    const p = validateSpeedZoneParams({ brackets: [{ aboveKmh: 0, method: 'time_gained', factor: int(r, 1, 400) }] });
    if (!p.ok) throw new Error(p.problems.join());
    const limit = pick(r, [50, 110]);
    const overMs = int(r, 1, 60) * 1_000;
    let previous = 0;
    for (let speed = limit; speed < limit + 60; speed += r()) {
      const a = evaluateSpeedZone(p.params, fact(limit, speed, overMs), ctx).amountMs;
      expect(a).toBeGreaterThanOrEqual(previous);
      expect(evaluateSpeedZone(p.params, fact(limit, speed, overMs + 1_000), ctx).amountMs).toBeGreaterThanOrEqual(a);
      previous = a;
    }
  });

  test.each(SEEDS)('seed %i: progressive per-km/h scales are continuous at every boundary', (seed) => {
    const r = rng(seed);
    const count = int(r, 2, 5);
    let bound = 0;
    const brackets = Array.from({ length: count }, (_, i) => {
      const upTo = i === count - 1 ? null : bound + int(r, 1, 20);
      const b = { aboveKmh: bound, upToKmh: upTo, method: 'per_kmh', perKmhMs: int(r, 1, 60) * 500 };
      if (upTo !== null) bound = upTo;
      return b;
    });
    const result = validateSpeedZoneParams({ accumulation: 'progressive', continuous: true, brackets });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    for (const b of result.params.brackets.slice(1)) {
      const below = evaluateSpeedZone(result.params, fact(50, 50 + b.aboveKmh - 1e-4), ctx).amountMs;
      const above = evaluateSpeedZone(result.params, fact(50, 50 + b.aboveKmh + 1e-4), ctx).amountMs;
      expect(Math.abs(above - below)).toBeLessThanOrEqual(1 + 1e-4 * 30_000 * 2);
    }
  });
});

describe('determinism and overrides (seeded)', () => {
  function randomEntries(r: () => number): EntryFacts[] {
    return Array.from({ length: int(r, 1, 5) }, (_, e) => ({
      entryId: `e${e}`,
      categoryId: pick(r, ['moto', 'car', null]),
      infringements: Array.from({ length: int(r, 0, 6) }, () => fact(50, 45 + r() * 60)).map((f, i) => ({ ...f, id: `e${e}-i${i}`, entryId: `e${e}`, stageId: pick(r, ['ss1', 'ss2']), enteredAtMs: int(r, 0, 1e6) })),
    }));
  }
  const rules = [
    { id: 'r1', evaluator: 'speed_zone', stageId: null, categoryId: null, params: { brackets: [{ aboveKmh: 0, upToKmh: 20, method: 'per_kmh', perKmhMs: 10_000 }, { aboveKmh: 20, method: 'fixed', amountMs: 600_000 }], escalation: { multipliers: [1, 2, 3], excludeAtOffence: 5 } } },
    { id: 'r2', evaluator: 'speed_zone', stageId: 'ss2', categoryId: 'car', params: { brackets: [{ aboveKmh: 0, method: 'time_gained', factor: 10 }] } },
  ];
  const stages = [{ id: 'ss1', code: 'SS1', sequence: 1 }, { id: 'ss2', code: 'SS2', sequence: 2 }];
  const shuffle = <T>(r: () => number, xs: readonly T[]): T[] => {
    const out = [...xs];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  };

  test.each(SEEDS)('seed %i: same facts in any order + same overrides → identical output; overrides applied', (seed) => {
    const r = rng(seed);
    const entries = randomEntries(r);
    const first = evaluatePenalties({ stages, rules, entries });
    const overrides: PenaltyOverride[] = first.penalties.filter(() => r() < 0.4).map((p, i) => (i % 2 ? { penaltyKey: p.key, action: 'waive', reason: 'video', by: 'RD' } : { penaltyKey: p.key, action: 'adjust', amountMs: 1_000 * i, reason: 'stewards', by: 'S' }));
    const once = evaluatePenalties({ stages, rules, entries, overrides });
    const shuffled = entries.map((e) => ({ ...e, infringements: shuffle(r, e.infringements ?? []) }));
    const again = evaluatePenalties({ stages, rules: shuffle(r, rules), entries: shuffle(r, shuffled), overrides: shuffle(r, overrides) });
    expect(again).toEqual(once);
    for (const o of overrides) {
      const p = once.penalties.find((x) => x.key === o.penaltyKey);
      expect(p?.amountMs).toBe(o.action === 'waive' ? 0 : o.amountMs);
      expect(p?.computedAmountMs).toBe(first.penalties.find((x) => x.key === o.penaltyKey)?.amountMs);
    }
    expect(once.orphanOverrides).toEqual([]);
  });
});
