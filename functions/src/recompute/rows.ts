/**
 * The timing core's `EntryStageResult` → the rows of `stage_times`, `waypoint_passes` and
 * `speed_infringements` (docs/recompute.md, "Rows"). Pure. Each row carries its natural key:
 *
 *   stage_times          `${stage}:${entry}`
 *   waypoint_passes      `${stage}:${entry}:${waypoint}`
 *   speed_infringements  `${stage}:${entry}:${zone}:${seq}` (seq = the passage's index in the zone)
 *
 * Only the fields the recompute owns are here: `penalty_ms`, `total_ms`, `position`,
 * `category_position` and `excluded` of stage_times belong to penalty evaluation and operators.
 *
 * Waypoint rows: while the entry is `running`, only validated waypoints get a row (an unvalidated
 * closest approach moves with every fix and would be rewritten, and pushed, on each live
 * recompute); once the entry is `finished` or `dnf`, every waypoint gets one, missed ones with
 * `validated: false` and the closest approach seen. A `dns` entry gets its stage_times row only.
 *
 * Time-control arrivals are `stage_times.time_controls` (JSON, one element per control, in
 * course order), null when the course has none. The same rule as waypoints: a control reached
 * is always listed; one not reached is listed (`arrived_at: null`) only once the entry is
 * `finished` or `dnf`, so a running entry is never "missing" a control it has not got to yet.
 */
import type { EntryStageResult, Fix, TimeControlRow } from '../core/timing/index.ts';

export type Instant = string | null;

export interface StageTimeFields {
  key: string;
  stage: number;
  entry: number;
  status: string;
  start_at: Instant;
  finish_at: Instant;
  raw_ms: number | null;
  neutralised_ms: number | null;
  net_ms: number | null;
  splits: unknown;
  time_controls: TimeControlArrivalJson[] | null;
}

/** One element of `stage_times.time_controls`; `late_ms`/`early_ms` ≥ 0, null when due or arrival is unknown. */
export interface TimeControlArrivalJson {
  /** the geofence id */
  control: number;
  code: string | null;
  due_at: Instant;
  arrived_at: Instant;
  /** false when the arrival is a fix time, not an interpolated crossing */
  interpolated: boolean;
  late_ms: number | null;
  early_ms: number | null;
}

export interface WaypointPassFields {
  key: string;
  stage: number;
  entry: number;
  waypoint: number;
  validated: boolean;
  passed_at: Instant;
  distance_m: number | null;
  method: string | null;
}

export interface SpeedInfringementFields {
  key: string;
  stage: number;
  entry: number;
  zone: number;
  entered_at: Instant;
  exited_at: Instant;
  limit_kmh: number;
  max_speed_kmh: number | null;
  avg_speed_kmh: number | null;
  nominal_avg_speed_kmh: number | null;
  over_ms: number;
  over_distance_m: number;
  evidence: unknown;
}

export interface EntryRows {
  stageTime: StageTimeFields;
  waypointPasses: WaypointPassFields[];
  speedInfringements: SpeedInfringementFields[];
}

export const iso = (ms: number | null | undefined): Instant => (ms == null ? null : new Date(ms).toISOString());

export const stageTimeKey = (stage: number, entry: number) => `${stage}:${entry}`;
export const waypointPassKey = (stage: number, entry: number, waypoint: number | string) => `${stage}:${entry}:${waypoint}`;
export const infringementKey = (stage: number, entry: number, zone: number | string, seq: number) => `${stage}:${entry}:${zone}:${seq}`;

/** Fixes by timestamp, for the evidence of an infringement. */
export type FixLookup = (ts: number) => Fix | undefined;

/**
 * The fix of a timestamp (the last one when several share it). Fixes come from the reader sorted
 * by time, so this is a binary search (an evidence list needs ~20 lookups; indexing 21 600 fixes
 * in a Map per entry cost more than the lookups); unsorted input falls back to a Map.
 */
