/**
 * The chunk pre-filter of evaluateWaypoint (waypoints.ts, track-chunks.ts) must give exactly the
 * rows of a scan of every fix and every chord. `scanWaypoint` below is that scan (the function
 * as it was before the pre-filter); seeded random tracks, waypoints and windows compare both with
 * toStrictEqual (bit-identical numbers). The tracks include gaps, spikes, repeated positions,
 * fixes at the same distance (ties) and a track across the ±180° meridian.
 */
import { describe, expect, test } from 'vitest';
import { localProjection } from '../geo/projection.ts';
import { closestPointOnSegment } from '../geo/segments.ts';
import { resolveOptions, round2, roundMs, type ResolvedOptions } from './options.ts';
import { LAT0, LON0, T0, at, fix, rng } from './test-fixtures.ts';
import { prepareTrack, timeAt, type Track } from './track.ts';
import { CHUNK } from './track-chunks.ts';
import type { Fix, Waypoint, WaypointPassRow } from './types.ts';
import { evaluateWaypoint, passRow, WHOLE_TRACK, type TimeWindow } from './waypoints.ts';

function scanWaypoint(track: Track, wp: Waypoint, sequence: number, window: TimeWindow, opts: Pick<ResolvedOptions, 'waypointMethod'>): WaypointPassRow {
  const { fixes, pairs } = track;
  const n = fixes.length;
  const proj = localProjection(wp.position);
  const kx = proj.toXy(wp.position[0] + 1, wp.position[1]).x;
  const ky = proj.toXy(wp.position[0], wp.position[1] + 1).y;
  const [lon0, lat0] = wp.position;
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  const ds = new Float64Array(n);
  let nearestFix = -1;
  let nearestFixD = Infinity;
  for (let k = 0; k < n; k++) {
    let dLon = fixes[k].lon - lon0;
    if (dLon >= 180) dLon -= 360;
    else if (dLon < -180) dLon += 360;
    xs[k] = dLon * kx;
    ys[k] = (fixes[k].lat - lat0) * ky;
    ds[k] = Math.sqrt(xs[k] * xs[k] + ys[k] * ys[k]);
    if (fixes[k].ts < window.fromMs || fixes[k].ts > window.toMs) continue;
    if (ds[k] < nearestFixD) {
      nearestFixD = ds[k];
      nearestFix = k;
    }
  }
  let bestD = nearestFixD;
  let bestMs = nearestFix >= 0 ? fixes[nearestFix].ts : NaN;
  if (opts.waypointMethod === 'segment') {
    for (let k = 0; k + 1 < n; k++) {
      if (pairs[k] !== 'ok') continue;
      const ta = fixes[k].ts;
      const dt = fixes[k + 1].ts - ta;
      const tMin = Math.max(0, (window.fromMs - ta) / dt);
      const tMax = Math.min(1, (window.toMs - ta) / dt);
      if (!(tMin <= tMax)) continue;
      const c = closestPointOnSegment({ x: 0, y: 0 }, { x: xs[k], y: ys[k] }, { x: xs[k + 1], y: ys[k + 1] }, tMin, tMax);
      const atMs = timeAt(track, k, c.t);
      if (c.distanceM < bestD || (c.distanceM === bestD && atMs < bestMs)) {
        bestD = c.distanceM;
        bestMs = atMs;
      }
    }
  }
  return passRow(wp, sequence, bestD, bestMs, nearestFix >= 0 ? fixes[nearestFix].ts : null, nearestFixD);
}

/** A wandering track of `n` fixes: mostly 1–10 s apart, some gaps and spikes, some repeats. */
function randomTrack(rand: () => number, n: number, origin: [number, number] = [LON0, LAT0]): Fix[] {
  const out: Fix[] = [];
  let x = (rand() - 0.5) * 4000;
  let y = (rand() - 0.5) * 4000;
  let heading = rand() * 2 * Math.PI;
  let ts = T0;
  for (let i = 0; i < n; i++) {
    const r = rand();
    const dtS = r < 0.05 ? 40 + rand() * 60 : 1 + Math.floor(rand() * 10);
    heading += (rand() - 0.5) * 0.8;
    const step = r > 0.97 ? 3000 : rand() < 0.05 ? 0 : 25 * dtS * rand();
    x += Math.cos(heading) * step;
    y += Math.sin(heading) * step;
    ts += dtS * 1000;
    const [lon, lat] = at(x, y);
    out.push(fix(ts, [lon - LON0 + origin[0], lat - LAT0 + origin[1]], 60));
  }
  return out;
}

