/**
 * Passages of a track through a zone (a polygon, or the route between an entry and an exit line).
 *
 * Polygon: a passage is a maximal run of consecutive fixes inside the polygon. Its entry is
 * where the pair before the run last crosses the boundary, its exit where the pair after it
 * first crosses it. Across a gap or spike pair the boundary time is the inside fix's own time
 * (`...Interpolated: false`), which keeps the passage on the fixes actually seen inside. A zone
 * clipped between two fixes with none inside is not seen (there is no evidence of it).
 *
 * Lines: a small state machine over the forward crossings of both lines in time order,
 *   outside --entry line--> inside --exit line--> outside (one passage)
 * an entry crossing while inside and an exit crossing while outside are ignored. A crossing over
 * a gap still counts, at the inside fix's time (after-fix for the entry, before-fix for the exit).
 */
import { bboxCentre, localProjection } from '../geo/projection.ts';
import { pointInPolygon, segmentPolygonCrossings, type PlanarPolygon } from '../geo/polygon.ts';
import { findLineCrossings, type TrackCrossing } from './line-crossings.ts';
import { roundMs } from './options.ts';
import { timeAt, type Track } from './track.ts';
import type { LonLat, ZoneArea } from './types.ts';

export interface ZonePassage {
  enteredExactMs: number;
  enteredAtMs: number;
  entryInterpolated: boolean;
  /** false when the track already starts inside (polygon only) */
  entrySeen: boolean;
  exitedExactMs: number | null;
  exitedAtMs: number | null;
  exitInterpolated: boolean;
  /** index range of the fixes inside; none when lastInside < firstInside */
  firstInside: number;
  lastInside: number;
  /** the fix pairs holding the entry and exit boundary (−1 when none) */
  entryPair: number;
  exitPair: number;
}

export function isComplete(p: ZonePassage): boolean {
  return p.entrySeen && p.exitedAtMs !== null;
}

export function findZonePassages(track: Track, area: ZoneArea): ZonePassage[] {
  return area.type === 'polygon' ? polygonPassages(track, area.coordinates) : linePassages(track, area.entry, area.exit);
}

function polygonPassages(track: Track, coordinates: readonly (readonly LonLat[])[]): ZonePassage[] {
  const out: ZonePassage[] = [];
  const { fixes, pairs } = track;
  if (fixes.length === 0 || coordinates.length === 0 || coordinates[0].length < 3) return out;
  const proj = localProjection(bboxCentre(coordinates[0]));
  const polygon: PlanarPolygon = coordinates.map((ring) => ring.map((c) => proj.toXy(c[0], c[1])));
  // Fixes outside the polygon's lon/lat box are outside: project only the others.
  let minLon = Infinity, maxLon = -Infinity, minLat = Infinity, maxLat = -Infinity;
  for (const c of coordinates[0]) {
    minLon = Math.min(minLon, c[0]); maxLon = Math.max(maxLon, c[0]);
    minLat = Math.min(minLat, c[1]); maxLat = Math.max(maxLat, c[1]);
  }
  const xy = (k: number) => proj.toXy(fixes[k].lon, fixes[k].lat);
  const inside = fixes.map(
    (f, k) => f.lon >= minLon && f.lon <= maxLon && f.lat >= minLat && f.lat <= maxLat && pointInPolygon(xy(k), polygon),
  );
  let i = 0;
  while (i < fixes.length) {
    if (!inside[i]) { i++; continue; }
    let j = i;
    while (j + 1 < fixes.length && inside[j + 1]) j++;
    // entry
    let enteredExactMs = fixes[i].ts;
    let entryInterpolated = false;
    const entrySeen = i > 0;
    if (i > 0 && pairs[i - 1] === 'ok') {
      const ts = segmentPolygonCrossings(xy(i - 1), xy(i), polygon);
      enteredExactMs = timeAt(track, i - 1, ts.length > 0 ? ts[ts.length - 1] : 1);
      entryInterpolated = true;
    }
    // exit
    let exitedExactMs: number | null = null;
    let exitInterpolated = false;
    if (j + 1 < fixes.length) {
      exitedExactMs = fixes[j].ts;
      if (pairs[j] === 'ok') {
        const ts = segmentPolygonCrossings(xy(j), xy(j + 1), polygon);
        exitedExactMs = timeAt(track, j, ts.length > 0 ? ts[0] : 0);
        exitInterpolated = true;
      }
    }
    out.push({
      enteredExactMs,
      enteredAtMs: roundMs(enteredExactMs),
      entryInterpolated,
      entrySeen,
      exitedExactMs,
      exitedAtMs: exitedExactMs === null ? null : roundMs(exitedExactMs),
      exitInterpolated,
      firstInside: i,
      lastInside: j,
      entryPair: i > 0 ? i - 1 : -1,
      exitPair: j + 1 < fixes.length ? j : -1,
    });
    i = j + 1;
  }
  return out;
}

function linePassages(track: Track, entryLine: readonly LonLat[], exitLine: readonly LonLat[]): ZonePassage[] {
  const forward = (c: TrackCrossing) => c.direction === 1;
  type Ev = { kind: 0 | 1; c: TrackCrossing }; // 0 = entry, 1 = exit
  const events: Ev[] = [
    ...findLineCrossings(track, entryLine).filter(forward).map((c): Ev => ({ kind: 0, c })),
    ...findLineCrossings(track, exitLine).filter(forward).map((c): Ev => ({ kind: 1, c })),
  ];
  events.sort((a, b) => a.c.exactMs - b.c.exactMs || a.kind - b.kind);
  const out: ZonePassage[] = [];
  let open: ZonePassage | null = null;
  const lastFix = track.fixes.length - 1;
  for (const { kind, c } of events) {
    if (kind === 0 && open === null) {
      const exact = c.interpolated ? c.exactMs : c.afterTs;
      open = {
        enteredExactMs: exact,
        enteredAtMs: roundMs(exact),
        entryInterpolated: c.interpolated,
        entrySeen: true,
        exitedExactMs: null,
        exitedAtMs: null,
        exitInterpolated: false,
        firstInside: c.pair + 1,
        lastInside: lastFix,
        entryPair: c.pair,
        exitPair: -1,
      };
    } else if (kind === 1 && open !== null) {
      const exact = Math.max(c.interpolated ? c.exactMs : c.beforeTs, open.enteredExactMs);
      open.exitedExactMs = exact;
      open.exitedAtMs = roundMs(exact);
      open.exitInterpolated = c.interpolated;
      open.lastInside = c.pair;
      open.exitPair = c.pair;
      out.push(open);
      open = null;
    }
  }
  if (open !== null) out.push(open);
  return out;
}
