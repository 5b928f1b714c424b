import { describe, expect, test } from 'vitest';
import { countedCrossings, findLineCrossings } from './line-crossings.ts';
import { resolveOptions } from './options.ts';
import { LAT0, T0, fix, meridianLine } from './test-fixtures.ts';
import { prepareTrack } from './track.ts';
import type { Fix } from './types.ts';

const opts = resolveOptions();
const DSS = meridianLine(19.8); // drawn north → south: eastbound is forward

function crossings(fixes: Fix[], line = DSS) {
  return findLineCrossings(prepareTrack(fixes, opts), line);
}

describe('crossing time interpolated between the straddling fixes, to the millisecond', () => {
  // Track along 41.3°N, so the fraction along the pair is the fraction in longitude (the local
  // projection is affine in lon/lat, so the parameter is the same in degrees and metres).
  test.each([
    // lonA, lonB, dtMs, expected offset: (19.8 − lonA) / (lonB − lonA) · dt, rounded
    ['1 Hz, 0.0001 / 0.00023 = 0.4347826 → 434.78 → 435 ms', 19.7999, 19.80013, 1000, 435],
    ['1 Hz, symmetric → 500 ms', 19.7999, 19.8001, 1000, 500],
    ['10 s, 0.0005 / 0.0008 = 0.625 → 6250 ms', 19.7995, 19.8003, 10_000, 6250],
    ['5 s, 0.00002 / 0.0003 = 0.0666… → 333.33 → 333 ms', 19.79998, 19.80028, 5000, 333],
    ['2 s, 0.00017 / 0.00018 = 0.9444… → 1888.89 → 1889 ms', 19.79983, 19.80001, 2000, 1889],
  ] as const)('%s', (_name, lonA, lonB, dt, expected) => {
    const cs = crossings([fix(T0, [lonA, LAT0]), fix(T0 + dt, [lonB, LAT0])]);
    expect(cs).toHaveLength(1);
    expect(cs[0].atMs - T0).toBe(expected);
    expect(cs[0].direction).toBe(1);
    expect(cs[0].beforeTs).toBe(T0);
    expect(cs[0].afterTs).toBe(T0 + dt);
    expect(cs[0].lon).toBeCloseTo(19.8, 9);
  });
});

describe('direction', () => {
  test.each([
    ['eastbound is forward', 19.7999, 19.8001, 1],
    ['westbound is backward', 19.8001, 19.7999, -1],
  ] as const)('%s', (_name, a, b, direction) => {
    const cs = crossings([fix(T0, [a, LAT0]), fix(T0 + 1000, [b, LAT0])]);
    expect(cs.map((c) => c.direction)).toEqual([direction]);
    expect(countedCrossings(cs)).toHaveLength(direction === 1 ? 1 : 0);
    expect(countedCrossings(cs, true)).toHaveLength(1);
  });

  test('diagonal line NE → SW crossed eastbound at its middle: forward, t = 0.5', () => {
    const line: [number, number][] = [[19.801, 41.301], [19.799, 41.299]];
    const cs = crossings([fix(T0, [19.799, LAT0]), fix(T0 + 4000, [19.801, LAT0])], line);
    expect(cs).toHaveLength(1);
    expect(cs[0].atMs).toBe(T0 + 2000);
    expect(cs[0].direction).toBe(1);
  });

  test('there and back: one forward, then one backward crossing, in time order', () => {
    const cs = crossings([
      fix(T0, [19.7999, LAT0]),
      fix(T0 + 1000, [19.8001, LAT0]),
      fix(T0 + 2000, [19.7998, LAT0]),
    ]);
    expect(cs.map((c) => [c.atMs - T0, c.direction])).toEqual([[500, 1], [1333, -1]]);
  });
});

describe('polyline lines', () => {
  // A bent line, north → vertex → south, with the vertex exactly on the track.
  const bent: [number, number][] = [[19.8, 41.301], [19.8002, LAT0], [19.8, 41.299]];
  test('a track through the vertex crosses once', () => {
    const cs = crossings([fix(T0, [19.8, LAT0]), fix(T0 + 1000, [19.8004, LAT0])], bent);
    expect(cs).toHaveLength(1);
    expect(cs[0].atMs).toBe(T0 + 500);
  });
  test('a track crossing each leg crosses twice (forward then backward)', () => {
    // A northbound track at 19.8001 from 41.2990 to 41.3010 (222 m in 20 s) meets the southern
    // leg at 41.2995 (t = 0.25, heading against that leg's orientation: backward) and the
    // northern leg at 41.3005 (t = 0.75, forward).
    const cs = crossings([fix(T0, [19.8001, 41.299]), fix(T0 + 20_000, [19.8001, 41.301])], bent);
    expect(cs.map((c) => [c.atMs - T0, c.direction])).toEqual([[5000, -1], [15_000, 1]]);
  });
});

describe('gaps and spikes', () => {
  test('a crossing across a gap is reported but not interpolated, and not counted', () => {
    const cs = crossings([fix(T0, [19.7999, LAT0]), fix(T0 + 40_000, [19.8001, LAT0])]);
    expect(cs).toHaveLength(1);
    expect(cs[0].interpolated).toBe(false);
    expect(countedCrossings(cs)).toHaveLength(0);
  });
  test('a crossing on a spike pair (implied speed above the cap) is not seen at all', () => {
    // 0.02° of longitude ≈ 1.67 km in 1 s ≈ 6000 km/h
    const cs = crossings([fix(T0, [19.79, LAT0]), fix(T0 + 1000, [19.81, LAT0])]);
    expect(cs).toEqual([]);
  });
});
