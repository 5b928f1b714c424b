/**
 * Distances on the sphere and a local equirectangular projection to metres.
 *
 * Every timing feature (a line, a waypoint, a zone) is a few hundred metres to a few kilometres
 * across, so each one gets its own projection centred on itself: over 5 km the equirectangular
 * error stays below 0.05 % at Albanian latitudes, far below GPS noise. The projection is affine
 * in (lon, lat), so where a track crosses a line (the parameter along each segment) does not
 * depend on the origin chosen; only lengths do.
 */
import type { LonLat, Xy } from './types.ts';

/** IUGG mean Earth radius, metres. */
export const EARTH_RADIUS_M = 6_371_008.8;

const RAD = Math.PI / 180;

/** Longitude difference folded into [-180, 180), degrees. */
function deltaLon(lon: number, lon0: number): number {
  let d = lon - lon0;
  if (d >= 180) d -= 360;
  else if (d < -180) d += 360;
  return d;
}

/** Great-circle distance between two `[lon, lat]` positions, metres (haversine). */
export function haversineM(a: LonLat, b: LonLat): number {
  const lat1 = a[1] * RAD;
  const lat2 = b[1] * RAD;
  const dLat = lat2 - lat1;
  const dLon = deltaLon(b[0], a[0]) * RAD;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(lat1) * Math.cos(lat2) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

export interface LocalProjection {
  readonly origin: LonLat;
  /** metres east / north of the origin */
  toXy(lon: number, lat: number): Xy;
  toLonLat(p: Xy): [number, number];
}

/** Equirectangular projection centred on `origin`: x = R·Δλ·cos φ0, y = R·Δφ (metres). */
export function localProjection(origin: LonLat): LocalProjection {
  const lon0 = origin[0];
  const lat0 = origin[1];
  const kx = EARTH_RADIUS_M * RAD * Math.cos(lat0 * RAD); // metres per degree of longitude
  const ky = EARTH_RADIUS_M * RAD; // metres per degree of latitude
  return {
    origin,
    toXy: (lon, lat) => ({ x: deltaLon(lon, lon0) * kx, y: (lat - lat0) * ky }),
    toLonLat: (p) => [lon0 + p.x / kx, lat0 + p.y / ky],
  };
}

/** Length of a polyline of `[lon, lat]` positions, metres (sum of haversine legs). */
export function polylineLengthM(coords: readonly LonLat[]): number {
  let total = 0;
  for (let i = 1; i < coords.length; i++) total += haversineM(coords[i - 1], coords[i]);
  return total;
}

/** Centre of the bounding box of some positions; the origin used to project a feature. */
export function bboxCentre(coords: readonly LonLat[]): [number, number] {
  let minLon = Infinity, maxLon = -Infinity, minLat = Infinity, maxLat = -Infinity;
  for (const c of coords) {
    if (c[0] < minLon) minLon = c[0];
    if (c[0] > maxLon) maxLon = c[0];
    if (c[1] < minLat) minLat = c[1];
    if (c[1] > maxLat) maxLat = c[1];
  }
  return [(minLon + maxLon) / 2, (minLat + maxLat) / 2];
}
