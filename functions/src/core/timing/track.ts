/**
 * Cleaning an entry's fixes into a track: drop no-fix and malformed records, sort by time, keep
 * one record per timestamp, and mark each pair of consecutive fixes as trusted or not.
 *
 * A pair is a `gap` when the fixes are more than `maxInterpolationGapMs` apart, and a `spike`
 * when the implied speed between them exceeds `maxImpliedSpeedKmh`. Nothing is interpolated
 * across an untrusted pair: no line crossing time, no waypoint chord, no zone boundary time.
 * Crossings over a gap are still seen (reported as issues or used as non-interpolated zone
 * boundaries); a spike pair is ignored entirely.
 */
import { haversineM } from '../geo/projection.ts';
import type { ResolvedOptions } from './options.ts';
import type { Fix, TrackStats } from './types.ts';

export interface TrackFix {
  readonly ts: number;
  readonly lat: number;
  readonly lon: number;
  readonly speedKmh: number;
}

export type PairKind = 'ok' | 'gap' | 'spike';

export interface Track {
  /** strictly increasing ts */
  readonly fixes: readonly TrackFix[];
  /** pairs[i] describes fixes[i] → fixes[i + 1] */
  readonly pairs: readonly PairKind[];
  readonly stats: TrackStats;
}

function valid(f: Fix): boolean {
  return (
    Number.isFinite(f.ts) &&
    Number.isFinite(f.lat) && f.lat >= -90 && f.lat <= 90 &&
    Number.isFinite(f.lon) && f.lon >= -180 && f.lon <= 180 &&
    Number.isFinite(f.speedKmh) && f.speedKmh >= 0
  );
}

/** Total order on records, so which of two same-ts records survives never depends on input order. */
function compareFix(a: Fix, b: Fix): number {
  return (
    a.ts - b.ts ||
    a.lat - b.lat ||
    a.lon - b.lon ||
    a.speedKmh - b.speedKmh ||
    (a.headingDeg ?? -1) - (b.headingDeg ?? -1)
  );
}

export function prepareTrack(records: readonly Fix[], opts: Pick<ResolvedOptions, 'maxInterpolationGapMs' | 'maxImpliedSpeedKmh'>): Track {
  let droppedNoFix = 0;
  let droppedInvalid = 0;
  const kept: Fix[] = [];
  for (const r of records) {
    if (r.fix !== true) droppedNoFix++;
    else if (!valid(r)) droppedInvalid++;
    else kept.push(r);
  }
  kept.sort(compareFix);
  const fixes: TrackFix[] = [];
  for (const r of kept) {
    if (fixes.length > 0 && fixes[fixes.length - 1].ts === r.ts) continue; // exact duplicate time
    fixes.push({ ts: r.ts, lat: r.lat, lon: r.lon, speedKmh: r.speedKmh });
  }
  const pairs: PairKind[] = [];
  let gaps = 0;
  let spikes = 0;
  for (let i = 0; i + 1 < fixes.length; i++) {
    const a = fixes[i];
    const b = fixes[i + 1];
    const dtMs = b.ts - a.ts;
    const impliedKmh = (haversineM([a.lon, a.lat], [b.lon, b.lat]) / (dtMs / 1000)) * 3.6;
    let kind: PairKind = 'ok';
    if (impliedKmh > opts.maxImpliedSpeedKmh) kind = 'spike';
    else if (dtMs > opts.maxInterpolationGapMs) kind = 'gap';
    if (kind === 'gap') gaps++;
    if (kind === 'spike') spikes++;
    pairs.push(kind);
  }
  return {
    fixes,
    pairs,
    stats: {
      received: records.length,
      used: fixes.length,
      droppedNoFix,
      droppedInvalid,
      droppedDuplicates: kept.length - fixes.length,
      gaps,
      spikes,
      firstTs: fixes.length > 0 ? fixes[0].ts : null,
      lastTs: fixes.length > 0 ? fixes[fixes.length - 1].ts : null,
    },
  };
}

/** Instant at parameter t of pair i, unrounded. */
export function timeAt(track: Track, i: number, t: number): number {
  const a = track.fixes[i].ts;
  return a + t * (track.fixes[i + 1].ts - a);
}

/** Spot speed at parameter t of pair i, linear between the two fixes. */
export function speedAt(track: Track, i: number, t: number): number {
  const a = track.fixes[i].speedKmh;
  return a + t * (track.fixes[i + 1].speedKmh - a);
}
