/**
 * Waypoint validation by closest approach. Sparse fixes (5–10 s apart) pass a waypoint between
 * two samples, so the distance is taken from the chord between consecutive fixes, not only from
 * the fixes themselves (rally-domain.md §0.2, AC-5). No chord is drawn across a gap or a spike
 * pair: there, only the fixes count.
 */
import { localProjection } from '../geo/projection.ts';
import { closestPointOnSegment } from '../geo/segments.ts';
import { round2, roundMs, type ResolvedOptions } from './options.ts';
import { timeAt, type Track } from './track.ts';
import type { Waypoint, WaypointPassRow } from './types.ts';

/** The part of the track considered, ms since epoch, inclusive. */
export interface TimeWindow {
  fromMs: number;
  toMs: number;
}

export const WHOLE_TRACK: TimeWindow = { fromMs: -Infinity, toMs: Infinity };

export function evaluateWaypoint(
  track: Track,
  wp: Waypoint,
  sequence: number,
  window: TimeWindow,
  opts: Pick<ResolvedOptions, 'waypointMethod'>,
): WaypointPassRow {
  const { fixes, pairs } = track;
  const n = fixes.length;
  // The local frame of localProjection, inlined (this loop runs per fix per waypoint).
  const proj = localProjection(wp.position);
  const kx = proj.toXy(wp.position[0] + 1, wp.position[1]).x; // metres per degree of longitude
  const ky = proj.toXy(wp.position[0], wp.position[1] + 1).y; // metres per degree of latitude
  const lon0 = wp.position[0];
  const lat0 = wp.position[1];
  // Fix positions relative to the waypoint (metres) and their distances, computed once.
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  const ds = new Float64Array(n);
  let nearestFix = -1;
  let nearestFixD = Infinity;
  for (let k = 0; k < n; k++) {
    let dLon = fixes[k].lon - lon0;
    if (dLon >= 180) dLon -= 360;
    else if (dLon < -180) dLon += 360;
    const x = dLon * kx;
    const y = (fixes[k].lat - lat0) * ky;
    xs[k] = x;
    ys[k] = y;
    ds[k] = Math.sqrt(x * x + y * y);
    if (fixes[k].ts < window.fromMs || fixes[k].ts > window.toMs) continue;
    if (ds[k] < nearestFixD) {
      nearestFixD = ds[k];
      nearestFix = k;
    }
  }
  let bestD = nearestFixD;
  let bestMs = nearestFix >= 0 ? fixes[nearestFix].ts : NaN;
  if (opts.waypointMethod === 'segment') {
    const centre = { x: 0, y: 0 };
    for (let k = 0; k + 1 < n; k++) {
      if (pairs[k] !== 'ok') continue;
      // Triangle inequality: no point of the chord is closer than |a| − |ab|; skip hopeless chords.
      const len = Math.hypot(xs[k + 1] - xs[k], ys[k + 1] - ys[k]);
      if (Math.min(ds[k], ds[k + 1]) - len > bestD) continue;
      const ta = fixes[k].ts;
      const dt = fixes[k + 1].ts - ta;
      const tMin = Math.max(0, (window.fromMs - ta) / dt);
      const tMax = Math.min(1, (window.toMs - ta) / dt);
      if (!(tMin <= tMax)) continue;
      const c = closestPointOnSegment(centre, { x: xs[k], y: ys[k] }, { x: xs[k + 1], y: ys[k + 1] }, tMin, tMax);
      const at = timeAt(track, k, c.t);
      if (c.distanceM < bestD || (c.distanceM === bestD && at < bestMs)) {
        bestD = c.distanceM;
        bestMs = at;
      }
    }
  }
  const seen = Number.isFinite(bestD);
  const validated = seen && bestD <= wp.radiusM;
  return {
    waypointId: wp.id,
    code: wp.code ?? null,
    type: wp.type,
    sequence,
    radiusM: wp.radiusM,
    validated,
    method: validated ? (nearestFixD <= wp.radiusM ? 'point' : 'segment') : null,
    passAtMs: seen ? roundMs(bestMs) : null,
    distanceM: seen ? round2(bestD) : null,
    nearestFixTs: nearestFix >= 0 ? fixes[nearestFix].ts : null,
    nearestFixDistanceM: nearestFix >= 0 ? round2(nearestFixD) : null,
    opened: wp.openRadiusM === undefined ? null : seen && bestD <= wp.openRadiusM,
  };
}
