/**
 * The recompute (issue 6; docs/recompute.md): a request (scope, id, optional window) in; stage
 * times, waypoint passes and speed infringements written through Directus, only the rows that
 * changed; a `recompute_runs` row saying who, why, what scope and what changed; penalty
 * evaluation triggered for what changed.
 *
 * Run states (the recompute_runs row): running → done | failed.
 *
 * Per stage of the scope whose span overlaps the window:
 *   course rows → StageCourse (course.ts) → for each target entry with a device, at most
 *   `concurrency` at once: fixes over the stage span (fixes.ts, COPY bytes) → a compute worker
 *   (compute-pool.ts: parse, computeEntryStage, rows.ts) → in groups of `writeGroupSize`
 *   entries: diff against the stored rows by key (diff.ts) → delete, update, create, while the
 *   next group is read and computed.
 * The timing core is pure and the span does not depend on the scope, so an event, stage, entry
 * or device recompute of the same entry gives the same rows, and a second run changes nothing.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { PenaltyEvaluationRequest, RecomputeRequest } from '../../../common/src/triggers.ts';
import type { TimingOptions } from '../core/timing/index.ts';
import { inlineCompute, type ComputePool, type CourseRef } from './compute-pool.ts';
import { buildStageCourse, type CourseNote, type StageRow } from './course.ts';
import { diffRows, type Diff } from '../directus-io/diff.ts';
import type { DirectusApi } from '../directus-io/directus-api.ts';
import { writeResultDiff } from '../directus-io/write.ts';
import { readFixBytes } from './fixes.ts';
import type { EntryRows } from './rows.ts';
import { overlaps, stageSpan, type Span, type SpanOptions } from './span.ts';
import { loadCourseRows, loadScope, loadStartTimes, loadStored, RESULT_COLLECTIONS, type EntryRow, type ResultCollection, type ScopeEvent } from './store.ts';

/** `requested_by` of live timing's requests: their runs are recorded only when something changed. */
export const LIVE_REQUESTER = 'live-timing';

export type PenaltySink = (request: PenaltyEvaluationRequest) => Promise<unknown>;

export interface RecomputeDeps {
  api: DirectusApi;
  pool: pg.Pool;
  /** triggers penalty evaluation (enqueuePenaltyEvaluation); absent = none */
  penalties?: PenaltySink;
  /** "now" for the running/dnf status rule; the adapter's clock, never the core's */
  now?: () => number;
  /** entries read and computed at once (default 4) */
  concurrency?: number;
  /** entries whose rows are diffed and written together, while the next ones compute (default 100) */
  writeGroupSize?: number;
  /** where entries are computed: worker threads (compute-pool.ts); default the caller's thread */
  compute?: ComputePool;
  span?: SpanOptions;
  /** options of the timing core other than the per-stage ones */
  timing?: Pick<TimingOptions, 'maxInterpolationGapMs' | 'maxImpliedSpeedKmh' | 'waypointMethod' | 'maxEvidenceFixes'>;
  /** more changed entries than this in one stage trigger one stage-wide penalty evaluation */
  penaltyStageThreshold?: number;
  onProgress?: (event: ProgressEvent) => void;
}

export type ProgressEvent =
  | { type: 'scope'; events: number; stages: number; entries: number }
  | { type: 'stage'; stage: number; code: string; entries: number; span: Span; notes: CourseNote[]; skipped: boolean }
  | { type: 'entry'; stage: number; entry: number; number: number; device: string; fixes: number; status: string; issues: number }
  | { type: 'stage-done'; stage: number; code: string; changed: ChangeCounts };

export interface CollectionCounts {
  created: number;
  updated: number;
  deleted: number;
  unchanged: number;
}

export type ChangeCounts = Record<ResultCollection, CollectionCounts>;

export interface StageSummary {
  stage: number;
  code: string;
  entries: number;
  fixes: number;
  skipped?: string;
  notes: CourseNote[];
  issues: number;
  changed: ChangeCounts;
}

export interface RecomputeSummary {
  runId: string;
  request: RecomputeRequest;
  status: 'done' | 'failed';
  events: number[];
  stages: StageSummary[];
  entries: number;
  fixes: number;
  changed: ChangeCounts;
  /** rows created + updated + deleted, all collections */
  totalChanges: number;
  penaltyRequests: PenaltyEvaluationRequest[];
  durationMs: number;
}