const optsFor = (method: 'segment' | 'point') => resolveOptions({ waypointMethod: method });

describe('chunk pre-filter = scan of every fix and chord', () => {
  test.each(Array.from({ length: 60 }, (_, i) => [i + 1]))('seed %i', (seed) => {
    const rand = rng(seed);
    const n = [0, 1, 2, CHUNK, CHUNK + 1, 2 * CHUNK + 1, 300, 1500][seed % 8];
    for (const method of ['segment', 'point'] as const) {
      const opts = optsFor(method);
      const track = prepareTrack(randomTrack(rand, n), opts);
      for (let w = 0; w < 12; w++) {
        // on a fix, near the track or anywhere in the area
        const onFix = n > 0 && w % 3 === 0 ? track.fixes[Math.floor(rand() * track.fixes.length)] : undefined;
        const position: [number, number] = onFix ? [onFix.lon, onFix.lat] : at((rand() - 0.5) * 20_000, (rand() - 0.5) * 20_000);
        const wp: Waypoint = { id: `wp${w}`, code: `WP${w}`, type: 'WPV', position, radiusM: [5, 90, 400][w % 3], openRadiusM: w % 2 ? 800 : undefined };
        const last = track.fixes.length ? track.fixes[track.fixes.length - 1].ts : T0;
        const from = T0 + rand() * (last - T0);
        const windows: TimeWindow[] = [WHOLE_TRACK, { fromMs: from, toMs: Infinity }, { fromMs: from, toMs: from + rand() * 600_000 }, { fromMs: Math.round(from), toMs: Math.round(from) }];
        for (const window of windows) expect(evaluateWaypoint(track, wp, w, window, opts)).toStrictEqual(scanWaypoint(track, wp, w, window, opts));
      }
    }
  });

  test('ties: the first of several fixes at the same distance is the nearest fix, as in a scan', () => {
    // a competitor parked 100 m from the waypoint: every fix of every chunk at the same distance
    const fixes: Fix[] = [];
    for (let i = 0; i < 4 * CHUNK; i++) fixes.push(fix(T0 + i * 1000, at(100, 0), 0));
    for (const method of ['segment', 'point'] as const) {
      const opts = optsFor(method);
      const track = prepareTrack(fixes, opts);
      const wp: Waypoint = { id: 'w', code: 'W', type: 'WPV', position: at(0, 0), radiusM: 90 };
      const r = evaluateWaypoint(track, wp, 0, { fromMs: T0 + 40_500, toMs: Infinity }, opts);
      expect(r).toStrictEqual(scanWaypoint(track, wp, 0, { fromMs: T0 + 40_500, toMs: Infinity }, opts));
      expect(r.nearestFixTs).toBe(T0 + 41_000);
    }
  });

  test.each([[179.9], [-179.9], [180]])('a track across the antimeridian, waypoint at %d°', (wpLon) => {
    const rand = rng(99);
    for (const method of ['segment', 'point'] as const) {
      const opts = optsFor(method);
      const track = prepareTrack(randomTrack(rand, 400, [179.99, 10]).map((f) => ({ ...f, lon: f.lon > 180 ? f.lon - 360 : f.lon })), opts);
      for (let w = 0; w < 10; w++) {
        const wp: Waypoint = { id: 'w', code: 'W', type: 'WPV', position: [wpLon === 180 ? 180 : wpLon + (rand() - 0.5) * 0.05, 10 + (rand() - 0.5) * 0.05], radiusM: 300 };
        expect(evaluateWaypoint(track, wp, w, WHOLE_TRACK, opts)).toStrictEqual(scanWaypoint(track, wp, w, WHOLE_TRACK, opts));
      }
    }
  });
});
