import { describe, expect, test } from 'vitest';
import { resolveOptions } from './options.ts';
import { evaluateSpeedZone } from './speed-zones.ts';
import { LAT0, M_PER_DEG_LON, T0, at, fix, meridianLineAtM } from './test-fixtures.ts';
import { prepareTrack } from './track.ts';
import type { Fix, SpeedZone, TimingOptions } from './types.ts';

function evaluate(fixes: Fix[], zone: SpeedZone, options: TimingOptions = {}) {
  const opts = resolveOptions(options);
  return evaluateSpeedZone(prepareTrack(fixes, opts), zone, opts);
}

// Zone polygon: longitude 19.80000 … 19.80100, latitude 41.2995 … 41.3005 (a village on the road).
const VILLAGE: SpeedZone['area'] = {
  type: 'polygon',
  coordinates: [[[19.8, 41.2995], [19.801, 41.2995], [19.801, 41.3005], [19.8, 41.3005], [19.8, 41.2995]]],
};

// AC-3: eastbound along 41.3°N at 1 Hz, fix k at lon 19.79990 + 0.00016·k (13.4 m/s apart).
// Fixes 1…6 are inside with spot speeds 55, 68, 66, 49 (drops below), 57, 52; 0 and 7 are outside.
// Entry: (19.80000 − 19.79990) / 0.00016 = 0.625 → T0 + 625 ms.
// Exit:  (19.80100 − 19.80086) / 0.00016 = 0.875 of pair 6→7 → T0 + 6875 ms.
const AC3_SPEEDS = [45, 55, 68, 66, 49, 57, 52, 45];
const AC3 = AC3_SPEEDS.map((v, k) => fix(T0 + 1000 * k, [19.7999 + 0.00016 * k, LAT0], v));

describe('AC-3: one infringement per zone passage', () => {
  test('55, 68, 66, 49, 57, 52 in a 50 zone is ONE infringement, max 68', () => {
    const { passages, issues } = evaluate(AC3, { id: 'slz1', code: 'SLZ 1', area: VILLAGE, limitKmh: 50 });
    expect(issues).toEqual([]);
    expect(passages).toHaveLength(1);
    const p = passages[0];
    expect(p).toMatchObject({
      zoneId: 'slz1',
      seq: 0,
      enteredAtMs: T0 + 625,
      exitedAtMs: T0 + 6875,
      entryInterpolated: true,
      exitInterpolated: true,
      complete: true,
      thresholdKmh: 50,
      insideFixCount: 6,
      maxSpeedKmh: 68,
      maxSpeedAtMs: T0 + 2000,
      spotOver: true,
      nominalOver: false,
      nominalAvgSpeedKmh: null,
      infringed: true,
    });
    // Profile (hand-worked; numerically re-checked in Python):
    //   entry edge 375 ms held at 55          → 375 ms over, 55 · 0.375 / 3.6       =  5.7292 m
    //   55→68, 68→66, 57→52 (all over)        → 3000 ms,     (61.5+67+54.5) / 3.6  = 50.8333 m
    //   66→49 over until (66−50)/17 = 0.94118 → 941.18 ms,   58 · 0.94118 / 3.6    = 15.1634 m
    //   49→57 over after 1/8                  → 875 ms,      53.5 · 0.875 / 3.6    = 13.0035 m
    //   exit edge 875 ms held at 52           → 875 ms,      52 · 0.875 / 3.6      = 12.6389 m
    //   over: 6066.18 ms → 6066; distance 97.3683 m → 97.37
    //   average: (55·0.375 + 61.5 + 67 + 57.5 + 53 + 54.5 + 52·0.875) / 6.25 s = 359.625 / 6.25 = 57.54 km/h
    expect(p.overMs).toBe(6066);
    expect(p.overDistanceM).toBe(97.37);
    expect(p.avgSpeedKmh).toBe(57.54);
    expect(p.samples.map((s) => s.speedKmh)).toEqual([55, 68, 66, 49, 57, 52]);
    // evidence: fixes around both boundaries (0, 1, 6, 7) + the fastest over-limit ones (2, 3, 5)
    expect(p.evidenceTs.map((ts) => ts - T0)).toEqual([0, 1000, 2000, 3000, 5000, 6000, 7000]);
  });

  test.each([
    ['tolerance 20 (threshold 70 > 68): no infringement', 50, 20, false, 0],
    ['limit 68 exactly: not over (strictly above counts)', 68, 0, false, 0],
    // 55→68 is above 67 for the last 1/13 s (76.92 ms), 68→66 for the first 1/2 s → 576.92 → 577
    ['limit 67: over only around the 68 peak', 67, 0, true, 577],
  ] as const)('%s', (_name, limitKmh, toleranceKmh, infringed, overMs) => {
    const { passages } = evaluate(AC3, { id: 'slz1', area: VILLAGE, limitKmh, toleranceKmh });
    expect(passages).toHaveLength(1);
    expect(passages[0].infringed).toBe(infringed);
    expect(passages[0].overMs).toBe(overMs);
  });

  test('evidence is capped: boundary fixes always, then the fastest', () => {
    const { passages } = evaluate(AC3, { id: 'slz1', area: VILLAGE, limitKmh: 50 }, { maxEvidenceFixes: 5 });
    // boundary 0, 1, 6, 7 + the single fastest (2, 68 km/h)
    expect(passages[0].evidenceTs.map((ts) => ts - T0)).toEqual([0, 1000, 2000, 6000, 7000]);
  });

  test('driving through the zone twice is two passages, each its own infringement', () => {
    // back westbound 50 m further north (41.30045 is still inside), 60 km/h everywhere:
    // lon 19.80110 (out), 19.80094 … 19.80014 (in), 19.79998 (out)
    const back = AC3_SPEEDS.map((_, k) => fix(T0 + 20_000 + 1000 * k, [19.8011 - 0.00016 * k, 41.30045], 60));
    const { passages } = evaluate([...AC3, ...back], { id: 'slz1', area: VILLAGE, limitKmh: 50 });
    expect(passages.map((p) => [p.seq, p.infringed, p.maxSpeedKmh])).toEqual([[0, true, 68], [1, true, 60]]);
  });

  test('a track ending inside the zone: incomplete passage, reported, not an infringement', () => {
    const { passages, issues } = evaluate(AC3.slice(0, 4), { id: 'slz1', area: VILLAGE, limitKmh: 50 });
    expect(passages[0]).toMatchObject({ complete: false, exitedAtMs: null, infringed: false, spotOver: true });
    expect(issues.map((i) => i.code)).toEqual(['ZONE_PASSAGE_INCOMPLETE']);
  });

  test('entering across a gap: entry time is the first inside fix, not interpolated', () => {
    const gapped = [fix(T0 - 60_000, [19.7999 - 0.0004, LAT0], 45), ...AC3.slice(1)];
    const { passages } = evaluate(gapped, { id: 'slz1', area: VILLAGE, limitKmh: 50 });
    expect(passages[0]).toMatchObject({ enteredAtMs: T0 + 1000, entryInterpolated: false, complete: true, infringed: true });
  });
});

