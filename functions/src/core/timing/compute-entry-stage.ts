/**
 * The timing of one entry on one stage: course + fixes + options in, plain rows out.
 *
 * Pure and deterministic: no clock (pass `nowMs`), no I/O, no randomness; the fixes are cleaned
 * into a canonical track first (track.ts), so their order and duplicates cannot change a result.
 * Order of work: track → start/finish/split/TC line crossings → start, finish, splits →
 * neutralisations (need the stage window) → waypoints (within the stage window) → speed zones
 * (whole track) → time controls → status and totals.
 */
import { countedCrossings, findLineCrossings, type TrackCrossing } from './line-crossings.ts';
import { evaluateNeutralisation, type StageWindow } from './neutralisation.ts';
import { resolveOptions, type ResolvedOptions } from './options.ts';
import { evaluateSpeedZone } from './speed-zones.ts';
import { evaluateTimeControl } from './time-controls.ts';
import { prepareTrack, type Track } from './track.ts';
import type {
  CourseLine,
  EntryStageResult,
  Fix,
  LineCrossingRow,
  LineRole,
  NeutralisationRow,
  SpeedZonePassage,
  SplitTime,
  StageCourse,
  StageStatus,
  TimingIssue,
  TimingOptions,
} from './types.ts';
import { evaluateWaypoint, WHOLE_TRACK } from './waypoints.ts';

function toRows(role: LineRole, lineId: string, crossings: readonly TrackCrossing[]): LineCrossingRow[] {
  return crossings
    .filter((c) => c.interpolated)
    .map((c) => ({
      role,
      lineId,
      atMs: c.atMs,
      direction: c.direction === 1 ? ('forward' as const) : ('backward' as const),
      beforeTs: c.beforeTs,
      afterTs: c.afterTs,
      lon: c.lon,
      lat: c.lat,
    }));
}

function gapIssues(lineId: string, crossings: readonly TrackCrossing[], anyDirection: boolean | undefined): TimingIssue[] {
  return crossings
    .filter((c) => !c.interpolated && (anyDirection === true || c.direction === 1))
    .map((c) => ({ code: 'LINE_CROSSED_IN_GAP' as const, featureId: lineId, fromTs: c.beforeTs, toTs: c.afterTs }));
}

/** Status from what was crossed and what the caller says about the clock (docs/timing.md "Status"). */
export function stageStatus(startMs: number | null, finishMs: number | null, opts: Pick<ResolvedOptions, 'stageClosed' | 'nowMs' | 'closesAtMs' | 'maxTimeMs'>): StageStatus {
  if (startMs === null) return 'dns';
  if (finishMs !== null) return 'finished';
  const { nowMs } = opts;
  const closed =
    opts.stageClosed ||
    (nowMs !== null && opts.closesAtMs !== null && nowMs >= opts.closesAtMs) ||
    (nowMs !== null && opts.maxTimeMs !== null && nowMs - startMs > opts.maxTimeMs);
  return closed ? 'dnf' : 'running';
}

export interface StageCrossings {
  start: TrackCrossing | null;
  finish: TrackCrossing | null;
  splits: { line: CourseLine; crossing: TrackCrossing | null }[];
  rows: LineCrossingRow[];
  issues: TimingIssue[];
}

/**
 * Start = first counted crossing of the start line; finish = first counted crossing of the
 * finish line after it (the same line may serve both, for a loop); each split = its first
 * counted crossing after the start and the previous split found, before the finish.
 */
export function findStageCrossings(track: Track, course: StageCourse): StageCrossings {
  const rows: LineCrossingRow[] = [];
  const issues: TimingIssue[] = [];
  const startAll = findLineCrossings(track, course.start.coordinates);
  const finishAll = findLineCrossings(track, course.finish.coordinates);
  rows.push(...toRows('start', course.start.id, startAll), ...toRows('finish', course.finish.id, finishAll));
  issues.push(...gapIssues(course.start.id, startAll, course.start.anyDirection), ...gapIssues(course.finish.id, finishAll, course.finish.anyDirection));
  const start = countedCrossings(startAll, course.start.anyDirection)[0] ?? null;
  const finish = start === null ? null : (countedCrossings(finishAll, course.finish.anyDirection).find((c) => c.exactMs > start.exactMs) ?? null);
  const splits: StageCrossings['splits'] = [];
  let afterMs = start?.exactMs ?? Infinity;
  for (const line of course.splits ?? []) {
    const all = findLineCrossings(track, line.coordinates);
    rows.push(...toRows('split', line.id, all));
    issues.push(...gapIssues(line.id, all, line.anyDirection));
    const crossing =
      countedCrossings(all, line.anyDirection).find((c) => c.exactMs > afterMs && (finish === null || c.exactMs < finish.exactMs)) ?? null;
    if (crossing) afterMs = crossing.exactMs;
    splits.push({ line, crossing });
  }
  return { start, finish, splits, rows, issues };
}

