/**
 * Directus course rows → the timing core's `StageCourse` (docs/recompute.md, "Course"). Pure.
 *
 * Mapping:
 *   geofences.kind start / finish / split   → course lines (LineString)
 *   geofences.kind time_control             → line (LineString) or circle (Point + radius_m);
 *                                             due_offset_s, params.due_at (absolute, ISO)
 *   geofences.kind neutralisation_zone      → polygon neutralisation, nominal_s
 *   neutralisation_start / neutralisation_end → DN→FN line pairs: same params.pair label, else
 *                                             the i-th start with the i-th end by sequence
 *   waypoints                               → waypoints (point, radius_m, open_radius_m)
 *   speed_limit_zones                       → polygon (geometry) or DZ/FZ lines (start_line,
 *                                             end_line)
 *
 * Line orientation (docs/timing.md): the core counts forward crossings only, forward meaning
 * "drawn from the competitor's left to their right". Course authors rarely know that rule, so
 * by default each line is oriented here against the direction of travel at it, taken from the
 * route polyline start → waypoints (by sequence) → finish: the segment of that polyline nearest
 * the line's midpoint. A line nearly parallel to that direction (under 15°) or on a route too
 * short to tell is kept as drawn; `params.orientation: "as_drawn"` keeps it as drawn always,
 * `params.any_direction: true` counts both directions. Every re-oriented line is reported.
 */
import { localProjection } from '../core/geo/index.ts';
import type { CourseLine, LonLat, NeutralisationZone, SpeedZone, StageCourse, TimeControl, Waypoint, WaypointType, ZoneArea } from '../core/timing/index.ts';

// ---------------------------------------------------------------------------------------------
// Directus rows (the fields the recompute reads)

export interface GeoJsonGeometry {
  type: string;
  coordinates: unknown;
}

export interface StageRow {
  id: number;
  event: number;
  code: string;
  sequence: number | null;
  planned_start: string | null;
  start_interval_s: number | null;
  max_time_s: number | null;
  closes_at: string | null;
  status: string | null;
}

export interface GeofenceRow {
  id: number;
  stage: number;
  code: string;
  kind: string;
  sequence: number | null;
  geometry: GeoJsonGeometry | null;
  radius_m: number | null;
  due_offset_s: number | null;
  nominal_s: number | null;
  params: Record<string, unknown> | null;
}

export interface WaypointRow {
  id: number;
  stage: number;
  code: string;
  type: string;
  sequence: number | null;
  point: GeoJsonGeometry | null;
  radius_m: number;
  open_radius_m: number | null;
}

export interface SpeedZoneRow {
  id: number;
  stage: number;
  code: string;
  geometry: GeoJsonGeometry | null;
  start_line: GeoJsonGeometry | null;
  end_line: GeoJsonGeometry | null;
  limit_kmh: number;
  tolerance_kmh: number | null;
  nominal_distance_m: number | null;
}

export interface CourseRows {
  geofences: readonly GeofenceRow[];
  waypoints: readonly WaypointRow[];
  speedZones: readonly SpeedZoneRow[];
}

export interface CourseNote {
  /** `unusable`: the feature is left out; `reoriented`: the line was reversed */
  kind: 'unusable' | 'reoriented' | 'missing';
  feature: string;
  message: string;
}

export type CourseBuild = { ok: true; course: StageCourse; notes: CourseNote[] } | { ok: false; notes: CourseNote[] };

// ---------------------------------------------------------------------------------------------
// Geometry readers

function isPosition(p: unknown): p is [number, number] {
  return Array.isArray(p) && p.length >= 2 && Number.isFinite(p[0]) && Number.isFinite(p[1]);
}

function lineCoords(g: GeoJsonGeometry | null): [number, number][] | null {
  if (!g || g.type !== 'LineString' || !Array.isArray(g.coordinates)) return null;
  const coords = g.coordinates as unknown[];
  if (coords.length < 2 || !coords.every(isPosition)) return null;
  return coords.map((p) => [(p as number[])[0], (p as number[])[1]]);
}

