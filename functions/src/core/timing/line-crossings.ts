/**
 * Where a track crosses a timing line (a LineString of 2+ positions), with the crossing instant
 * interpolated linearly between the two fixes that straddle the line.
 *
 * Orientation (docs/timing.md "Line orientation"): a line is drawn from the competitor's left to
 * their right when driving forward, so forward travel goes from the line's right-hand side to
 * its left-hand side.
 */
import { bboxCentre, localProjection } from '../geo/projection.ts';
import { segmentCrossing } from '../geo/segments.ts';
import type { LonLat, Xy } from '../geo/types.ts';
import { roundMs } from './options.ts';
import { timeAt, type Track } from './track.ts';

export interface TrackCrossing {
  /** index of the fix pair (fixes[pair] → fixes[pair + 1]) */
  pair: number;
  /** parameter along the pair, 0..1 */
  t: number;
  /** unrounded instant, ms since epoch */
  exactMs: number;
  /** rounded to the millisecond (Math.round) */
  atMs: number;
  direction: 1 | -1;
  /** false when the pair is a gap: the instant is a guess and must not be used as a time */
  interpolated: boolean;
  beforeTs: number;
  afterTs: number;
  lon: number;
  lat: number;
}

/** Parameters closer than this along one pair are one point (a vertex of the line). */
const SAME_T = 1e-12;

/**
 * Every crossing of the line by the track, in time order, both directions. Pairs marked `spike`
 * are skipped; pairs marked `gap` are reported with `interpolated: false`.
 */
export function findLineCrossings(track: Track, line: readonly LonLat[]): TrackCrossing[] {
  const out: TrackCrossing[] = [];
  if (line.length < 2 || track.fixes.length < 2) return out;
  const proj = localProjection(bboxCentre(line));
  const q: Xy[] = line.map((c) => proj.toXy(c[0], c[1]));
  let minLon = Infinity, maxLon = -Infinity, minLat = Infinity, maxLat = -Infinity;
  for (const c of line) {
    minLon = Math.min(minLon, c[0]); maxLon = Math.max(maxLon, c[0]);
    minLat = Math.min(minLat, c[1]); maxLat = Math.max(maxLat, c[1]);
  }
  const { fixes, pairs } = track;
  for (let i = 0; i + 1 < fixes.length; i++) {
    if (pairs[i] === 'spike') continue;
    const a = fixes[i];
    const b = fixes[i + 1];
    // Cheap reject: the pair's bounding box misses the line's.
    if (Math.max(a.lon, b.lon) < minLon || Math.min(a.lon, b.lon) > maxLon) continue;
    if (Math.max(a.lat, b.lat) < minLat || Math.min(a.lat, b.lat) > maxLat) continue;
    const p0 = proj.toXy(a.lon, a.lat);
    const p1 = proj.toXy(b.lon, b.lat);
    const hits: { t: number; direction: 1 | -1 }[] = [];
    for (let k = 0; k + 1 < q.length; k++) {
      const c = segmentCrossing(p0, p1, q[k], q[k + 1]);
      if (c) hits.push({ t: c.t, direction: c.direction });
    }
    hits.sort((x, y) => x.t - y.t || x.direction - y.direction);
    // A pair through a vertex of the line meets both adjacent line segments at the same t:
    // the same direction twice is one crossing; opposite directions is a touch, no crossing.
    const merged: { t: number; direction: 1 | -1 }[] = [];
    for (const h of hits) {
      const last = merged[merged.length - 1];
      if (last && Math.abs(h.t - last.t) <= SAME_T) {
        if (last.direction !== h.direction) merged.pop();
        continue;
      }
      merged.push(h);
    }
    for (const h of merged) {
      const exactMs = timeAt(track, i, h.t);
      out.push({
        pair: i,
        t: h.t,
        exactMs,
        atMs: roundMs(exactMs),
        direction: h.direction,
        interpolated: pairs[i] === 'ok',
        beforeTs: a.ts,
        afterTs: b.ts,
        lon: a.lon + h.t * (b.lon - a.lon),
        lat: a.lat + h.t * (b.lat - a.lat),
      });
    }
  }
  return out;
}

/** Crossings that count for a line: interpolated ones, forward only unless `anyDirection`. */
export function countedCrossings(all: readonly TrackCrossing[], anyDirection = false): TrackCrossing[] {
  return all.filter((c) => c.interpolated && (anyDirection || c.direction === 1));
}
