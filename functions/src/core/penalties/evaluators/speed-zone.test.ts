import { describe, expect, test } from 'vitest';
import { PEN_ERR_BAD_PARAMS } from '../errors.ts';
import { parseParams } from '../registry.ts';
import type { FactContext, SpeedInfringement } from '../types.ts';
import type { SpeedZoneParams } from './speed-zone.ts';
import { evaluateSpeedZone, validateSpeedZoneParams } from './speed-zone.ts';

function infringement(over: Partial<SpeedInfringement> = {}): SpeedInfringement {
  return {
    id: 'inf-1',
    stageId: 'ss1',
    entryId: 'e1',
    zoneId: 'z1',
    zoneCode: 'SLZ 1',
    limitKmh: 50,
    maxSpeedKmh: 50,
    avgSpeedKmh: 45,
    overMs: 0,
    overDistanceM: 0,
    enteredAtMs: 0,
    exitedAtMs: 60_000,
    ...over,
  };
}

function ctx(over: Partial<FactContext<SpeedInfringement>> = {}): FactContext<SpeedInfringement> {
  return { entryId: 'e1', categoryId: null, ruleId: 'r1', stageCode: 'SS1', offencesBefore: 0, offencesBeforeInStage: 0, previous: null, ...over };
}

function params(raw: unknown): SpeedZoneParams {
  return parseParams('speed_zone', raw) as SpeedZoneParams;
}

// RallySafe "speed limited real time advantage" (rally-domain.md §2.2, AC-1).
const rallySafe = (method: 'max_speed' | 'samples', extra: object = {}) => params({ brackets: [{ aboveKmh: 0, method: 'time_gained', factor: 10, timeGainedMethod: method }], ...extra });
const samples = (speeds: number[]) => speeds.map((speedKmh, i) => ({ atMs: 1_000 * i, speedKmh }));

// Dakar 2023 bikes (Monaco-Matin [S]), AC-3: 0–20 → 1 min, 21–40 → 2 min, > 40 → 3 min.
const dakar2023Bikes = params({
  brackets: [
    { aboveKmh: 0, upToKmh: 20, method: 'fixed', amountMs: 60_000 },
    { aboveKmh: 20, upToKmh: 40, method: 'fixed', amountMs: 120_000 },
    { aboveKmh: 40, method: 'fixed', amountMs: 180_000 },
  ],
  escalation: { multipliers: [1] },
});
// Dakar 2025 cars, observed [O] (AC-4): ≤10 → 10 s, 11–20 → 2 min, 21–30 → 10 min.
const dakar2025Cars = params({
  brackets: [
    { aboveKmh: 0, upToKmh: 10, method: 'fixed', amountMs: 10_000 },
    { aboveKmh: 10, upToKmh: 20, method: 'fixed', amountMs: 120_000 },
    { aboveKmh: 20, upToKmh: 30, method: 'fixed', amountMs: 600_000 },
  ],
});
// A progressive per-km/h scale: 6 s per km/h up to 10 over, 12 s per km/h 10–20, 30 s per km/h beyond.
const progressive = params({
  accumulation: 'progressive',
  continuous: true,
  brackets: [
    { aboveKmh: 0, upToKmh: 10, method: 'per_kmh', perKmhMs: 6_000 },
    { aboveKmh: 10, upToKmh: 20, method: 'per_kmh', perKmhMs: 12_000 },
    { aboveKmh: 20, method: 'per_kmh', perKmhMs: 30_000 },
  ],
});
// The same scale as brackets with bases, continuous at the boundaries.
const steppedContinuous = params({
  continuous: true,
  brackets: [
    { aboveKmh: 0, upToKmh: 10, method: 'per_kmh', perKmhMs: 6_000 },
    { aboveKmh: 10, upToKmh: 20, method: 'per_kmh', amountMs: 60_000, perKmhMs: 12_000, kmhFrom: 'bracket_start' },
    { aboveKmh: 20, method: 'per_kmh', amountMs: 180_000, perKmhMs: 30_000, kmhFrom: 'bracket_start', capMs: 900_000 },
  ],
});

