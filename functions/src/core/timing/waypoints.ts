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
  const proj = localProjection(wp.position);
  const centre = { x: 0, y: 0 };
  const xy = fixes.map((f) => proj.toXy(f.lon, f.lat));
  let nearestFix = -1;
  let nearestFixD = Infinity;
  for (let k = 0; k < fixes.length; k++) {
    if (fixes[k].ts < window.fromMs || fixes[k].ts > window.toMs) continue;
    const d = Math.hypot(xy[k].x, xy[k].y);
    if (d < nearestFixD) {
      nearestFixD = d;
      nearestFix = k;
    }
  }
  let bestD = nearestFixD;
  let bestMs = nearestFix >= 0 ? fixes[nearestFix].ts : NaN;
  if (opts.waypointMethod === 'segment') {
    for (let k = 0; k + 1 < fixes.length; k++) {
      if (pairs[k] !== 'ok') continue;
      const ta = fixes[k].ts;
      const dt = fixes[k + 1].ts - ta;
      const tMin = Math.max(0, (window.fromMs - ta) / dt);
      const tMax = Math.min(1, (window.toMs - ta) / dt);
      if (!(tMin <= tMax)) continue;
      const c = closestPointOnSegment(centre, xy[k], xy[k + 1], tMin, tMax);
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
