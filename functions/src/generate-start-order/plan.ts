/**
 * Directus rows → the start-order core's input, and its output → start_orders writes
 * (docs/start-order.md, "Function"). Pure.
 *
 *   strategy, params   the stage's `start_order_strategy` / `start_order_params`; group
 *                      `categoryIds` may name categories by code (presets do) or id; without
 *                      `intervalMs`/`blocks` the stage's `start_interval_s` is the interval
 *   reference          previous stage (by sequence, liaisons skipped): its stage_times
 *                      (`net_ms` clean, `total_ms` with penalties); inverse_of_overall: the
 *                      overall standings after the latest earlier stage that has them
 *   previous order     the previous stage's start_orders (first tie-break)
 *   locked             this stage's start_orders rows with `locked`: never written
 *   manual             this stage's start_orders positions (the `manual` strategy)
 */
import type { LockedRow, ManualPosition, PreviousStart, ReferenceResult, StartEntry, StartOrderResult, StrategyKey } from '../core/start-order/index.ts';
import { diffRows, type Diff, type FieldSpec, type StoredRow } from '../directus-io/diff.ts';

export interface StageRow {
  id: number;
  event: number;
  code: string;
  kind: string | null;
  sequence: number;
  planned_start: string | null;
  start_interval_s: number | null;
  start_order_strategy: string | null;
  start_order_params: unknown;
  status: string | null;
}

export interface EntryRow {
  id: number;
  number: number;
  category: number | null;
  status: string | null;
}

export interface CategoryRow {
  id: number;
  code: string | null;
}

export interface StageTimeRow {
  entry: number;
  status: string | null;
  raw_ms: number | null;
  net_ms: number | null;
  penalty_ms: number | null;
  total_ms: number | null;
  excluded: boolean | null;
}

export interface StandingRow {
  entry: number;
  status: string | null;
  total_ms: number | null;
  penalty_ms: number | null;
}

export interface StartOrderRow {
  id: number;
  key: string | null;
  stage: number;
  entry: number;
  position: number | null;
  start_at: string | null;
  explanation: string | null;
  locked: boolean | null;
  strategy: string | null;
}

export const START_ORDER_FIELDS: FieldSpec = { key: 'text', stage: 'int', entry: 'int', position: 'int', start_at: 'instant', explanation: 'text', locked: 'bool', strategy: 'text' };

/** Entries with these statuses do not start (unless an official locked them in). */
export const NOT_STARTING = ['retired', 'excluded', 'dns'] as const;

export const RANKING: readonly StrategyKey[] = ['natural', 'previous_stage_clean_result', 'inverse_top_n_then_natural', 'inverse_of_overall'];

export const startOrderKey = (stage: number, entry: number) => `${stage}:${entry}`;

/** The stage before this one in the event (by sequence), liaisons skipped; undefined for the first. */
export function previousStage<T extends Pick<StageRow, 'id' | 'sequence' | 'kind'>>(stages: readonly T[], stage: T): T | undefined {
  return [...stages]
    .filter((s) => s.id !== stage.id && s.kind !== 'liaison' && (s.sequence < stage.sequence || (s.sequence === stage.sequence && s.id < stage.id)))
    .sort((a, b) => b.sequence - a.sequence || b.id - a.id)[0];
}

/** The stage after this one (by sequence), liaisons skipped: whose start order a confirmation triggers. */
export function nextStage<T extends Pick<StageRow, 'id' | 'sequence' | 'kind'>>(stages: readonly T[], stage: T): T | undefined {
  return [...stages]
    .filter((s) => s.id !== stage.id && s.kind !== 'liaison' && (s.sequence > stage.sequence || (s.sequence === stage.sequence && s.id > stage.id)))
    .sort((a, b) => a.sequence - b.sequence || a.id - b.id)[0];
}

/**
 * The stage's params for the core: group categories by code → id, the stage's start interval
 * when the params give none, the previous stage as the reference label.
 */
export function coreParams(stage: StageRow, categories: readonly CategoryRow[], previous: Pick<StageRow, 'code' | 'kind'> | undefined): Record<string, unknown> {
  const raw = stage.start_order_params;
  const params: Record<string, unknown> = raw && typeof raw === 'object' && !Array.isArray(raw) ? { ...(raw as Record<string, unknown>) } : {};
  if (params.intervalMs === undefined && params.blocks === undefined && stage.start_interval_s != null) params.intervalMs = stage.start_interval_s * 1000;
  const strategy = stage.start_order_strategy ?? 'manual';
  if (params.referenceLabel === undefined && previous && strategy !== 'inverse_of_overall') params.referenceLabel = previous.kind === 'prologue' ? 'prologue' : previous.code;
  if (Array.isArray(params.groups)) {
    const byCode = new Map(categories.filter((c) => c.code).map((c) => [c.code!, String(c.id)]));
    const ids = new Set(categories.map((c) => String(c.id)));
    params.groups = params.groups.map((g: unknown) => {
      if (!g || typeof g !== 'object' || !Array.isArray((g as { categoryIds?: unknown }).categoryIds)) return g;
      const group = g as { categoryIds: unknown[] };
      return { ...group, categoryIds: group.categoryIds.map((c) => (ids.has(String(c)) ? String(c) : byCode.get(String(c)) ?? String(c))) };
    });
  }
  return params;
}