describe('speed_zone worked examples', () => {
  test.each([
    ['AC-1 RallySafe 115 in 110 for 5 s, k=10 → 2.27 s', rallySafe('max_speed'), infringement({ limitKmh: 110, maxSpeedKmh: 115, overMs: 5_000 }), 2_273],
    ['AC-1 rounded to 0.01 s', rallySafe('max_speed', { roundToMs: 10 }), infringement({ limitKmh: 110, maxSpeedKmh: 115, overMs: 5_000 }), 2_270],
    ['AC-1b 62 in 50 held 8 s → 19.2 s', rallySafe('max_speed'), infringement({ maxSpeedKmh: 62, overMs: 8_000 }), 19_200],
    ['AC-1b samples 8 × 62 → 19.2 s', rallySafe('samples'), infringement({ maxSpeedKmh: 62, overMs: 8_000, samples: samples([62, 62, 62, 62, 62, 62, 62, 62]) }), 19_200],
    ['AC-1b samples 55..49 → 10.2 s', rallySafe('samples'), infringement({ maxSpeedKmh: 65, overMs: 6_000, samples: samples([55, 60, 65, 62, 58, 51, 50, 49]) }), 10_200],
    ['AC-1b same trace, max-speed method → 18.0 s', rallySafe('max_speed'), infringement({ maxSpeedKmh: 65, overMs: 6_000, samples: samples([55, 60, 65, 62, 58, 51, 50, 49]) }), 18_000],
    ['AC-1b samples with a fixed 1 s weight', rallySafe('samples', { sampleIntervalMs: 1_000 }), infringement({ maxSpeedKmh: 65, overMs: 6_000, samples: samples([55, 60, 65, 62, 58, 51, 50, 49]) }), 10_200],
    ['AC-3 max 68 in 50 → 18 over → 1 min', dakar2023Bikes, infringement({ maxSpeedKmh: 68 }), 60_000],
    ['AC-3 max 93 in 50 → 43 over → 3 min (c = 1)', dakar2023Bikes, infringement({ maxSpeedKmh: 93 }), 180_000],
    ['AC-3 exactly 20 over → first bracket', dakar2023Bikes, infringement({ maxSpeedKmh: 70 }), 60_000],
    ['AC-3 20.5 over → second bracket', dakar2023Bikes, infringement({ maxSpeedKmh: 70.5 }), 120_000],
    ['AC-4 max 55 → 10 s', dakar2025Cars, infringement({ maxSpeedKmh: 55 }), 10_000],
    ['AC-4 max 54 → 10 s', dakar2025Cars, infringement({ maxSpeedKmh: 54 }), 10_000],
    ['AC-4 max 61 → 2 min', dakar2025Cars, infringement({ maxSpeedKmh: 61 }), 120_000],
    ['AC-4 max 77 → 10 min', dakar2025Cars, infringement({ maxSpeedKmh: 77 }), 600_000],
    ['AC-6 nominal average 60 (spot 46.7) with basis greatest → 1 min', { ...dakar2023Bikes, speedBasis: 'greatest' as const }, infringement({ maxSpeedKmh: 46.7, avgSpeedKmh: 46.7, nominalAvgSpeedKmh: 60 }), 60_000],
    ['AC-6 spot-speed-only basis gives 0', dakar2023Bikes, infringement({ maxSpeedKmh: 46.7, avgSpeedKmh: 46.7, nominalAvgSpeedKmh: 60 }), 0],
    ['progressive 15 over → 10×6 s + 5×12 s = 2:00', progressive, infringement({ maxSpeedKmh: 65 }), 120_000],
    ['progressive 25 over → 60 + 120 + 150 s = 5:30', progressive, infringement({ maxSpeedKmh: 75 }), 330_000],
    ['stepped continuous 15 over → 2:00', steppedContinuous, infringement({ maxSpeedKmh: 65 }), 120_000],
    ['stepped continuous, bracket cap 15:00', steppedContinuous, infringement({ maxSpeedKmh: 100 }), 900_000],
    ['overall cap', { ...dakar2025Cars, capMs: 300_000 }, infringement({ maxSpeedKmh: 77 }), 300_000],
  ])('%s', (_name, p, fact, expectedMs) => {
    expect(evaluateSpeedZone(p, fact, ctx()).amountMs).toBe(expectedMs);
  });

  test.each([
    ['threshold: 5 over with 5 tolerance → 0', { toleranceKmh: 5 }, 55, 0],
    ['threshold: 6 over with 5 tolerance → whole 6 km/h × 10 s', { toleranceKmh: 5 }, 56, 60_000],
    ['deduct: 6 over with 5 tolerance → 1 km/h × 10 s', { toleranceKmh: 5, toleranceMode: 'deduct' }, 56, 10_000],
  ])('tolerance %s', (_name, extra, maxSpeedKmh, expectedMs) => {
    const p = params({ brackets: [{ aboveKmh: 0, method: 'per_kmh', perKmhMs: 10_000 }], ...extra });
    expect(evaluateSpeedZone(p, infringement({ maxSpeedKmh }), ctx()).amountMs).toBe(expectedMs);
  });

  test('exclusion bracket', () => {
    const p = params({ brackets: [{ aboveKmh: 0, upToKmh: 40, method: 'fixed', amountMs: 60_000 }, { aboveKmh: 40, method: 'exclusion' }] });
    expect(evaluateSpeedZone(p, infringement({ maxSpeedKmh: 95 }), ctx())).toMatchObject({ exclusion: true, amountMs: 0 });
  });

  test('explanation a competitor can read', () => {
    const p = params({
      brackets: [
        { aboveKmh: 0, upToKmh: 10, method: 'fixed', amountMs: 30_000 },
        { aboveKmh: 10, upToKmh: 20, method: 'fixed', amountMs: 60_000 },
        { aboveKmh: 20, method: 'fixed', amountMs: 180_000 },
      ],
      escalation: { multipliers: [1, 2] },
    });
    const a = evaluateSpeedZone(p, infringement({ zoneCode: 'SLZ 3', maxSpeedKmh: 68 }), ctx({ stageCode: 'SS2', offencesBefore: 1 }));
    expect(a.explanation).toBe('SS2: SLZ 3: 68 km/h in a 50 zone, 18 km/h over → bracket 11–20 km/h: 1:00 (2nd offence ×2 = 2:00)');
    expect(a.amountMs).toBe(120_000);
  });

  test('AC-10 WRC recce: €25 per km/h, summed over 5 infringements → 1232.50', () => {
    const p = params({ brackets: [{ aboveKmh: 0, method: 'fixed', amountMs: 0, finePerKmh: 25 }], currency: 'EUR' });
    const fines = [10, 9.3, 10, 10, 10].map((over) => evaluateSpeedZone(p, infringement({ maxSpeedKmh: 50 + over }), ctx()).fine ?? 0);
    expect(fines.reduce((a, b) => a + b, 0)).toBeCloseTo(1_232.5, 6);
    expect(evaluateSpeedZone(p, infringement({ maxSpeedKmh: 62 }), ctx()).fine).toBe(300);
  });
});

