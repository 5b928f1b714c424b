/**
 * Shared geometry for the timing tests: a stage near Tirana (origin 19.8°E 41.3°N) and helpers
 * to place fixes in metres. Expected values in the tests come from kinematics worked by hand
 * (or in Python, noted in comments), not from the code under test.
 *
 * Metres per degree at 41.3°N (R = 6 371 008.8 m): 111 195.08 north, 83 536.88 east
 * (cos 41.3° = 0.751264).
 */
import type { Fix, LonLat } from './types.ts';
export { rng } from '../../../../common/src/testing/random.ts';

export const LON0 = 19.8;
export const LAT0 = 41.3;
export const M_PER_DEG_LAT = (6_371_008.8 * Math.PI) / 180;
export const M_PER_DEG_LON = M_PER_DEG_LAT * Math.cos((LAT0 * Math.PI) / 180);

/** 2025-06-08 08:00:00 Tirana (CEST) = 06:00:00 UTC. */
export const T0 = Date.UTC(2025, 5, 8, 6, 0, 0);
/** hh:mm:ss local (CEST) on the test day → ms since epoch */
export function clock(h: number, m: number, s: number, ms = 0): number {
  return Date.UTC(2025, 5, 8, h - 2, m, s, ms);
}

/** [lon, lat] of a point x metres east and y metres north of the origin. */
export function at(xM: number, yM: number): [number, number] {
  return [LON0 + xM / M_PER_DEG_LON, LAT0 + yM / M_PER_DEG_LAT];
}

export function fix(ts: number, pos: LonLat, speedKmh = 50, extra: Partial<Fix> = {}): Fix {
  return { ts, lon: pos[0], lat: pos[1], speedKmh, fix: true, ...extra };
}

/** A north–south line at longitude `lon`, drawn north → south: forward = eastbound travel. */
export function meridianLine(lon: number, halfLatDeg = 0.001): [number, number][] {
  return [[lon, LAT0 + halfLatDeg], [lon, LAT0 - halfLatDeg]];
}

/** The same line at x metres east of the origin, ±halfM metres long. */
export function meridianLineAtM(xM: number, halfM = 100): [number, number][] {
  return [at(xM, halfM), at(xM, -halfM)];
}

/** An axis-aligned rectangle polygon (GeoJSON ring, closed) in metres around the origin. */
export function rectM(x0: number, y0: number, x1: number, y1: number): [number, number][][] {
  return [[at(x0, y0), at(x1, y0), at(x1, y1), at(x0, y1), at(x0, y0)]];
}

export function shuffled<T>(xs: readonly T[], rand: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