describe('AC-6: FIM 80.16.2 nominal-distance average, DZ → FZ lines', () => {
  // DZ at x = 0, FZ at x = 1400 m (a 1.40 km shortcut); nominal distance 1.80 km, limit 50.
  // Fixes at 1 Hz, half a second either side of each crossing, so the crossings fall exactly at
  // the middle of their pairs: DZ at 10:00:00.000.
  const zone = (nominalDistanceM?: number): SpeedZone => ({
    id: 'dz1',
    code: 'DZ 1',
    area: { type: 'lines', entry: meridianLineAtM(0), exit: meridianLineAtM(1400) },
    limitKmh: 50,
    nominalDistanceM,
  });
  function drive(totalS: number): Fix[] {
    const v = 1400 / totalS; // m/s
    const out: Fix[] = [];
    for (let t = -0.5; t <= totalS + 1; t += 1) out.push(fix(T0 + t * 1000, at(v * t, 0), Math.round(v * 3.6 * 10) / 10));
    return out;
  }

  test.each([
    // totalS, nominal, spot speed, nominal average, infringed
    ['108 s: 1.80 km / 108 s = 60.0 km/h → infringement, though every spot speed is 46.7', 108, 1800, 46.7, 60, true],
    ['same drive, no nominal distance: spot speeds only → none', 108, undefined, 46.7, null, false],
    ['129.6 s: 1.80 km / 129.6 s = 50.0 km/h, not above the limit', 129.6, 1800, 38.9, 50, false],
  ] as const)('%s', (_name, totalS, nominal, spot, nominalAvg, infringed) => {
    const { passages, issues } = evaluate(drive(totalS), zone(nominal));
    expect(issues).toEqual([]);
    expect(passages).toHaveLength(1);
    const p = passages[0];
    expect(p.enteredAtMs).toBe(T0);
    expect(p.exitedAtMs).toBe(T0 + totalS * 1000);
    expect(p.maxSpeedKmh).toBe(spot);
    expect(p.spotOver).toBe(false);
    expect(p.overMs).toBe(0);
    expect(p.nominalAvgSpeedKmh).toBe(nominalAvg);
    expect(p.nominalOver).toBe(infringed);
    expect(p.infringed).toBe(infringed);
  });

  test('FZ crossed in a gap: boundary at the last fix before it, and no nominal average', () => {
    const fixes = drive(108).filter((f) => f.ts < T0 + 100_000 || f.ts > T0 + 140_000);
    fixes.push(fix(T0 + 140_500, at(1400 + 50, 0), 46.7));
    const { passages, issues } = evaluate(fixes, zone(1800));
    expect(passages[0]).toMatchObject({ exitInterpolated: false, exitedAtMs: T0 + 99_500, nominalAvgSpeedKmh: null, infringed: false });
    expect(issues.map((i) => i.code)).toEqual(['NOMINAL_SPEED_UNAVAILABLE']);
  });

  test('metres per degree sanity: FZ line is 1400 m east', () => {
    expect((meridianLineAtM(1400)[0][0] - 19.8) * M_PER_DEG_LON).toBeCloseTo(1400, 6);
  });
});
