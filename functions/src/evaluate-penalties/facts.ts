/**
 * Directus rows → the penalties core's input (docs/penalties.md, "Function"). Pure.
 *
 * Fact ids are the facts' natural keys (`speed_infringements.key`, `waypoint_passes.key`,
 * `stage_times.key`; a time-control arrival is `${stage_times.key}:${geofence}`), not their row ids: a recompute that deletes and re-creates an
 * infringement (a faulty flag set, then removed) gives the same penalty key, so an official's
 * override finds its penalty again. A manual penalty is its own fact: its id is the row id.
 *
 * Overrides live on the penalties rows (`override`, `override_amount_ms`, `override_reason`) and
 * are handed to every evaluation, so they survive every recompute.
 */
import type { EntryFacts, ManualPenalty, PenaltyOverride, PenaltyRule, SpeedInfringement, StageRef, StageStatus, StageTime, TimeControlArrival, WaypointPass, WaypointType } from '../core/penalties/index.ts';

export interface RuleRow {
  id: number;
  event: number | null;
  stage: number | null;
  category: number | null;
  name?: string | null;
  evaluator: string;
  params: unknown;
  active: boolean | null;
}

export interface StageRow {
  id: number;
  event: number;
  code: string;
  kind: string | null;
  sequence: number;
  max_time_s: number | null;
  status: string | null;
}

export interface EntryRow {
  id: number;
  event: number;
  number: number;
  category: number | null;
  status: string | null;
}

export interface InfringementRow {
  id: number;
  key: string;
  stage: number;
  entry: number;
  zone: number | null;
  entered_at: string | null;
  exited_at: string | null;
  limit_kmh: number;
  max_speed_kmh: number | null;
  avg_speed_kmh: number | null;
  nominal_avg_speed_kmh: number | null;
  over_ms: number | null;
  over_distance_m: number | null;
  evidence: unknown;
}

export interface ZoneRow {
  id: number;
  code: string | null;
}

export interface WaypointPassRow {
  id: number;
  key: string;
  stage: number;
  entry: number;
  waypoint: number;
  validated: boolean | null;
}

export interface WaypointRow {
  id: number;
  code: string | null;
  type: string | null;
  sequence: number | null;
}

export interface StageTimeRow {
  id: number;
  key: string;
  stage: number;
  entry: number;
  status: string | null;
  raw_ms: number | null;
  net_ms: number | null;
  penalty_ms: number | null;
  total_ms: number | null;
  excluded: boolean | null;
  position: number | null;
  category_position: number | null;
  /** the recompute's arrivals (recompute/rows.ts `TimeControlArrivalJson`); null = no time control */
  time_controls?: unknown;
}

export interface PenaltyRow {
  id: number;
  key: string;
  event: number | null;
  stage: number | null;
  entry: number;
  rule: number | null;
  source_kind: string | null;
  source_id: string | null;
  amount_ms: number | null;
  exclusion: boolean | null;
  explanation: string | null;
  override: string | null;
  override_amount_ms: number | null;
  override_reason: string | null;
  effective_ms: number | null;
}

/** Who an override or a manual penalty is shown as coming from (Directus keeps the user in its revisions). */
export const OFFICIALS = 'officials';

const WAYPOINT_TYPES: readonly WaypointType[] = ['WPV', 'WPM', 'WPS', 'WPE', 'WPC', 'WPN', 'WPP'];

/** Rows an official created: `source_kind` manual, or none at all. */
export const isManual = (row: Pick<PenaltyRow, 'source_kind'>): boolean => row.source_kind === 'manual' || row.source_kind == null || row.source_kind === '';

/** The core's key of a manual row (`manual:<row id>:manual`). */
export const manualKey = (row: Pick<PenaltyRow, 'id'>): string => `manual:${row.id}:manual`;

const ms = (iso: string | null): number => (iso ? Date.parse(iso) : NaN);

export function stageRefs(stages: readonly StageRow[]): StageRef[] {
  return stages.map((s) => ({ id: String(s.id), code: s.code, sequence: s.sequence }));
}

export function penaltyRules(rows: readonly RuleRow[]): PenaltyRule[] {
  return rows.map((r) => ({
    id: String(r.id),
    evaluator: r.evaluator,
    params: r.params ?? {},
    stageId: r.stage == null ? null : String(r.stage),
    categoryId: r.category == null ? null : String(r.category),
    enabled: r.active !== false,
  }));
}

