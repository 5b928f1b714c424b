/**
 * A track cut into chunks of consecutive fixes with their extent (longitudes, latitudes, time),
 * so a per-waypoint search can skip the parts of the track far from it (waypoints.ts). Chunk c
 * holds the fixes start(c) … end(c) and the chords between them: neighbouring chunks share their
 * boundary fix, so every chord lies in exactly one chunk. Built once per track and kept beside it
 * (a WeakMap: the track stays immutable and the index goes with it). Pure.
 */
import type { Track } from './track.ts';

/** Fixes per chunk: ~640 m of track at 72 km/h and 1 Hz, a few chunks per waypoint circle. */
export const CHUNK = 32;

export interface TrackChunks {
  readonly count: number;
  /** degrees, the extreme raw values of the chunk's fixes */
  readonly minLon: Float64Array;
  readonly maxLon: Float64Array;
  readonly minLat: Float64Array;
  readonly maxLat: Float64Array;
  /** ms, the chunk's first and last fix */
  readonly firstTs: Float64Array;
  readonly lastTs: Float64Array;
  /** index of the chunk's first fix */
  start(c: number): number;
  /** index of the chunk's last fix (the next chunk's first) */
  end(c: number): number;
}

const cache = new WeakMap<Track, TrackChunks>();

export function trackChunks(track: Track): TrackChunks {
  let chunks = cache.get(track);
  if (!chunks) {
    chunks = buildChunks(track);
    cache.set(track, chunks);
  }
  return chunks;
}

function buildChunks(track: Track): TrackChunks {
  const { fixes } = track;
  const n = fixes.length;
  const count = n <= 1 ? n : Math.ceil((n - 1) / CHUNK);
  const start = (c: number) => c * CHUNK;
  const end = (c: number) => Math.min((c + 1) * CHUNK, n - 1);
  const minLon = new Float64Array(count);
  const maxLon = new Float64Array(count);
  const minLat = new Float64Array(count);
  const maxLat = new Float64Array(count);
  const firstTs = new Float64Array(count);
  const lastTs = new Float64Array(count);
  for (let c = 0; c < count; c++) {
    let lo = Infinity;
    let hi = -Infinity;
    let la = Infinity;
    let lb = -Infinity;
    const e = end(c);
    for (let k = start(c); k <= e; k++) {
      const f = fixes[k];
      if (f.lon < lo) lo = f.lon;
      if (f.lon > hi) hi = f.lon;
      if (f.lat < la) la = f.lat;
      if (f.lat > lb) lb = f.lat;
    }
    minLon[c] = lo;
    maxLon[c] = hi;
    minLat[c] = la;
    maxLat[c] = lb;
    firstTs[c] = fixes[start(c)].ts;
    lastTs[c] = fixes[e].ts;
  }
  return { count, minLon, maxLon, minLat, maxLat, firstTs, lastTs, start, end };
}
