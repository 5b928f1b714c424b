import { describe, expect, test } from 'vitest';
import { haversineM } from '../geo/projection.ts';
import { resolveOptions } from './options.ts';
import { LAT0, LON0, T0, at, fix } from './test-fixtures.ts';
import { prepareTrack } from './track.ts';
import type { Fix, Waypoint, WaypointMethod } from './types.ts';
import { WHOLE_TRACK, evaluateWaypoint } from './waypoints.ts';

function wpm(radiusM: number, openRadiusM?: number): Waypoint {
  return { id: 'wp1', code: 'WP1', type: 'WPM', position: [LON0, LAT0], radiusM, openRadiusM };
}

function run(fixes: Fix[], radiusM: number, method: WaypointMethod, gapMs?: number) {
  const opts = resolveOptions({ waypointMethod: method, maxInterpolationGapMs: gapMs });
  return evaluateWaypoint(prepareTrack(fixes, opts), wpm(radiusM, 800), 0, WHOLE_TRACK, opts);
}

// AC-5: WPM at the origin; fixes 10 s apart at 25 m/s (90 km/h) on a straight path 50 m north of
// it: t = 0 at (−125 m, 50 m), t = 10 s at (+125 m, 50 m). Each fix is √(125² + 50²) = 134.63 m
// away; the chord passes 50 m away at its middle, t = 5 s.
const AC5 = [fix(T0, at(-125, 50), 90), fix(T0 + 10_000, at(125, 50), 90)];

describe('AC-5 waypoint validation with sparse fixes', () => {
  test('the geometry is what the case says (independent haversine check)', () => {
    expect(haversineM([LON0, LAT0], [AC5[0].lon, AC5[0].lat])).toBeCloseTo(134.63, 1);
  });

  test.each([
    // radius, method, validated, evidence, distance, pass time offset (null = either fix)
    ['90 m, point only: missed (nearest fix 134.6 m)', 90, 'point', false, null, 134.63, null],
    ['90 m, segment: validated at t = 5 s, 50 m', 90, 'segment', true, 'segment', 50, 5000],
    ['200 m, point only: validated on a fix', 200, 'point', true, 'point', 134.63, null],
    ['200 m, segment: validated, closest approach 50 m at t = 5 s', 200, 'segment', true, 'point', 50, 5000],
  ] as const)('%s', (_name, radius, method, validated, evidence, distance, passOffset) => {
    const r = run(AC5, radius, method);
    expect(r.validated).toBe(validated);
    expect(r.method).toBe(evidence);
    expect(r.distanceM).toBeCloseTo(distance, 1);
    expect(r.nearestFixDistanceM).toBeCloseTo(134.63, 1);
    expect(r.opened).toBe(true);
    if (passOffset === null) expect([T0, T0 + 10_000]).toContain(r.passAtMs);
    else expect(r.passAtMs).toBe(T0 + passOffset);
  });

  test('guard: the same chord over a 40 s gap is not used (30 s max)', () => {
    const slow = [fix(T0, at(-125, 50), 20), fix(T0 + 40_000, at(125, 50), 20)];
    expect(run(slow, 90, 'segment')).toMatchObject({ validated: false, method: null });
    expect(run(slow, 90, 'segment').distanceM).toBeCloseTo(134.63, 1);
    // a larger configured gap lets it through, at the middle of the 40 s chord
    expect(run(slow, 90, 'segment', 60_000)).toMatchObject({ validated: true, method: 'segment', passAtMs: T0 + 20_000, distanceM: 50 });
  });

  test('guard: a chord with an implied speed above the cap (GPS spike) is not used', () => {
    const spike = [fix(T0, at(-125, 50)), fix(T0 + 1000, at(125, 50))]; // 250 m in 1 s = 900 km/h
    expect(run(spike, 90, 'segment').validated).toBe(false);
  });

  test('a no-fix record lying on the waypoint is ignored', () => {
    const withNoFix = [...AC5, fix(T0 + 5000, at(0, 0), 90, { fix: false })];
    const r = run(withNoFix, 90, 'point');
    expect(r.validated).toBe(false);
  });

  test('no fixes: not validated, nothing measured', () => {
    expect(run([], 90, 'segment')).toMatchObject({ validated: false, passAtMs: null, distanceM: null, nearestFixTs: null });
  });

  test('window: only the part of the chord inside the stage counts', () => {
    const opts = resolveOptions();
    // stage starts at t = 7.5 s: the closest allowed point is at x = +62.5 m → √(62.5² + 50²) = 80.04 m
    const r = evaluateWaypoint(prepareTrack(AC5, opts), wpm(90), 0, { fromMs: T0 + 7500, toMs: Infinity }, opts);
    expect(r.passAtMs).toBe(T0 + 7500);
    expect(r.distanceM).toBeCloseTo(80.04, 1);
    expect(r.validated).toBe(true);
  });
});
