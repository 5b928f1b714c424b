/**
 * Time-control arrivals: the first forward crossing of a control line, or the first moment the
 * track is within a control's radius (interpolated on the chord that enters the circle). The
 * whole track counts, since a control may sit before the stage start. Early/late penalties
 * (minute granularity, per-minute rates) belong to the penalty evaluator; this reports times.
 */
import { localProjection } from '../geo/projection.ts';
import { circleEntryT } from '../geo/segments.ts';
import { countedCrossings, type TrackCrossing } from './line-crossings.ts';
import { roundMs } from './options.ts';
import { timeAt, type Track } from './track.ts';
import type { TimeControl, TimeControlRow } from './types.ts';

/**
 * `crossings`: all crossings of the control's line (when it is a line), from findLineCrossings.
 * `dueBaseMs`: what `dueOffsetMs` counts from (scheduled start, else actual start), or null.
 */
export function evaluateTimeControl(
  track: Track,
  tc: TimeControl,
  crossings: readonly TrackCrossing[],
  dueBaseMs: number | null,
): TimeControlRow {
  let arrivedAtMs: number | null = null;
  let interpolated = false;
  const g = tc.geometry;
  if (g.type === 'line') {
    const first = countedCrossings(crossings, g.anyDirection)[0];
    if (first) {
      arrivedAtMs = first.atMs;
      interpolated = true;
    }
  } else {
    const { fixes, pairs } = track;
    const proj = localProjection(g.center);
    const centre = { x: 0, y: 0 };
    for (let k = 0; k < fixes.length; k++) {
      const a = proj.toXy(fixes[k].lon, fixes[k].lat);
      if (Math.hypot(a.x, a.y) <= g.radiusM) {
        arrivedAtMs = fixes[k].ts;
        break;
      }
      if (k + 1 < fixes.length && pairs[k] === 'ok') {
        const b = proj.toXy(fixes[k + 1].lon, fixes[k + 1].lat);
        const t = circleEntryT(a, b, centre, g.radiusM);
        if (t !== null) {
          arrivedAtMs = roundMs(timeAt(track, k, t));
          interpolated = true;
          break;
        }
      }
    }
  }
  const dueMs = tc.dueMs ?? (tc.dueOffsetMs !== undefined && dueBaseMs !== null ? dueBaseMs + tc.dueOffsetMs : null);
  return {
    controlId: tc.id,
    code: tc.code ?? null,
    arrivedAtMs,
    interpolated,
    dueMs,
    deltaMs: arrivedAtMs !== null && dueMs !== null ? arrivedAtMs - dueMs : null,
  };
}
