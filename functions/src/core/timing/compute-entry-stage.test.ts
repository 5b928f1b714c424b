import { describe, expect, test } from 'vitest';
import { computeEntryStage } from './compute-entry-stage.ts';
import { T0, at, fix, meridianLineAtM, rectM, rng, shuffled } from './test-fixtures.ts';
import type { EntryStageResult, Fix, StageCourse, TimingOptions } from './types.ts';

// A 2 km special near Tirana, eastbound along 41.3°N: DSS at x = 0, SP1 at x = 1000 m, ASS at
// x = 2000 m; a 50 km/h village between x = 400 and 700 m; WPM 1 at (1500 m, 40 m N), 90 m; a
// time control circle (CP0) of 50 m around x = −200 m, due 10 s before the start.
const COURSE: StageCourse = {
  start: { id: 'dss', code: 'DSS', coordinates: meridianLineAtM(0) },
  finish: { id: 'ass', code: 'ASS', coordinates: meridianLineAtM(2000) },
  splits: [{ id: 'sp1', code: 'SP1', coordinates: meridianLineAtM(1000) }],
  timeControls: [{ id: 'cp0', code: 'CP0', geometry: { type: 'circle', center: at(-200, 0), radiusM: 50 }, dueMs: T0 - 10_000 }],
  waypoints: [{ id: 'wp1', code: 'WP1', type: 'WPM', position: at(1500, 40), radiusM: 90 }],
  speedZones: [{ id: 'slz1', code: 'SLZ 1', area: { type: 'polygon', coordinates: rectM(400, -100, 700, 100) }, limitKmh: 50 }],
};

// Constant 20 m/s (72 km/h), x(t) = 20 m/s · (t − T0). Fixes at 1 Hz, 300 ms past each second
// from T0 − 15 s, so no fix sits on a line. Linear interpolation is exact at constant speed:
// DSS at T0, SP1 at T0 + 50 s, ASS at T0 + 100 s; village from T0 + 20 s to T0 + 35 s;
// CP0 circle entered at x = −250 m → T0 − 12.5 s; WP1 closest at x = 1500 → T0 + 75 s, 40 m.
const V = 20;
const FULL: Fix[] = [];
for (let k = 0; k <= 130; k++) {
  const ts = T0 - 15_000 + 300 + 1000 * k;
  FULL.push(fix(ts, at((V * (ts - T0)) / 1000, 0), 72));
}
const until = (ms: number) => FULL.filter((f) => f.ts <= T0 + ms);

describe('a whole stage, by hand', () => {
  const r = computeEntryStage(COURSE, FULL);
  test('stage time, splits and crossings', () => {
    expect(r).toMatchObject({ status: 'finished', startMs: T0, finishMs: T0 + 100_000, rawMs: 100_000, neutralisedMs: 0, netMs: 100_000, overMaxTime: false });
    expect(r.splits).toEqual([{ splitId: 'sp1', crossedAtMs: T0 + 50_000, elapsedMs: 50_000, netElapsedMs: 50_000 }]);
    expect(r.crossings.map((c) => [c.role, c.lineId, c.atMs - T0, c.direction, c.beforeTs - T0, c.afterTs - T0])).toEqual([
      ['start', 'dss', 0, 'forward', -700, 300],
      ['split', 'sp1', 50_000, 'forward', 49_300, 50_300],
      ['finish', 'ass', 100_000, 'forward', 99_300, 100_300],
    ]);
  });
  test('waypoint, time control, speed zone', () => {
    expect(r.waypoints).toEqual([
      // nearest fix at x = 1506 m: √(6² + 40²) = 40.45 m
      { waypointId: 'wp1', code: 'WP1', type: 'WPM', sequence: 0, radiusM: 90, validated: true, method: 'point', passAtMs: T0 + 75_000, distanceM: 40, nearestFixTs: T0 + 75_300, nearestFixDistanceM: 40.45, opened: null },
    ]);
    expect(r.timeControls).toEqual([{ controlId: 'cp0', code: 'CP0', arrivedAtMs: T0 - 12_500, interpolated: true, dueMs: T0 - 10_000, deltaMs: -2500 }]);
    expect(r.speedInfringements).toHaveLength(1);
    expect(r.speedInfringements[0]).toMatchObject({
      enteredAtMs: T0 + 20_000, exitedAtMs: T0 + 35_000, maxSpeedKmh: 72, avgSpeedKmh: 72, overMs: 15_000, overDistanceM: 300, insideFixCount: 15,
    });
    expect(r.issues).toEqual([]);
    expect(r.track).toMatchObject({ received: 131, used: 131, gaps: 0, spikes: 0 });
  });
});