function pointCoords(g: GeoJsonGeometry | null): [number, number] | null {
  if (!g || g.type !== 'Point' || !isPosition(g.coordinates)) return null;
  const [lon, lat] = g.coordinates as number[];
  return [lon, lat];
}

function polygonCoords(g: GeoJsonGeometry | null): [number, number][][] | null {
  if (!g || g.type !== 'Polygon' || !Array.isArray(g.coordinates)) return null;
  const rings = g.coordinates as unknown[];
  if (rings.length === 0 || !rings.every((r) => Array.isArray(r) && r.length >= 4 && r.every(isPosition))) return null;
  return (rings as number[][][]).map((r) => r.map((p) => [p[0], p[1]] as [number, number]));
}

function bySequence<T extends { sequence: number | null; id: number }>(rows: readonly T[]): T[] {
  return [...rows].sort((a, b) => (a.sequence ?? 0) - (b.sequence ?? 0) || a.id - b.id);
}

const label = (kind: string, row: { id: number; code: string }) => `${kind} ${row.code} (#${row.id})`;

// ---------------------------------------------------------------------------------------------
// Orientation

const MIN_SIN = Math.sin((15 * Math.PI) / 180);

/** Direction of travel at `at`: the route segment nearest to it, as a unit vector in metres, or null. */
export function travelDirection(route: readonly LonLat[], at: LonLat): { x: number; y: number } | null {
  const proj = localProjection(at);
  let best: { d: number; x: number; y: number } | null = null;
  for (let i = 0; i + 1 < route.length; i++) {
    const a = proj.toXy(route[i][0], route[i][1]);
    const b = proj.toXy(route[i + 1][0], route[i + 1][1]);
    const dx = b.x - a.x;
    const dy = b.y - a.y;
    const len = Math.hypot(dx, dy);
    if (len < 1) continue;
    // distance from the origin (the line's midpoint) to segment a–b
    const t = Math.max(0, Math.min(1, -(a.x * dx + a.y * dy) / (len * len)));
    const d = Math.hypot(a.x + t * dx, a.y + t * dy);
    if (!best || d < best.d) best = { d, x: dx / len, y: dy / len };
  }
  return best ? { x: best.x, y: best.y } : null;
}

/**
 * The line drawn left → right for a competitor travelling `dir` (docs/timing.md): with the first
 * point A and last point B, forward travel crosses from the right to the left side, i.e.
 * cross(dir, B − A) < 0. Returns the coordinates, reversed when needed, and whether they were.
 */
export function orientLine(coords: readonly LonLat[], dir: { x: number; y: number } | null): { coordinates: LonLat[]; reversed: boolean } {
  if (!dir) return { coordinates: [...coords], reversed: false };
  const mid = coords[Math.floor(coords.length / 2)];
  const proj = localProjection(mid);
  const a = proj.toXy(coords[0][0], coords[0][1]);
  const b = proj.toXy(coords[coords.length - 1][0], coords[coords.length - 1][1]);
  const lx = b.x - a.x;
  const ly = b.y - a.y;
  const len = Math.hypot(lx, ly);
  if (len === 0) return { coordinates: [...coords], reversed: false };
  const cross = (dir.x * ly - dir.y * lx) / len;
  if (Math.abs(cross) < MIN_SIN || cross < 0) return { coordinates: [...coords], reversed: false };
  return { coordinates: [...coords].reverse(), reversed: true };
}

