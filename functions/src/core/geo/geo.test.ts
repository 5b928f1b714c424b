import { describe, expect, test } from 'vitest';
import { pointInPolygon, segmentPolygonCrossings } from './polygon.ts';
import { haversineM, localProjection, polylineLengthM } from './projection.ts';
import { circleEntryT, closestPointOnSegment, segmentCrossing } from './segments.ts';
import type { Xy } from './types.ts';

const xy = (x: number, y: number): Xy => ({ x, y });

describe('haversineM', () => {
  // Reference values computed independently (Python, R = 6 371 008.8 m).
  test.each([
    ['1° of latitude at Tirana', [19.8, 41.3], [19.8, 42.3], 111_195.08],
    ['Tirana (Skanderbeg Sq.) → Durrës', [19.8187, 41.3275], [19.4565, 41.3246], 30_246.66],
    ['same point', [19.8, 41.3], [19.8, 41.3], 0],
  ] as const)('%s', (_name, a, b, expected) => {
    expect(haversineM(a, b)).toBeCloseTo(expected, 1);
  });

  test('polyline length is the sum of its legs', () => {
    expect(polylineLengthM([[19.8, 41.3], [19.8, 41.8], [19.8, 42.3]])).toBeCloseTo(111_195.08, 1);
  });
});

describe('localProjection', () => {
  const proj = localProjection([19.8, 41.3]);
  test('metres per degree at 41.3°N: 111 195.08 north, 83 536.88 east (cos 41.3° = 0.751264)', () => {
    expect(proj.toXy(19.8, 42.3).y).toBeCloseTo(111_195.08, 1);
    expect(proj.toXy(20.8, 41.3).x).toBeCloseTo(83_536.88, 1);
  });
  test('round trip', () => {
    const [lon, lat] = proj.toLonLat(proj.toXy(19.81234, 41.29876));
    expect(lon).toBeCloseTo(19.81234, 12);
    expect(lat).toBeCloseTo(41.29876, 12);
  });
  test('agrees with haversine within 1 cm over 200 m (AC-5 geometry)', () => {
    const [lon, lat] = proj.toLonLat(xy(125, 50));
    expect(haversineM([19.8, 41.3], [lon, lat])).toBeCloseTo(134.63, 2);
  });
});

describe('segmentCrossing', () => {
  // Line q0 (0,0) → q1 (10,0): drawn west → east, so forward travel is northwards (right → left).
  const q0 = xy(0, 0);
  const q1 = xy(10, 0);
  test.each([
    ['northbound through the middle: forward', xy(5, -2), xy(5, 2), { t: 0.5, u: 0.5, direction: 1 }],
    ['southbound: backward', xy(5, 2), xy(5, -2), { t: 0.5, u: 0.5, direction: -1 }],
    ['t = 0.25', xy(2, -1), xy(2, 3), { t: 0.25, u: 0.2, direction: 1 }],
    ['ending exactly on the line counts (on the line = left side)', xy(5, -2), xy(5, 0), { t: 1, u: 0.5, direction: 1 }],
    ['through an end point of the line', xy(10, -1), xy(10, 1), { t: 0.5, u: 1, direction: 1 }],
  ] as const)('%s', (_name, p0, p1, expected) => {
    const c = segmentCrossing(p0, p1, q0, q1);
    expect(c).not.toBeNull();
    expect(c!.t).toBeCloseTo(expected.t, 12);
    expect(c!.u).toBeCloseTo(expected.u, 12);
    expect(c!.direction).toBe(expected.direction);
  });
  test.each([
    ['passes beyond the end', xy(11, -1), xy(11, 1)],
    ['parallel', xy(0, 1), xy(10, 1)],
    ['stays south', xy(0, -1), xy(10, -2)],
    ['starts on the line and leaves north (no side change)', xy(5, 0), xy(5, 2)],
    ['along the line', xy(1, 0), xy(9, 0)],
  ] as const)('no crossing: %s', (_name, p0, p1) => {
    expect(segmentCrossing(p0, p1, q0, q1)).toBeNull();
  });
});

describe('closestPointOnSegment', () => {
  test.each([
    ['AC-5 chord 50 m from the waypoint', xy(0, 0), xy(-125, 50), xy(125, 50), 0, 1, 0.5, 50],
    ['beyond the end clamps to b', xy(20, 3), xy(0, 0), xy(10, 0), 0, 1, 1, Math.hypot(10, 3)],
    ['clamped to a sub-range', xy(0, 0), xy(-125, 50), xy(125, 50), 0, 0.25, 0.25, Math.hypot(62.5, 50)],
    ['degenerate segment', xy(0, 0), xy(3, 4), xy(3, 4), 0, 1, 0, 5],
  ] as const)('%s', (_name, p, a, b, tMin, tMax, t, d) => {
    const c = closestPointOnSegment(p, a, b, tMin, tMax);
    expect(c.t).toBeCloseTo(t, 12);
    expect(c.distanceM).toBeCloseTo(d, 9);
  });
});

describe('circleEntryT', () => {
  test.each([
    ['enters a 10 m circle from 20 m west', xy(-20, 0), xy(20, 0), 0.25],
    ['misses (passes 15 m away)', xy(-20, 15), xy(20, 15), null],
    ['starts inside', xy(-5, 0), xy(20, 0), 0],
    ['stops short', xy(-20, 0), xy(-12, 0), null],
  ] as const)('%s', (_name, a, b, expected) => {
    const t = circleEntryT(a, b, xy(0, 0), 10);
    if (expected === null) expect(t).toBeNull();
    else expect(t).toBeCloseTo(expected, 12);
  });
});

describe('polygons', () => {
  const outer = [xy(0, 0), xy(10, 0), xy(10, 10), xy(0, 10)];
  const hole = [xy(4, 4), xy(6, 4), xy(6, 6), xy(4, 6)];
  test.each([
    [xy(1, 1), true],
    [xy(5, 5), false], // in the hole
    [xy(11, 5), false],
    [xy(3, 5), true],
  ] as const)('pointInPolygon %o → %s', (p, inside) => {
    expect(pointInPolygon(p, [outer, hole])).toBe(inside);
  });
  test('segment crossings through outer ring and hole, ascending', () => {
    const ts = segmentPolygonCrossings(xy(-10, 5), xy(10, 5), [outer, hole]);
    expect(ts.map((t) => Math.round(t * 1000) / 1000)).toEqual([0.5, 0.7, 0.8]);
  });
});