describe('status', () => {
  test.each([
    // name, fixes, options, status, startMs, finishMs
    ['finished', FULL, {}, 'finished', T0, T0 + 100_000],
    ['finished over max time: still finished, flagged', FULL, { maxTimeMs: 90_000 }, 'finished', T0, T0 + 100_000],
    ['never crosses the finish, stage open → running', until(80_000), {}, 'running', T0, null],
    ['never crosses the finish, stage closed → dnf', until(80_000), { stageClosed: true }, 'dnf', T0, null],
    ['now past closing time → dnf', until(80_000), { nowMs: T0 + 90_000, closesAtMs: T0 + 85_000 }, 'dnf', T0, null],
    ['now before closing time → running', until(80_000), { nowMs: T0 + 90_000, closesAtMs: T0 + 95_000 }, 'running', T0, null],
    ['max time exceeded at now → dnf', until(80_000), { nowMs: T0 + 90_000, maxTimeMs: 60_000 }, 'dnf', T0, null],
    ['never started → dns', until(-1000), {}, 'dns', null, null],
    ['never started, stage closed → still dns', until(-1000), { stageClosed: true }, 'dns', null, null],
    ['no fixes at all → dns', [], { stageClosed: true }, 'dns', null, null],
    ['start line crossed backwards only → dns', FULL.map((f) => ({ ...f, lon: 2 * 19.8 - f.lon })), {}, 'dns', null, null],
  ] as const)('%s', (_name, fixes, options: TimingOptions, status, startMs, finishMs) => {
    const r = computeEntryStage(COURSE, fixes, options);
    expect(r.status).toBe(status);
    expect(r.startMs).toBe(startMs);
    expect(r.finishMs).toBe(finishMs);
    if (finishMs === null) expect([r.rawMs, r.netMs]).toEqual([null, null]);
    expect(r.overMaxTime).toBe(options.maxTimeMs === 90_000);
  });

  test('a finish crossed during a GPS gap gives no time but an issue for the operator', () => {
    const gapped = FULL.filter((f) => f.ts < T0 + 80_000 || f.ts > T0 + 110_000); // 31 s without a fix
    const r = computeEntryStage(COURSE, gapped, { stageClosed: true });
    expect(r.status).toBe('dnf');
    expect(r.issues).toEqual([{ code: 'LINE_CROSSED_IN_GAP', featureId: 'ass', fromTs: T0 + 79_300, toTs: T0 + 110_300 }]);
  });

  test('a no-fix record is ignored (it would otherwise move the finish)', () => {
    const r = computeEntryStage(COURSE, [...FULL, fix(T0 + 99_800, at(2005, 0), 72, { fix: false })]);
    expect(r.finishMs).toBe(T0 + 100_000);
    expect(r.track.droppedNoFix).toBe(1);
  });
});

/** The result without the input-bookkeeping counters (received / dropped), which legitimately differ. */
function core(r: EntryStageResult) {
  const { received: _r, droppedNoFix: _n, droppedDuplicates: _d, droppedInvalid: _i, ...track } = r.track;
  return { ...r, track };
}

describe('determinism', () => {
  test('two runs are deep-equal', () => {
    expect(computeEntryStage(COURSE, FULL)).toEqual(computeEntryStage(COURSE, FULL));
  });

  test('out-of-order, duplicated and no-fix records give the same result as the clean sorted track', () => {
    const rand = rng(6);
    const noisy = shuffled([...FULL, ...FULL.filter(() => rand() < 0.3), ...FULL.slice(0, 20).map((f) => ({ ...f, ts: f.ts + 1, fix: false }))], rand);
    expect(core(computeEntryStage(COURSE, noisy))).toEqual(core(computeEntryStage(COURSE, FULL)));
  });
});

describe('property checks on seeded random tracks', () => {
  /** Wandering eastbound track, 1–12 s sampling, occasional 40 s gaps, speeds 20–110 km/h. */
  function randomTrack(seed: number): Fix[] {
    const rand = rng(seed);
    const out: Fix[] = [];
    let ts = T0 - 20_000 - Math.floor(rand() * 10_000);
    let x = -400;
    let y = 0;
    while (x < 2400) {
      const v = 5 + rand() * 25; // m/s
      const dt = rand() < 0.05 ? 40_000 : 1000 + Math.floor(rand() * 11) * 1000 + Math.floor(rand() * 1000);
      ts += dt;
      x += (v * dt) / 1000 * (0.6 + rand() * 0.4);
      y = Math.max(-80, Math.min(80, y + (rand() - 0.5) * 30));
      if (rand() < 0.03) x -= 60; // a short detour back
      out.push(fix(ts, at(x, y), Math.round(v * 3.6 * 10) / 10));
    }
    return out;
  }

  test.each(Array.from({ length: 40 }, (_, i) => [i + 1]))('seed %i', (seed) => {
    const fixes = randomTrack(seed);
    const r = computeEntryStage(COURSE, fixes);
    // shuffle + duplicates invariance
    const rand = rng(seed * 7919);
    const noisy = shuffled([...fixes, ...fixes.filter(() => rand() < 0.2)], rand);
    expect(core(computeEntryStage(COURSE, noisy))).toEqual(core(r));
    // crossings lie between their straddling fixes
    for (const c of r.crossings) {
      expect(c.atMs).toBeGreaterThanOrEqual(c.beforeTs);
      expect(c.atMs).toBeLessThanOrEqual(c.afterTs);
    }
    // stage order
    if (r.status === 'finished') {
      expect(r.rawMs).toBe(r.finishMs! - r.startMs!);
      for (const s of r.splits) if (s.crossedAtMs !== null) expect(s.crossedAtMs).toBeGreaterThan(r.startMs!);
      for (const s of r.splits) if (s.crossedAtMs !== null) expect(s.crossedAtMs).toBeLessThan(r.finishMs!);
    } else {
      expect(r.netMs).toBeNull();
    }
    // speed passages are well-formed
    for (const p of r.speedZones) {
      if (p.exitedAtMs !== null) {
        expect(p.exitedAtMs).toBeGreaterThanOrEqual(p.enteredAtMs);
        expect(p.overMs).toBeLessThanOrEqual(p.exitedAtMs - p.enteredAtMs);
      }
      expect(p.infringed).toBe(p.complete && (p.spotOver || p.nominalOver));
    }
    // the chord can only bring a waypoint closer, and validates everything a fix validates
    const pointOnly = computeEntryStage(COURSE, fixes, { waypointMethod: 'point' });
    r.waypoints.forEach((w, i) => {
      expect(w.distanceM!).toBeLessThanOrEqual(w.nearestFixDistanceM!);
      if (pointOnly.waypoints[i].validated) expect(w.validated).toBe(true);
    });
  });
});