const COLLECTIONS = Object.keys(RESULT_COLLECTIONS) as ResultCollection[];

export function zeroCounts(): ChangeCounts {
  return Object.fromEntries(COLLECTIONS.map((c) => [c, { created: 0, updated: 0, deleted: 0, unchanged: 0 }])) as ChangeCounts;
}

function addCollectionCounts(into: CollectionCounts, from: CollectionCounts): void {
  for (const k of ['created', 'updated', 'deleted', 'unchanged'] as const) into[k] += from[k];
}

function addCounts(into: ChangeCounts, from: ChangeCounts): void {
  for (const c of COLLECTIONS) addCollectionCounts(into[c], from[c]);
}

/** Groups of entries being written at once by a stage (their requests are bounded by the client). */
const WRITING_GROUPS = 2;

export function totalChanges(c: ChangeCounts): number {
  return COLLECTIONS.reduce((n, k) => n + c[k].created + c[k].updated + c[k].deleted, 0);
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

interface StageWork {
  scope: ScopeEvent;
  stage: StageRow;
  span: Span;
}

export async function runRecompute(deps: RecomputeDeps, request: RecomputeRequest): Promise<RecomputeSummary> {
  const started = Date.now();
  const now = deps.now ?? Date.now;
  const runId = randomUUID();
  const { api } = deps;
  // live timing asks every few seconds per device: its runs that change nothing are not recorded
  const quiet = request.requested_by === LIVE_REQUESTER;
  const runRow = { id: runId, scope: request.scope, scope_id: request.id, from: request.from ?? null, to: request.to ?? null, reason: request.reason ?? null, requested_by: request.requested_by ?? null, status: 'running', started_at: new Date(started).toISOString() };
  if (!quiet) await api.createMany('recompute_runs', [runRow]);
  const finish = async (patch: Record<string, unknown>) => {
    if (!quiet) await api.updateOne('recompute_runs', runId, patch);
    else if (patch.status === 'failed' || totalChanges(summary.changed) > 0) await api.createMany('recompute_runs', [{ ...runRow, ...patch }]);
  };

  const summary: RecomputeSummary = { runId, request, status: 'done', events: [], stages: [], entries: 0, fixes: 0, changed: zeroCounts(), totalChanges: 0, penaltyRequests: [], durationMs: 0 };
  // entries whose rows changed, by stage; filled as rows are written (also by a run that fails)
  const changedByStage = new Map<number, Set<number>>();
  let penaltiesQueued = false;
  try {
    const scopes = await loadScope(api, request);
    summary.events = scopes.map((s) => s.event.id);
    const work: StageWork[] = [];
    for (const scope of scopes) {
      for (const stage of scope.stages) {
        const span = stageSpan(stage, scope.event, scope.entries.length, deps.span);
        if (overlaps(span, request.from, request.to)) work.push({ scope, stage, span });
      }
    }
    deps.onProgress?.({ type: 'scope', events: scopes.length, stages: work.length, entries: new Set(scopes.flatMap((s) => s.targets.map((e) => e.id))).size });

    const entriesSeen = new Set<number>();
    for (const w of work) {
      const changedEntries = new Set<number>();
      changedByStage.set(w.stage.id, changedEntries);
      await recomputeStage(deps, w, now(), runId, summary.stages, changedEntries);
      for (const e of w.scope.targets) if (e.device) entriesSeen.add(e.id);
    }
    summary.entries = entriesSeen.size;
    sumStages(summary);
    summary.penaltyRequests = penaltyRequests(changedByStage, request, runId, deps.penaltyStageThreshold ?? 20);
    penaltiesQueued = true;
    for (const p of summary.penaltyRequests) await deps.penalties?.(p);
    summary.durationMs = Date.now() - started;
    await finish({
      status: 'done',
      event: summary.events.length === 1 ? summary.events[0] : null,
      finished_at: new Date().toISOString(),
      changed: runChanged(summary),
    });
    return summary;
  } catch (error) {
    summary.status = 'failed';
    sumStages(summary);
    if (!penaltiesQueued) {
      // rows written before the failure (earlier stages, earlier groups of this one) changed, and
      // a retry will find them unchanged: their entries get their penalty evaluation now
      summary.penaltyRequests = penaltyRequests(changedByStage, request, runId, deps.penaltyStageThreshold ?? 20);
      for (const p of summary.penaltyRequests) await deps.penalties?.(p)?.catch(() => undefined);
    }
    summary.durationMs = Date.now() - started;
    await finish({ status: 'failed', event: summary.events.length === 1 ? summary.events[0] : null, finished_at: new Date().toISOString(), changed: runChanged(summary), error: `${(error as { code?: string }).code ?? 'ERROR'}: ${(error as Error).message}`.slice(0, 2000) }).catch(() => undefined);
    throw error;
  }
}

/** The run's fixes and counts from its stages (those done, and the one that failed so far). */
function sumStages(summary: RecomputeSummary): void {
  summary.changed = zeroCounts();
  summary.fixes = 0;
  for (const st of summary.stages) {
    summary.fixes += st.fixes;
    addCounts(summary.changed, st.changed);
  }
  summary.totalChanges = totalChanges(summary.changed);
}

/** What the recompute_runs row keeps in `changed`. */
function runChanged(s: RecomputeSummary): Record<string, unknown> {
  return {
    ...s.changed,
    total: totalChanges(s.changed),
    events: s.events,
    entries: s.entries,
    fixes: s.fixes,
    duration_ms: s.durationMs,
    stages: s.stages.map((st) => ({ stage: st.stage, code: st.code, entries: st.entries, fixes: st.fixes, issues: st.issues, ...(st.skipped ? { skipped: st.skipped } : {}), ...(st.notes.length ? { notes: st.notes } : {}), changed: totalChanges(st.changed) })),
    penalty_requests: s.penaltyRequests.map((p) => `${p.scope}:${p.id}`),
  };
}

/** One stage-wide request when many entries of a stage changed, else one per entry. */
export function penaltyRequests(changedByStage: Map<number, Set<number>>, request: RecomputeRequest, runId: string, stageThreshold: number): PenaltyEvaluationRequest[] {
  const out: PenaltyEvaluationRequest[] = [];
  const entries = new Set<number>();
  for (const [stage, changed] of [...changedByStage].sort((a, b) => a[0] - b[0])) {
    if (changed.size > stageThreshold) out.push({ scope: 'stage', id: String(stage), reason: `recompute ${runId}`, ...(request.requested_by ? { requested_by: request.requested_by } : {}) });
    else for (const e of changed) entries.add(e);
  }
  for (const e of [...entries].sort((a, b) => a - b)) out.push({ scope: 'entry', id: String(e), reason: `recompute ${runId}`, ...(request.requested_by ? { requested_by: request.requested_by } : {}) });
  return out;
}

/**
 * One stage: its StageSummary goes into `stages` at once (so a failed run reports what it wrote);
 * the entries whose rows changed go into `changedEntries` as they are written.
 */
async function recomputeStage(deps: RecomputeDeps, w: StageWork, nowMs: number, runId: string, stages: StageSummary[], changedEntries: Set<number>): Promise<void> {
  const { api } = deps;
  const { stage, span, scope } = w;
  const targets = scope.targets.filter((e): e is EntryRow & { device: string } => !!e.device);
  const courseBuild = buildStageCourse(await loadCourseRows(api, stage.id));
  const stageSummary: StageSummary = { stage: stage.id, code: stage.code, entries: targets.length, fixes: 0, notes: courseBuild.notes, issues: 0, changed: zeroCounts() };
  stages.push(stageSummary);
  deps.onProgress?.({ type: 'stage', stage: stage.id, code: stage.code, entries: targets.length, span, notes: courseBuild.notes, skipped: !courseBuild.ok });
  if (!courseBuild.ok) {
    // without a start and a finish nothing can be timed; stored rows are left as they are
    stageSummary.skipped = courseBuild.notes.map((n) => n.message).join('; ');
    return;
  }
  const course = courseBuild.course;
  const starts = await loadStartTimes(api, stage.id);
  const baseOptions: TimingOptions = {
    ...deps.timing,
    nowMs,
    stageClosed: stage.status === 'finished' || stage.status === 'confirmed',
    ...(stage.closes_at ? { closesAtMs: Date.parse(stage.closes_at) } : {}),
    ...(stage.max_time_s != null ? { maxTimeMs: stage.max_time_s * 1000 } : {}),
  };

  // read an entry's fixes (main thread, COPY bytes) → compute it (a worker: parse, core, rows);
  // `concurrency` entries in flight, so reads overlap the computations. Rows are kept by index:
  // the same rows whatever finishes first.
  const compute = deps.compute ?? inlineCompute;
  const courseRef: CourseRef = { key: `${runId}:${stage.id}`, course };
  const computeEntry = async (entry: EntryRow & { device: string }): Promise<EntryRows> => {
    const bytes = await readFixBytes(deps.pool, entry.device, span);
    const scheduled = starts.get(entry.id);
    const outcome = await compute.run(courseRef, { stage: stage.id, entry: entry.id, bytes, options: scheduled !== undefined ? { ...baseOptions, scheduledStartMs: scheduled } : baseOptions });
    stageSummary.fixes += outcome.fixes;
    stageSummary.issues += outcome.issues;
    deps.onProgress?.({ type: 'entry', stage: stage.id, entry: entry.id, number: entry.number, device: entry.device, fixes: outcome.fixes, status: outcome.status, issues: outcome.issues });
    return outcome.rows;
  };

  // A group's rows against the stored rows of its entries; its three collections at once (no row
  // of one depends on another), their batches sharing the client's write concurrency
  // (directus-api.ts). Every collection settles before a failure is reported.
  const writeGroup = async (entryIds: number[], computed: EntryRows[]): Promise<void> => {
    const wanted: Record<ResultCollection, { key: string; entry: number }[]> = {
      stage_times: computed.map((r) => r.stageTime),
      waypoint_passes: computed.flatMap((r) => r.waypointPasses),
      speed_infringements: computed.flatMap((r) => r.speedInfringements),
    };
    const written = await Promise.allSettled(
      COLLECTIONS.map(async (collection) => {
        const stored = await loadStored(api, collection, stage.id, entryIds);
        const diff: Diff<{ key: string; entry: number }> = diffRows(wanted[collection], stored, RESULT_COLLECTIONS[collection]);
        const storedEntry = new Map(stored.map((s) => [s.id, Number(s.entry)]));
        // marked before writing: a write that fails half-way still gets its penalty evaluation
        for (const row of diff.create) changedEntries.add(row.entry);
        for (const row of diff.update) changedEntries.add(storedEntry.get(row.id)!);
        for (const id of diff.delete) changedEntries.add(storedEntry.get(id)!);
        addCollectionCounts(stageSummary.changed[collection], await writeResultDiff(api, collection, diff));
      }),
    );
    const failed = written.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  };

  // Groups of `writeGroupSize` entries: a group is written while the next ones are read and
  // computed, so Directus's writes overlap the reads and the compute workers. Groups
  // hold disjoint entries, hence disjoint keys: their writes commute. At most WRITING_GROUPS
  // are being written (bounded memory); every write under way settles before a failure is
  // reported, and no group starts after a write failed.
  const groupSize = deps.writeGroupSize ?? 100;
  const writing = new Set<Promise<void>>();
  let writeFailure: { reason: unknown } | undefined;
  try {
    for (let i = 0; i < targets.length && !writeFailure; i += groupSize) {
      const group = targets.slice(i, i + groupSize);
      const computed = await mapLimit(group, deps.concurrency ?? 4, computeEntry);
      while (writing.size >= WRITING_GROUPS) await Promise.race(writing);
      if (writeFailure) break;
      const p: Promise<void> = writeGroup(
        group.map((e) => e.id),
        computed,
      )
        .catch((reason: unknown) => {
          writeFailure ??= { reason };
        })
        .finally(() => writing.delete(p));
      writing.add(p);
    }
  } finally {
    while (writing.size) await Promise.race(writing);
  }
  if (writeFailure) throw writeFailure.reason;
  deps.onProgress?.({ type: 'stage-done', stage: stage.id, code: stage.code, changed: stageSummary.changed });
}