export function fixLookup(fixes: readonly Fix[]): FixLookup {
  let sorted: boolean | undefined;
  let index: Map<number, Fix> | undefined;
  return (ts) => {
    if (sorted === undefined) {
      sorted = true;
      for (let i = 1; i < fixes.length && sorted; i++) sorted = fixes[i - 1].ts <= fixes[i].ts;
    }
    if (!sorted) {
      index ??= new Map(fixes.map((f) => [f.ts, f]));
      return index.get(ts);
    }
    // first index whose ts is greater than the one asked for; the match, if any, is just before
    let lo = 0;
    let hi = fixes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (fixes[mid].ts <= ts) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 && fixes[lo - 1].ts === ts ? fixes[lo - 1] : undefined;
  };
}

/** The stored form of the core's time-control rows (see the rule in the header). */
export function timeControlArrivals(status: EntryStageResult['status'], controls: readonly TimeControlRow[]): TimeControlArrivalJson[] | null {
  if (controls.length === 0) return null;
  const all = status === 'finished' || status === 'dnf';
  return controls
    .filter((c) => all || c.arrivedAtMs != null)
    .map((c) => ({
      control: Number(c.controlId),
      code: c.code,
      due_at: iso(c.dueMs),
      arrived_at: iso(c.arrivedAtMs),
      interpolated: c.interpolated,
      late_ms: c.deltaMs == null ? null : Math.max(0, c.deltaMs),
      early_ms: c.deltaMs == null ? null : Math.max(0, -c.deltaMs),
    }));
}

export function entryRows(stage: number, entry: number, result: EntryStageResult, fixAt: FixLookup): EntryRows {
  const stageTime: StageTimeFields = {
    key: stageTimeKey(stage, entry),
    stage,
    entry,
    status: result.status,
    start_at: iso(result.startMs),
    finish_at: iso(result.finishMs),
    raw_ms: result.rawMs,
    neutralised_ms: result.startMs == null ? null : result.neutralisedMs,
    net_ms: result.netMs,
    splits: result.splits.map((s) => ({ geofence: Number(s.splitId), crossed_at: iso(s.crossedAtMs), elapsed_ms: s.elapsedMs, net_elapsed_ms: s.netElapsedMs })),
    time_controls: timeControlArrivals(result.status, result.timeControls),
  };

  const allWaypoints = result.status === 'finished' || result.status === 'dnf';
  const waypointPasses: WaypointPassFields[] =
    result.status === 'dns'
      ? []
      : result.waypoints
          .filter((w) => allWaypoints || w.validated)
          .map((w) => ({
            key: waypointPassKey(stage, entry, w.waypointId),
            stage,
            entry,
            waypoint: Number(w.waypointId),
            validated: w.validated,
            passed_at: iso(w.passAtMs),
            distance_m: w.distanceM,
            method: w.method ?? null,
          }));

  const speedInfringements: SpeedInfringementFields[] = result.speedInfringements.map((p) => ({
    key: infringementKey(stage, entry, p.zoneId, p.seq),
    stage,
    entry,
    zone: Number(p.zoneId),
    entered_at: iso(p.enteredAtMs),
    exited_at: iso(p.exitedAtMs),
    limit_kmh: p.limitKmh,
    max_speed_kmh: p.maxSpeedKmh,
    avg_speed_kmh: p.avgSpeedKmh,
    nominal_avg_speed_kmh: p.nominalAvgSpeedKmh,
    over_ms: p.overMs,
    over_distance_m: p.overDistanceM,
    evidence: {
      seq: p.seq,
      tolerance_kmh: p.toleranceKmh,
      threshold_kmh: p.thresholdKmh,
      spot_over: p.spotOver,
      nominal_over: p.nominalOver,
      max_speed_at: iso(p.maxSpeedAtMs),
      nominal_distance_m: p.nominalDistanceM,
      entry_interpolated: p.entryInterpolated,
      exit_interpolated: p.exitInterpolated,
      inside_fixes: p.insideFixCount,
      fixes: p.evidenceTs.map((ts) => {
        const f = fixAt(ts);
        return f ? { ts: iso(ts), lat: f.lat, lon: f.lon, speed_kmh: f.speedKmh } : { ts: iso(ts) };
      }),
    },
  }));

  return { stageTime, waypointPasses, speedInfringements };
}