function midpoint(coords: readonly LonLat[]): LonLat {
  const a = coords[0];
  const b = coords[coords.length - 1];
  return [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
}

// ---------------------------------------------------------------------------------------------
// Build

function param<T>(row: GeofenceRow, key: string, check: (v: unknown) => v is T): T | undefined {
  const v = row.params?.[key];
  return check(v) ? v : undefined;
}
const isTrue = (v: unknown): v is true => v === true;
const isString = (v: unknown): v is string => typeof v === 'string' && v !== '';

/** The course of one stage from its Directus rows; `ok: false` without a usable start and finish. */
export function buildStageCourse(rows: CourseRows): CourseBuild {
  const notes: CourseNote[] = [];
  const fences = bySequence(rows.geofences);
  const of = (kind: string) => fences.filter((g) => g.kind === kind);

  const startRow = of('start')[0];
  const finishRow = of('finish')[0];
  const startCoords = startRow ? lineCoords(startRow.geometry) : null;
  const finishCoords = finishRow ? lineCoords(finishRow.geometry) : null;
  if (!startRow || !startCoords) notes.push({ kind: 'missing', feature: 'start', message: startRow ? `${label('start', startRow)} is not a LineString` : 'the stage has no start line' });
  if (!finishRow || !finishCoords) notes.push({ kind: 'missing', feature: 'finish', message: finishRow ? `${label('finish', finishRow)} is not a LineString` : 'the stage has no finish line' });
  if (!startRow || !finishRow || !startCoords || !finishCoords) return { ok: false, notes };

  const waypoints: Waypoint[] = [];
  for (const w of bySequence(rows.waypoints)) {
    const position = pointCoords(w.point);
    if (!position) {
      notes.push({ kind: 'unusable', feature: label('waypoint', w), message: 'no Point geometry' });
      continue;
    }
    waypoints.push({ id: String(w.id), code: w.code, type: w.type as WaypointType, position, radiusM: w.radius_m, ...(w.open_radius_m != null ? { openRadiusM: w.open_radius_m } : {}), sequence: w.sequence ?? 0 });
  }

  const route: LonLat[] = [midpoint(startCoords), ...waypoints.map((w) => w.position), midpoint(finishCoords)];
  const line = (row: GeofenceRow, coords: readonly LonLat[], what: string): { coordinates: LonLat[]; anyDirection?: boolean } => {
    if (param(row, 'any_direction', isTrue)) return { coordinates: [...coords], anyDirection: true };
    if (param(row, 'orientation', isString) === 'as_drawn') return { coordinates: [...coords] };
    const oriented = orientLine(coords, travelDirection(route, midpoint(coords)));
    if (oriented.reversed) notes.push({ kind: 'reoriented', feature: what, message: 'drawn right → left for the direction of travel: reversed (docs/timing.md, "Line orientation")' });
    return { coordinates: oriented.coordinates };
  };
  const courseLine = (row: GeofenceRow, coords: readonly LonLat[]): CourseLine => ({ id: String(row.id), code: row.code, ...line(row, coords, label(row.kind, row)) });

  const start = courseLine(startRow, startCoords);
  const finish = courseLine(finishRow, finishCoords);
  const splits: CourseLine[] = [];
  for (const s of of('split')) {
    const coords = lineCoords(s.geometry);
    if (!coords) notes.push({ kind: 'unusable', feature: label('split', s), message: 'not a LineString' });
    else splits.push(courseLine(s, coords));
  }

  const timeControls: TimeControl[] = [];
  for (const tc of of('time_control')) {
    const coords = lineCoords(tc.geometry);
    const center = pointCoords(tc.geometry);
    const dueAt = param(tc, 'due_at', isString);
    const due = { ...(dueAt && !Number.isNaN(Date.parse(dueAt)) ? { dueMs: Date.parse(dueAt) } : {}), ...(tc.due_offset_s != null ? { dueOffsetMs: tc.due_offset_s * 1000 } : {}) };
    if (coords) {
      const l = line(tc, coords, label('time_control', tc));
      timeControls.push({ id: String(tc.id), code: tc.code, geometry: { type: 'line', coordinates: l.coordinates, ...(l.anyDirection ? { anyDirection: true } : {}) }, ...due });
    } else if (center && tc.radius_m != null && tc.radius_m > 0) {
      timeControls.push({ id: String(tc.id), code: tc.code, geometry: { type: 'circle', center, radiusM: tc.radius_m }, ...due });
    } else notes.push({ kind: 'unusable', feature: label('time_control', tc), message: 'neither a LineString nor a Point with radius_m' });
  }

  const neutralisations: NeutralisationZone[] = [];
  const nominal = (...rs: (GeofenceRow | undefined)[]) => {
    const s = rs.find((r) => r?.nominal_s != null)?.nominal_s;
    return s != null ? { nominalDurationS: s } : {};
  };
  for (const z of of('neutralisation_zone')) {
    const coordinates = polygonCoords(z.geometry);
    if (!coordinates) notes.push({ kind: 'unusable', feature: label('neutralisation_zone', z), message: 'not a Polygon' });
    else neutralisations.push({ id: String(z.id), code: z.code, area: { type: 'polygon', coordinates }, ...nominal(z) });
  }
  const starts = of('neutralisation_start');
  const ends = of('neutralisation_end');
  const usedEnds = new Set<GeofenceRow>();
  const pairs: [GeofenceRow, GeofenceRow | undefined][] = [];
  for (const dn of starts) {
    const pair = param(dn, 'pair', isString);
    const fn = pair !== undefined ? ends.find((e) => !usedEnds.has(e) && param(e, 'pair', isString) === pair) : ends.find((e) => !usedEnds.has(e) && param(e, 'pair', isString) === undefined);
    if (fn) usedEnds.add(fn);
    pairs.push([dn, fn]);
  }
  for (const [dn, fn] of pairs) {
    const entry = lineCoords(dn.geometry);
    const exit = fn ? lineCoords(fn.geometry) : null;
    if (!entry || !exit || !fn) {
      notes.push({ kind: 'unusable', feature: label('neutralisation_start', dn), message: fn ? 'DN or FN is not a LineString' : 'no matching neutralisation_end' });
      continue;
    }
    const area: ZoneArea = { type: 'lines', entry: line(dn, entry, label('neutralisation_start', dn)).coordinates, exit: line(fn, exit, label('neutralisation_end', fn)).coordinates };
    neutralisations.push({ id: String(dn.id), code: dn.code, area, ...nominal(dn, fn) });
  }
  for (const fn of ends) if (!usedEnds.has(fn)) notes.push({ kind: 'unusable', feature: label('neutralisation_end', fn), message: 'no matching neutralisation_start' });

  const speedZones: SpeedZone[] = [];
  for (const z of [...rows.speedZones].sort((a, b) => a.id - b.id)) {
    const polygon = polygonCoords(z.geometry);
    const entry = lineCoords(z.start_line);
    const exit = lineCoords(z.end_line);
    let area: ZoneArea;
    if (polygon) area = { type: 'polygon', coordinates: polygon };
    else if (entry && exit) {
      const fake = (kind: string): GeofenceRow => ({ id: z.id, stage: z.stage, code: z.code, kind, sequence: 0, geometry: null, radius_m: null, due_offset_s: null, nominal_s: null, params: null });
      area = { type: 'lines', entry: line(fake('speed_zone_start'), entry, `speed zone ${z.code} DZ (#${z.id})`).coordinates, exit: line(fake('speed_zone_end'), exit, `speed zone ${z.code} FZ (#${z.id})`).coordinates };
    } else {
      notes.push({ kind: 'unusable', feature: `speed zone ${z.code} (#${z.id})`, message: 'neither a Polygon nor start_line + end_line' });
      continue;
    }
    speedZones.push({ id: String(z.id), code: z.code, area, limitKmh: z.limit_kmh, ...(z.tolerance_kmh ? { toleranceKmh: z.tolerance_kmh } : {}), ...(z.nominal_distance_m ? { nominalDistanceM: z.nominal_distance_m } : {}) });
  }

  const course: StageCourse = {
    start,
    finish,
    splits,
    timeControls,
    waypoints,
    speedZones,
    neutralisations,
  };
  return { ok: true, course, notes };
}