export function startEntries(entries: readonly EntryRow[], lockedEntryIds: ReadonlySet<number>): { entries: StartEntry[]; notStarting: { entryId: string; reason: string }[] } {
  const out: StartEntry[] = [];
  const notStarting: { entryId: string; reason: string }[] = [];
  for (const e of entries) {
    if ((NOT_STARTING as readonly string[]).includes(e.status ?? '') && !lockedEntryIds.has(e.id)) notStarting.push({ entryId: String(e.id), reason: `entry status ${e.status}: not starting` });
    else out.push({ entryId: String(e.id), number: e.number, categoryId: e.category == null ? null : String(e.category) });
  }
  return { entries: out, notStarting };
}

/** A stage's results as the reference: clean = net time, with penalties = the stage total. */
export function stageReference(rows: readonly StageTimeRow[]): ReferenceResult[] {
  return rows.map((r): ReferenceResult => {
    const clean = r.net_ms ?? r.raw_ms;
    const entryId = String(r.entry);
    if (r.excluded === true || r.status === 'excluded') return { entryId, status: 'excluded', rawMs: null, totalMs: null };
    if (r.status === 'finished' && clean != null) {
      // not evaluated yet: no penalties known
      const totalMs = r.penalty_ms == null ? clean : r.total_ms;
      return totalMs == null ? { entryId, status: 'dnf', rawMs: clean, totalMs: null } : { entryId, status: 'classified', rawMs: clean, totalMs };
    }
    if (r.status === 'dnf' || r.status === 'running') return { entryId, status: 'dnf', rawMs: null, totalMs: null };
    return { entryId, status: 'dns', rawMs: null, totalMs: null };
  });
}

/** Overall standings as the reference (totalMs = overall total, rawMs = without penalties). */
export function overallReference(rows: readonly StandingRow[]): ReferenceResult[] {
  return rows.map((r): ReferenceResult => {
    const entryId = String(r.entry);
    if (r.status === 'excluded') return { entryId, status: 'excluded', rawMs: null, totalMs: null };
    if (r.status === 'classified' && r.total_ms != null) return { entryId, status: 'classified', rawMs: r.total_ms - (r.penalty_ms ?? 0), totalMs: r.total_ms };
    return { entryId, status: 'dnf', rawMs: null, totalMs: null };
  });
}

export const previousOrder = (rows: readonly StartOrderRow[]): PreviousStart[] => rows.filter((r) => r.position != null).map((r) => ({ entryId: String(r.entry), position: r.position! }));

export const manualPositions = (rows: readonly StartOrderRow[]): ManualPosition[] => rows.filter((r) => r.position != null).map((r) => ({ entryId: String(r.entry), position: r.position! }));

export function lockedRows(rows: readonly StartOrderRow[]): LockedRow[] {
  return rows
    .filter((r) => r.locked === true && r.position != null && r.start_at)
    .map((r) => ({ entryId: String(r.entry), position: r.position!, startAtMs: Date.parse(r.start_at!), ...(r.explanation ? { explanation: r.explanation } : {}) }));
}

export interface StartOrderFields {
  key: string;
  stage: number;
  entry: number;
  position: number;
  start_at: string;
  explanation: string;
  locked: boolean;
  strategy: string;
}

/**
 * The core's rows → start_orders writes: locked rows are left exactly as stored (never in the
 * diff); the other stored rows are updated by key (a row an official created without the
 * natural key gets it), and those of entries no longer starting are deleted.
 */
export function startOrderWrites(stageId: number, strategy: string, result: StartOrderResult, stored: readonly StartOrderRow[]): Diff<StartOrderFields> & { locked: number } {
  const locked = stored.filter((r) => r.locked === true);
  const lockedEntries = new Set(locked.map((r) => r.entry));
  const wanted = result.rows
    .filter((r) => !lockedEntries.has(Number(r.entryId)))
    .map((r): StartOrderFields => ({ key: startOrderKey(stageId, Number(r.entryId)), stage: stageId, entry: Number(r.entryId), position: r.position, start_at: new Date(r.startAtMs).toISOString(), explanation: r.explanation, locked: false, strategy }));
  // stored rows by their natural key, whatever key they carry (an official may have typed another);
  // a second unlocked row of one entry, or one beside its locked row, is deleted
  const seen = new Set(lockedEntries);
  const duplicates: number[] = [];
  const open: StoredRow[] = [];
  for (const r of [...stored].filter((x) => x.locked !== true).sort((a, b) => a.id - b.id)) {
    if (seen.has(r.entry)) duplicates.push(r.id);
    else open.push({ ...r, key: startOrderKey(stageId, r.entry), stored_key: r.key } as unknown as StoredRow);
    seen.add(r.entry);
  }
  const diff = diffRows(wanted, open, START_ORDER_FIELDS);
  diff.delete.push(...duplicates);
  for (const u of diff.update) {
    const row = open.find((r) => r.id === u.id)!;
    if (row.stored_key !== row.key) u.key = row.key;
  }
  for (const row of open) {
    if (row.stored_key === row.key || diff.delete.includes(row.id) || diff.update.some((u) => u.id === row.id)) continue;
    diff.update.push({ id: row.id, key: row.key });
    diff.unchanged--;
  }
  return { ...diff, locked: locked.length };
}
