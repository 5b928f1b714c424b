/**
 * Waypoint validation by closest approach. Sparse fixes (5–10 s apart) pass a waypoint between
 * two samples, so the distance is taken from the chord between consecutive fixes, not only from
 * the fixes themselves (rally-domain.md §0.2, AC-5). No chord is drawn across a gap or a spike
 * pair: there, only the fixes count.
 *
 * Only the parts of the track that can be near the waypoint are looked at: the track is cut
 * into chunks of CHUNK fixes with their bounding boxes (once per track, track-chunks.ts), and a
 * chunk whose box is farther from the waypoint than the best distance found so far is skipped.
 * The result is the one a scan of every fix and chord gives, bit for bit (waypoints.test.ts
 * compares both on seeded tracks): the nearest fix is the lexicographic minimum of (distance,
 * index), the chords are visited in track order with the same running best, and a skipped chunk
 * holds no fix or chord that could have changed it (see `chordBound`).
 */
import { localProjection } from '../geo/projection.ts';
import { closestPointOnSegment } from '../geo/segments.ts';
import { round2, roundMs, type ResolvedOptions } from './options.ts';
import { timeAt, type Track } from './track.ts';
import { trackChunks, type TrackChunks } from './track-chunks.ts';
import type { Waypoint, WaypointPassRow } from './types.ts';

/** The part of the track considered, ms since epoch, inclusive. */
export interface TimeWindow {
  fromMs: number;
  toMs: number;
}

export const WHOLE_TRACK: TimeWindow = { fromMs: -Infinity, toMs: Infinity };

/** A chunk's distance bounds from the waypoint (metres); 0 when they cannot be computed. */
interface Bounds {
  /** no fix of the chunk is computed nearer than this (exact: rounding is monotonic) */
  fix: Float64Array;
  /** no point of a chord of the chunk is computed nearer than this (with a rounding margin) */
  chord: Float64Array;
}

/**
 * Distance bounds of every chunk from the waypoint, in the waypoint's frame (x = ΔLon·kx,
 * y = ΔLat·ky). A fix's x is fl(fl(lon − lon0)·kx); fl is monotonic, so every fix of a chunk lies
 * inside the box computed the same way from the chunk's extreme longitudes and latitudes, and its
 * computed distance fl(√(x² + y²)) is at least the box's computed distance. A chord lies inside
 * the box too, but its closest point is computed with a few roundings (a + t·(b − a), hypot):
 * its bound keeps a margin of 1e-9 of the box's coordinates, many orders above those errors.
 * A chunk whose longitudes would be wrapped (±180°) gets no bound (0: always looked at).
 */