function byTimeThenKey(a: LineCrossingRow, b: LineCrossingRow): number {
  if (a.atMs !== b.atMs) return a.atMs - b.atMs;
  if (a.role !== b.role) return a.role < b.role ? -1 : 1;
  if (a.lineId !== b.lineId) return a.lineId < b.lineId ? -1 : 1;
  return a.direction < b.direction ? -1 : a.direction > b.direction ? 1 : 0;
}

export function computeEntryStage(course: StageCourse, fixes: readonly Fix[], options: TimingOptions = {}): EntryStageResult {
  const opts = resolveOptions(options);
  const track = prepareTrack(fixes, opts);
  const stage = findStageCrossings(track, course);
  const issues: TimingIssue[] = [...stage.issues];
  const crossings: LineCrossingRow[] = [...stage.rows];
  const startMs = stage.start?.atMs ?? null;
  const finishMs = stage.finish?.atMs ?? null;
  const window: StageWindow | null = startMs === null ? null : { startMs, finishMs };

  const neutralisations: NeutralisationRow[] = [];
  for (const zone of course.neutralisations ?? []) {
    const { row, issue } = evaluateNeutralisation(track, zone, window);
    neutralisations.push(row);
    if (issue) issues.push(issue);
  }
  const neutralisedMs = neutralisations.reduce((s, n) => s + n.deductedMs, 0);

  const splits: SplitTime[] = stage.splits.map(({ line, crossing }) => {
    if (crossing === null || startMs === null) return { splitId: line.id, crossedAtMs: null, elapsedMs: null, netElapsedMs: null };
    const elapsedMs = crossing.atMs - startMs;
    const before = neutralisations.reduce((s, n) => s + (n.complete && n.exitedAtMs !== null && n.exitedAtMs <= crossing.atMs ? n.deductedMs : 0), 0);
    return { splitId: line.id, crossedAtMs: crossing.atMs, elapsedMs, netElapsedMs: elapsedMs - before };
  });

  const wpWindow = startMs === null ? WHOLE_TRACK : { fromMs: startMs, toMs: finishMs ?? Infinity };
  const waypoints = (course.waypoints ?? []).map((wp, i) => evaluateWaypoint(track, wp, wp.sequence ?? i, wpWindow, opts));

  const speedZones: SpeedZonePassage[] = [];
  for (const zone of course.speedZones ?? []) {
    const ev = evaluateSpeedZone(track, zone, opts);
    speedZones.push(...ev.passages);
    issues.push(...ev.issues);
  }

  const dueBaseMs = opts.scheduledStartMs ?? startMs;
  const timeControls = (course.timeControls ?? []).map((tc) => {
    if (tc.geometry.type !== 'line') return evaluateTimeControl(track, tc, [], dueBaseMs);
    const all = findLineCrossings(track, tc.geometry.coordinates);
    crossings.push(...toRows('time_control', tc.id, all));
    issues.push(...gapIssues(tc.id, all, tc.geometry.anyDirection));
    return evaluateTimeControl(track, tc, all, dueBaseMs);
  });

  const status = stageStatus(startMs, finishMs, opts);
  const rawMs = startMs !== null && finishMs !== null ? finishMs - startMs : null;
  const netMs = rawMs === null ? null : rawMs - neutralisedMs;
  return {
    status,
    startMs,
    finishMs,
    rawMs,
    neutralisedMs,
    netMs,
    overMaxTime: netMs !== null && opts.maxTimeMs !== null && netMs > opts.maxTimeMs,
    splits,
    crossings: crossings.sort(byTimeThenKey),
    waypoints,
    speedZones,
    speedInfringements: speedZones.filter((p) => p.infringed),
    neutralisations,
    timeControls,
    issues,
    track: track.stats,
  };
}