describe('speed_zone params validation', () => {
  test('lists every problem at once with PEN_ERR_BAD_PARAMS', () => {
    const bad = {
      speedBasis: 'fastest',
      toleranceKmh: -1,
      brackets: [
        { aboveKmh: 5, upToKmh: 10, method: 'fixed' },
        { aboveKmh: 12, method: 'per_kmh' },
        { aboveKmh: 20, method: 'time_gained' },
      ],
      escalation: { multipliers: [] },
      colour: 'red',
    };
    try {
      parseParams('speed_zone', bad);
      expect.unreachable();
    } catch (error) {
      expect((error as { code: string }).code).toBe(PEN_ERR_BAD_PARAMS);
      const problems = (error as { problems: string[] }).problems;
      for (const fragment of ['colour', 'speedBasis', 'toleranceKmh', 'brackets[0].amountMs', 'brackets[1].perKmhMs', 'brackets[2].factor', 'escalation.multipliers']) {
        expect(problems.join('\n')).toContain(fragment);
      }
    }
  });

  test.each([
    ['not starting at 0', [{ aboveKmh: 5, method: 'fixed', amountMs: 1 }], 'must be 0'],
    ['a gap', [{ aboveKmh: 0, upToKmh: 10, method: 'fixed', amountMs: 1 }, { aboveKmh: 12, method: 'fixed', amountMs: 2 }], 'contiguous'],
    ['open bracket not last', [{ aboveKmh: 0, method: 'fixed', amountMs: 1 }, { aboveKmh: 10, method: 'fixed', amountMs: 2 }], 'only on the last'],
    ['amount drops', [{ aboveKmh: 0, upToKmh: 10, method: 'fixed', amountMs: 60_000 }, { aboveKmh: 10, method: 'fixed', amountMs: 30_000 }], 'drops'],
    ['fixed after exclusion', [{ aboveKmh: 0, upToKmh: 10, method: 'exclusion' }, { aboveKmh: 10, method: 'fixed', amountMs: 1 }], 'must exclude'],
  ])('rejects brackets: %s', (_name, brackets, fragment) => {
    const result = validateSpeedZoneParams({ brackets });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems.join('\n')).toContain(fragment);
  });

  test('continuous: true rejects a jump at a boundary', () => {
    const result = validateSpeedZoneParams({
      continuous: true,
      brackets: [
        { aboveKmh: 0, upToKmh: 10, method: 'per_kmh', perKmhMs: 6_000 },
        { aboveKmh: 10, method: 'per_kmh', amountMs: 90_000, perKmhMs: 12_000, kmhFrom: 'bracket_start' },
      ],
    });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems.join('\n')).toContain('not continuous at 10');
  });
});