function chunkBounds(chunks: TrackChunks, lon0: number, lat0: number, kx: number, ky: number): Bounds {
  const m = chunks.count;
  const fix = new Float64Array(m);
  const chord = new Float64Array(m);
  if (!(kx > 0 && ky > 0 && Number.isFinite(kx) && Number.isFinite(ky))) return { fix, chord };
  for (let c = 0; c < m; c++) {
    const dLonMin = chunks.minLon[c] - lon0;
    const dLonMax = chunks.maxLon[c] - lon0;
    if (dLonMin < -180 || dLonMax >= 180) continue; // some fixes would be wrapped: no bound
    const xMin = dLonMin * kx;
    const xMax = dLonMax * kx;
    const yMin = (chunks.minLat[c] - lat0) * ky;
    const yMax = (chunks.maxLat[c] - lat0) * ky;
    const dx = xMin > 0 ? xMin : xMax < 0 ? -xMax : 0;
    const dy = yMin > 0 ? yMin : yMax < 0 ? -yMax : 0;
    const d = Math.sqrt(dx * dx + dy * dy);
    fix[c] = d;
    chord[c] = d - 1e-9 * (1 + Math.abs(xMin) + Math.abs(xMax) + Math.abs(yMin) + Math.abs(yMax));
  }
  return { fix, chord };
}

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
  // A fix's position relative to the waypoint (metres) and its distance: always computed by these
  // same operations, so a fix looked at twice gets the same values.
  let px = 0;
  let py = 0;
  let pd = 0;
  const place = (k: number): void => {
    let dLon = fixes[k].lon - lon0;
    if (dLon >= 180) dLon -= 360;
    else if (dLon < -180) dLon += 360;
    px = dLon * kx;
    py = (fixes[k].lat - lat0) * ky;
    pd = Math.sqrt(px * px + py * py);
  };
  const chunks = trackChunks(track);
  const bounds = chunkBounds(chunks, lon0, lat0, kx, ky);

  // Nearest fix inside the window: the chunks by increasing bound, until a bound exceeds the best
  // distance found; ties go to the lower index, as in a scan in track order.
  const order: number[] = [];
  for (let c = 0; c < chunks.count; c++) if (chunks.lastTs[c] >= window.fromMs && chunks.firstTs[c] <= window.toMs) order.push(c);
  order.sort((a, b) => bounds.fix[a] - bounds.fix[b] || a - b);
  let nearestFix = -1;
  let nearestFixD = Infinity;
  for (const c of order) {
    if (bounds.fix[c] > nearestFixD) break;
    const end = chunks.end(c);
    for (let k = chunks.start(c); k <= end; k++) {
      if (fixes[k].ts < window.fromMs || fixes[k].ts > window.toMs) continue;
      place(k);
      if (pd < nearestFixD || (pd === nearestFixD && k < nearestFix)) {
        nearestFixD = pd;
        nearestFix = k;
      }
    }
  }
  let bestD = nearestFixD;
  let bestMs = nearestFix >= 0 ? fixes[nearestFix].ts : NaN;
  if (opts.waypointMethod === 'segment') {
    const centre = { x: 0, y: 0 };
    // Chords in track order, chunk by chunk (chunk c holds the chords start(c) → end(c)); a chunk
    // whose chords are all farther than the running best cannot change it and is skipped.
    for (let c = 0; c < chunks.count; c++) {
      if (bounds.chord[c] > bestD) continue;
      const end = chunks.end(c);
      let k = chunks.start(c);
      place(k);
      let ax = px;
      let ay = py;
      let ad = pd;
      for (; k < end; k++) {
        place(k + 1);
        const bx = px;
        const by = py;
        const bd = pd;
        if (pairs[k] === 'ok') {
          // Triangle inequality: no point of the chord is closer than |a| − |ab|; skip hopeless chords.
          const len = Math.hypot(bx - ax, by - ay);
          if (!(Math.min(ad, bd) - len > bestD)) {
            const ta = fixes[k].ts;
            const dt = fixes[k + 1].ts - ta;
            const tMin = Math.max(0, (window.fromMs - ta) / dt);
            const tMax = Math.min(1, (window.toMs - ta) / dt);
            if (tMin <= tMax) {
              const cp = closestPointOnSegment(centre, { x: ax, y: ay }, { x: bx, y: by }, tMin, tMax);
              const at = timeAt(track, k, cp.t);
              if (cp.distanceM < bestD || (cp.distanceM === bestD && at < bestMs)) {
                bestD = cp.distanceM;
                bestMs = at;
              }
            }
          }
        }
        ax = bx;
        ay = by;
        ad = bd;
      }
    }
  }
  return passRow(wp, sequence, bestD, bestMs, nearestFix >= 0 ? fixes[nearestFix].ts : null, nearestFixD);
}

/**
 * The row of a waypoint from the closest approach found (bestD metres at bestMs; Infinity when
 * the track never came within the window) and the nearest fix (its ts, or null, and distance).
 */
export function passRow(wp: Waypoint, sequence: number, bestD: number, bestMs: number, nearestFixTs: number | null, nearestFixD: number): WaypointPassRow {
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
    nearestFixTs,
    nearestFixDistanceM: nearestFixTs !== null ? round2(nearestFixD) : null,
    opened: wp.openRadiusM === undefined ? null : seen && bestD <= wp.openRadiusM,
  };
}
