/**
 * The demo stage: SS1 "Tirana – Krrabë", about 7 km along the SH3 road south-east of Tirana
 * (coordinates follow the road from the Tirana ring to the Krrabë climb). Pure data plus the
 * geometry derived from the route: start and finish lines across it (drawn from the
 * competitor's left to right, as docs/timing.md requires), waypoints of several types, a
 * speed-limit zone around the village stretch and a time control.
 */
import { localProjection, type Xy } from '../functions/src/core/geo/index.ts';

export type LonLat = [number, number];

/** [lon, lat] along the road, start to finish */
export const ROUTE: LonLat[] = [
  [19.8385, 41.3178],
  [19.8452, 41.3140],
  [19.8511, 41.3098],
  [19.8563, 41.3052],
  [19.8619, 41.3011],
  [19.8688, 41.2979],
  [19.8757, 41.2951],
  [19.8820, 41.2913],
  [19.8871, 41.2866],
  [19.8927, 41.2825],
  [19.8994, 41.2797],
  [19.9061, 41.2764],
  [19.9115, 41.2722],
  [19.9162, 41.2676],
];

const proj = localProjection(ROUTE[0]);
const xy = ROUTE.map(([lon, lat]) => proj.toXy(lon, lat));

function lerp(a: Xy, b: Xy, t: number): Xy {
  return { x: a.x + (b.x - a.x) * t, y: a.y + (b.y - a.y) * t };
}

/** Cumulative distance (m) at each route vertex. */
const cumulative = xy.reduce<number[]>((acc, p, i) => {
  acc.push(i === 0 ? 0 : acc[i - 1] + Math.hypot(p.x - xy[i - 1].x, p.y - xy[i - 1].y));
  return acc;
}, []);
export const ROUTE_LENGTH_M = cumulative[cumulative.length - 1];

/** Point and unit direction at `distanceM` along the route (clamped to its ends). */
export function along(distanceM: number): { p: Xy; dir: Xy } {
  const d = Math.max(0, Math.min(ROUTE_LENGTH_M, distanceM));
  let i = 1;
  while (i < cumulative.length - 1 && cumulative[i] < d) i++;
  const a = xy[i - 1];
  const b = xy[i];
  const len = cumulative[i] - cumulative[i - 1];
  const t = len > 0 ? (d - cumulative[i - 1]) / len : 0;
  return { p: lerp(a, b, t), dir: { x: (b.x - a.x) / len, y: (b.y - a.y) / len } };
}

export function toLonLat(p: Xy): LonLat {
  const [lon, lat] = proj.toLonLat(p);
  return [Math.round(lon * 1e7) / 1e7, Math.round(lat * 1e7) / 1e7];
}

/** A line across the route at `distanceM`, `halfWidthM` each side, from the driver's left to right. */
export function lineAcross(distanceM: number, halfWidthM = 40): { type: 'LineString'; coordinates: LonLat[] } {
  const { p, dir } = along(distanceM);
  const left = { x: -dir.y, y: dir.x }; // direction rotated 90° anticlockwise
  return { type: 'LineString', coordinates: [toLonLat({ x: p.x + left.x * halfWidthM, y: p.y + left.y * halfWidthM }), toLonLat({ x: p.x - left.x * halfWidthM, y: p.y - left.y * halfWidthM })] };
}

/** A polygon hugging the route between two distances, `halfWidthM` each side. */
export function corridor(fromM: number, toM: number, halfWidthM = 60): { type: 'Polygon'; coordinates: LonLat[][] } {
  const steps = 8;
  const leftSide: LonLat[] = [];
  const rightSide: LonLat[] = [];
  for (let k = 0; k <= steps; k++) {
    const { p, dir } = along(fromM + ((toM - fromM) * k) / steps);
    const left = { x: -dir.y, y: dir.x };
    leftSide.push(toLonLat({ x: p.x + left.x * halfWidthM, y: p.y + left.y * halfWidthM }));
    rightSide.push(toLonLat({ x: p.x - left.x * halfWidthM, y: p.y - left.y * halfWidthM }));
  }
  const ring = [...leftSide, ...rightSide.reverse()];
  ring.push(ring[0]);
  return { type: 'Polygon', coordinates: [ring] };
}

export function pointAt(distanceM: number): { type: 'Point'; coordinates: LonLat } {
  return { type: 'Point', coordinates: toLonLat(along(distanceM).p) };
}

/** Distances (m) of the course elements along the route. */
export const MARKS = {
  startM: 150,
  splitM: 3_300,
  finishM: ROUTE_LENGTH_M - 150,
  slzFromM: 1_700,
  slzToM: 2_700,
  slzLimitKmh: 50,
  waypoints: [
    { code: 'WPV1', type: 'WPV', atM: 900, radiusM: 200 },
    { code: 'WPM1', type: 'WPM', atM: 2_300, radiusM: 90 },
    { code: 'WPS1', type: 'WPS', atM: 4_200, radiusM: 90 },
    { code: 'WPC1', type: 'WPC', atM: 5_600, radiusM: 90 },
  ],
  // the start control: due at the entry's start minute, reached a few seconds after it (entries
  // wait at distance 0, outside its radius, so nobody checks in early)
  timeControlM: 100,
  timeControlRadiusM: 30,
} as const;

export function courseGeometry() {
  return {
    route: { type: 'LineString' as const, coordinates: ROUTE },
    start: lineAcross(MARKS.startM),
    split: lineAcross(MARKS.splitM),
    finish: lineAcross(MARKS.finishM),
    timeControl: pointAt(MARKS.timeControlM),
    slz: corridor(MARKS.slzFromM, MARKS.slzToM),
    waypoints: MARKS.waypoints.map((w) => ({ ...w, point: pointAt(w.atM) })),
  };
}