/** `stage_times.status` → the core's; `excluded` is the operators' disqualification. */
export function stageStatus(status: string | null): StageStatus {
  switch (status) {
    case 'finished':
    case 'dnf':
    case 'dns':
    case 'running':
      return status;
    case 'excluded':
      return 'dsq';
    default:
      return 'dns';
  }
}

/** Spot speeds of the evidence fixes, for the sample-integrated time-gained method. */
function samplesOf(evidence: unknown): { atMs: number; speedKmh: number }[] | undefined {
  const fixes = (evidence as { fixes?: unknown } | null)?.fixes;
  if (!Array.isArray(fixes)) return undefined;
  const out: { atMs: number; speedKmh: number }[] = [];
  for (const f of fixes as { ts?: unknown; speed_kmh?: unknown }[]) {
    const atMs = typeof f.ts === 'string' ? Date.parse(f.ts) : NaN;
    if (Number.isFinite(atMs) && typeof f.speed_kmh === 'number') out.push({ atMs, speedKmh: f.speed_kmh });
  }
  return out.length ? out : undefined;
}

export interface FactRows {
  stages: readonly StageRow[];
  entries: readonly EntryRow[];
  infringements: readonly InfringementRow[];
  zones: readonly ZoneRow[];
  waypointPasses: readonly WaypointPassRow[];
  waypoints: readonly WaypointRow[];
  stageTimes: readonly StageTimeRow[];
  /** the stored penalties of these entries (manual ones are facts) */
  penalties: readonly PenaltyRow[];
}

export interface FactsResult {
  facts: EntryFacts[];
  /** rows that cannot become facts, with why (shown in the summary, never fatal) */
  skipped: string[];
}

/**
 * The time-control facts of one stage_times row: `time_controls` elements with a due time. An
 * element without one (no `due_offset_s`/`params.due_at`, no start to count from) or that does
 * not parse is reported, not evaluated.
 */
export function timeControlFacts(r: Pick<StageTimeRow, 'key' | 'stage' | 'entry' | 'time_controls'>, skipped: string[]): TimeControlArrival[] {
  if (!Array.isArray(r.time_controls)) return [];
  const out: TimeControlArrival[] = [];
  for (const el of r.time_controls as { control?: unknown; code?: unknown; due_at?: unknown; arrived_at?: unknown }[]) {
    const control = el?.control;
    const dueMs = typeof el?.due_at === 'string' ? Date.parse(el.due_at) : NaN;
    const arrivedMs = typeof el?.arrived_at === 'string' ? Date.parse(el.arrived_at) : el?.arrived_at == null ? null : NaN;
    if ((typeof control !== 'number' && typeof control !== 'string') || Number.isNaN(arrivedMs)) {
      skipped.push(`stage_times ${r.key}: a time_controls element does not parse`);
      continue;
    }
    if (Number.isNaN(dueMs)) {
      skipped.push(`stage_times ${r.key}: time control ${typeof el.code === 'string' ? el.code : control} has no due time`);
      continue;
    }
    out.push({
      id: `${r.key}:${control}`,
      stageId: String(r.stage),
      entryId: String(r.entry),
      controlId: String(control),
      ...(typeof el.code === 'string' && el.code ? { controlCode: el.code } : {}),
      dueMs,
      arrivedMs,
    });
  }
  return out;
}

/** Every entry's facts for the whole event (escalation counts across the event). */
export function entryFacts(rows: FactRows): FactsResult {
  const stageById = new Map(rows.stages.map((s) => [s.id, s]));
  const zoneCode = new Map(rows.zones.map((z) => [z.id, z.code]));
  const waypointById = new Map(rows.waypoints.map((w) => [w.id, w]));
  const skipped: string[] = [];
  const byEntry = new Map<number, { infringements: SpeedInfringement[]; waypointPasses: WaypointPass[]; timeControls: TimeControlArrival[]; stageTimes: StageTime[]; manualPenalties: ManualPenalty[] }>();
  for (const e of rows.entries) byEntry.set(e.id, { infringements: [], waypointPasses: [], timeControls: [], stageTimes: [], manualPenalties: [] });
  const known = (what: string, entry: number, stage: number | null) => {
    if (!byEntry.has(entry)) return false;
    if (stage !== null && !stageById.has(stage)) {
      skipped.push(`${what}: stage ${stage} is not a stage of the event`);
      return false;
    }
    return true;
  };

  for (const r of rows.infringements) {
    if (!known(`speed_infringements ${r.key}`, r.entry, r.stage)) continue;
    const samples = samplesOf(r.evidence);
    byEntry.get(r.entry)!.infringements.push({
      id: r.key,
      stageId: String(r.stage),
      entryId: String(r.entry),
      zoneId: String(r.zone ?? r.key),
      ...(r.zone != null && zoneCode.get(r.zone) ? { zoneCode: zoneCode.get(r.zone)! } : {}),
      limitKmh: r.limit_kmh,
      maxSpeedKmh: r.max_speed_kmh ?? 0,
      avgSpeedKmh: r.avg_speed_kmh ?? 0,
      nominalAvgSpeedKmh: r.nominal_avg_speed_kmh,
      overMs: r.over_ms ?? 0,
      overDistanceM: r.over_distance_m ?? 0,
      enteredAtMs: ms(r.entered_at),
      exitedAtMs: ms(r.exited_at),
      ...(samples ? { samples } : {}),
    });
  }

  for (const r of rows.waypointPasses) {
    if (!known(`waypoint_passes ${r.key}`, r.entry, r.stage)) continue;
    const w = waypointById.get(r.waypoint);
    const type = w?.type as WaypointType | undefined;
    if (!w || !type || !WAYPOINT_TYPES.includes(type)) {
      skipped.push(`waypoint_passes ${r.key}: waypoint ${r.waypoint} ${w ? `has no known type (${String(w.type)})` : 'not found'}`);
      continue;
    }
    byEntry.get(r.entry)!.waypointPasses.push({
      id: r.key,
      stageId: String(r.stage),
      entryId: String(r.entry),
      waypointId: String(r.waypoint),
      ...(w.code ? { waypointCode: w.code } : {}),
      type,
      sequence: w.sequence ?? 0,
      validated: r.validated === true,
    });
  }

  for (const r of rows.stageTimes) {
    if (!byEntry.has(r.entry) || !stageById.has(r.stage)) continue;
    const stage = stageById.get(r.stage)!;
    byEntry.get(r.entry)!.stageTimes.push({
      id: r.key,
      stageId: String(r.stage),
      entryId: String(r.entry),
      status: stageStatus(r.status),
      // the core's raw time is the measured time with neutralisations deducted
      rawMs: r.net_ms ?? r.raw_ms,
      maxTimeMs: stage.max_time_s == null ? null : stage.max_time_s * 1000,
    });
    byEntry.get(r.entry)!.timeControls.push(...timeControlFacts(r, skipped));
  }

  for (const r of rows.penalties) {
    if (!isManual(r)) continue;
    if (!known(`penalties ${r.id} (manual)`, r.entry, r.stage)) continue;
    byEntry.get(r.entry)!.manualPenalties.push({
      id: String(r.id),
      stageId: r.stage == null ? null : String(r.stage),
      entryId: String(r.entry),
      amountMs: r.amount_ms ?? 0,
      exclusion: r.exclusion === true,
      reason: r.explanation?.trim() || 'no reason given',
      issuedBy: OFFICIALS,
    });
  }

  const facts = rows.entries.map((e): EntryFacts => ({ entryId: String(e.id), categoryId: e.category == null ? null : String(e.category), ...byEntry.get(e.id)! }));
  return { facts, skipped };
}

export interface OverridesResult {
  overrides: PenaltyOverride[];
  /** overrides that cannot apply (an adjust without an amount), with why */
  ignored: { key: string; reason: string }[];
}

/** The officials' decisions stored on the penalties rows. */
export function storedOverrides(rows: readonly PenaltyRow[]): OverridesResult {
  const overrides: PenaltyOverride[] = [];
  const ignored: { key: string; reason: string }[] = [];
  for (const r of rows) {
    if (r.override !== 'waive' && r.override !== 'adjust') continue;
    const penaltyKey = isManual(r) ? manualKey(r) : r.key;
    const reason = r.override_reason?.trim() || 'no reason given';
    if (r.override === 'adjust') {
      if (typeof r.override_amount_ms !== 'number' || !Number.isFinite(r.override_amount_ms)) {
        ignored.push({ key: r.key, reason: 'adjust without override_amount_ms' });
        continue;
      }
      overrides.push({ penaltyKey, action: 'adjust', amountMs: r.override_amount_ms, reason, by: OFFICIALS });
    } else {
      overrides.push({ penaltyKey, action: 'waive', reason, by: OFFICIALS });
    }
  }
  return { overrides, ignored };
}
