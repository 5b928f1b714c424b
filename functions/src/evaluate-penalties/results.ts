/**
 * The penalties core's output → the rows evaluate-penalties writes (docs/penalties.md,
 * "Function"). Pure.
 *
 *   penalties     computed rows by natural key; manual rows (the officials') by id, only their
 *                 `effective_ms`/`rule`; an overridden row whose source is gone is kept, voided
 *   stage_times   penalty_ms, total_ms, excluded of the evaluated entries; position and
 *                 category_position of every row of the event (a total that moved moves others)
 *   standings     overall and per category after each counted stage that has results
 */
import { computeStandings, stageTotals, type Penalty, type StageRef, type StageTime, type StageTotal, type StandingRow } from '../core/penalties/index.ts';
import { diffRows, sameValue, type Diff, type FieldSpec, type StoredRow } from '../directus-io/diff.ts';
import { isManual, stageStatus, type EntryRow, type PenaltyRow, type StageRow, type StageTimeRow } from './facts.ts';

export const PENALTY_FIELDS: FieldSpec = {
  event: 'int',
  stage: 'int',
  entry: 'int',
  rule: 'int',
  source_kind: 'text',
  source_id: 'text',
  amount_ms: 'int',
  exclusion: 'bool',
  explanation: 'text',
  effective_ms: 'int',
};
export const STAGE_TIME_TOTAL_FIELDS: FieldSpec = { penalty_ms: 'int', total_ms: 'int', excluded: 'bool', position: 'int', category_position: 'int' };
export const STAGE_TIME_POSITION_FIELDS: FieldSpec = { position: 'int', category_position: 'int' };
export const STANDING_FIELDS: FieldSpec = { event: 'int', stage: 'int', entry: 'int', category: 'int', scope: 'text', position: 'int', total_ms: 'int', gap_ms: 'int', penalty_ms: 'int', status: 'text' };

export interface PenaltyFields {
  key: string;
  event: number;
  stage: number | null;
  entry: number;
  rule: number | null;
  source_kind: string;
  source_id: string;
  amount_ms: number;
  exclusion: boolean;
  explanation: string;
  effective_ms: number;
}

const num = (id: string | null): number | null => (id === null ? null : Number(id));

/** A computed penalty as a `penalties` row: `amount_ms`/`exclusion` as computed, `effective_ms` after the override. */
export function penaltyFields(eventId: number, p: Penalty): PenaltyFields {
  return {
    key: p.key,
    event: eventId,
    stage: num(p.stageId),
    entry: Number(p.entryId),
    rule: num(p.ruleId),
    source_kind: p.sourceKind,
    source_id: p.sourceId,
    amount_ms: p.computedAmountMs,
    exclusion: p.computedExclusion,
    explanation: p.explanation,
    effective_ms: p.amountMs,
  };
}

const SOURCE_NAMES: Record<string, string> = { infringement: 'speed infringement', waypoint: 'waypoint pass', time_control: 'time-control arrival', max_time: 'stage time', manual: 'manual penalty' };

/** What an overridden row whose source is gone becomes: nothing counts, the decision stays. */
export function voidedFields(row: PenaltyRow): Partial<PenaltyFields> {
  const what = SOURCE_NAMES[row.source_kind ?? ''] ?? 'source';
  return { amount_ms: 0, exclusion: false, effective_ms: 0, explanation: `No longer applies: its ${what} is gone. The officials' ${row.override} is kept in case it comes back.` };
}

export interface PenaltyWrites {
  diff: Diff<PenaltyFields>;
  /** manual rows: what the function owns of them (effective_ms, rule, event) */
  manual: ({ id: number } & Record<string, unknown>)[];
  /** overridden rows kept although their source is gone */
  voided: number;
}

/**
 * Wanted vs stored penalties of the evaluated entries. Computed rows: create / update / delete by
 * key, except that a row carrying an official's override is voided rather than deleted. Manual
 * rows are never created or deleted here.
 */
export function penaltyWrites(eventId: number, penalties: readonly Penalty[], stored: readonly PenaltyRow[]): PenaltyWrites {
  const computed = penalties.filter((p) => p.sourceKind !== 'manual').map((p) => penaltyFields(eventId, p));
  const storedComputed = stored.filter((r) => !isManual(r));
  const diff = diffRows(computed, storedComputed as unknown as StoredRow[], PENALTY_FIELDS);
  const byId = new Map(storedComputed.map((r) => [r.id, r]));
  let voided = 0;
  const keep: (number | string)[] = [];
  for (const id of diff.delete) {
    const row = byId.get(Number(id))!;
    if (row.override !== 'waive' && row.override !== 'adjust') {
      keep.push(id);
      continue;
    }
    voided++;
    const patch = changed(voidedFields(row), row as unknown as Record<string, unknown>, PENALTY_FIELDS);
    if (patch) diff.update.push({ id: row.id, ...patch });
  }
  diff.delete = keep;

  const manualOut = new Map(penalties.filter((p) => p.sourceKind === 'manual').map((p) => [Number(p.sourceId), p]));
  const manual: PenaltyWrites['manual'] = [];
  for (const row of stored) {
    if (!isManual(row)) continue;
    const p = manualOut.get(row.id);
    const want: Record<string, unknown> = { effective_ms: p ? p.amountMs : 0, rule: p ? num(p.ruleId) : null, event: eventId, source_kind: 'manual', source_id: String(row.id) };
    const patch = changed(want, row as unknown as Record<string, unknown>, PENALTY_FIELDS);
    if (patch) manual.push({ id: row.id, ...patch });
  }
  return { diff, manual, voided };
}

/** The fields of `want` that differ from `row` (null when none). */
export function changed(want: Record<string, unknown>, row: Record<string, unknown>, spec: FieldSpec): Record<string, unknown> | null {
  const out: Record<string, unknown> = {};
  let any = false;
  for (const [field, value] of Object.entries(want)) {
    if (!sameValue(spec[field] ?? 'text', value, row[field])) {
      out[field] = value;
      any = true;
    }
  }
  return any ? out : null;
}

/** A stored stage_times row of an entry not evaluated this time, as a total (its stored one). */
export function storedTotal(row: StageTimeRow): StageTotal {
  const excluded = row.excluded === true || row.status === 'excluded';
  const evaluated = row.penalty_ms != null;
  const penaltyMs = row.penalty_ms ?? 0;
  const net = row.net_ms ?? row.raw_ms;
  // never evaluated yet: its measured time stands in until its own evaluation runs
  const totalMs = excluded ? null : evaluated ? row.total_ms : row.status === 'finished' ? net : null;
  return {
    entryId: String(row.entry),
    stageId: String(row.stage),
    status: stageStatus(row.status),
    rawMs: net,
    countedRawMs: totalMs === null ? null : totalMs - penaltyMs,
    penaltyMs,
    totalMs,
    forfeited: false,
    excluded,
    classified: totalMs !== null,
    penaltyKeys: [],
  };
}

export interface TotalsInput {
  stages: readonly StageRow[];
  entries: readonly EntryRow[];
  /** every stage_times row of the event */
  stageTimes: readonly StageTimeRow[];
  /** the entries evaluated now */
  evaluated: ReadonlySet<number>;
  /** the core's stage times of the evaluated entries (facts.ts) */
  coreStageTimes: readonly StageTime[];
  /** the core's penalties of the evaluated entries */
  penalties: readonly Penalty[];
}

/** Every stage total of the event: fresh for the evaluated entries, stored for the others. */
export function eventTotals(input: TotalsInput): StageTotal[] {
  const fresh = new Map(stageTotals(input.coreStageTimes, input.penalties).map((t) => [`${t.stageId}|${t.entryId}`, t]));
  return input.stageTimes.map((row) => (input.evaluated.has(row.entry) ? fresh.get(`${row.stage}|${row.entry}`) : undefined) ?? storedTotal(row));
}

const standingEntries = (entries: readonly EntryRow[]) => entries.map((e) => ({ entryId: String(e.id), number: e.number, categoryId: e.category == null ? null : String(e.category) }));

/** Patches of stage_times: totals of the evaluated entries, positions of everyone. */
export function stageTimeWrites(input: TotalsInput, totals: readonly StageTotal[]): { id: number; [field: string]: unknown }[] {
  const byKey = new Map(totals.map((t) => [`${t.stageId}|${t.entryId}`, t]));
  const positions = new Map<string, { position: number | null; category_position: number | null }>();
  const entryById = new Map(input.entries.map((e) => [e.id, e]));
  for (const stage of input.stages) {
    const rows = input.stageTimes.filter((r) => r.stage === stage.id && entryById.has(r.entry));
    if (!rows.length) continue;
    const ref: StageRef = { id: String(stage.id), code: stage.code, sequence: stage.sequence };
    const standings = computeStandings({ stages: [ref], entries: standingEntries(rows.map((r) => entryById.get(r.entry)!)), stageTotals: rows.map((r) => byKey.get(`${r.stage}|${r.entry}`)!) });
    for (const row of standings.overall) positions.set(`${stage.id}|${row.entryId}`, { position: row.position, category_position: null });
    for (const cat of standings.byCategory) for (const row of cat.rows) positions.get(`${stage.id}|${row.entryId}`)!.category_position = cat.categoryId === '' ? null : row.position;
  }
  const out: { id: number; [field: string]: unknown }[] = [];
  for (const row of input.stageTimes) {
    const k = `${row.stage}|${row.entry}`;
    const pos = positions.get(k) ?? { position: null, category_position: null };
    const t = byKey.get(k)!;
    const want: Record<string, unknown> = input.evaluated.has(row.entry) ? { penalty_ms: t.penaltyMs, total_ms: t.totalMs, excluded: t.excluded, ...pos } : pos;
    const patch = changed(want, row as unknown as Record<string, unknown>, STAGE_TIME_TOTAL_FIELDS);
    if (patch) out.push({ id: row.id, ...patch });
  }
  return out;
}

export interface StandingFields {
  key: string;
  event: number;
  stage: number;
  entry: number;
  category: number | null;
  scope: 'overall' | 'category';
  position: number | null;
  total_ms: number;
  gap_ms: number | null;
  penalty_ms: number;
  status: string;
}

export interface StandingsInput {
  eventId: number;
  stages: readonly StageRow[];
  entries: readonly EntryRow[];
  totals: readonly StageTotal[];
  /** event-level penalties (stageId null) of every entry, effective */
  eventPenalties: readonly Penalty[];
  /** stage kinds that count in the standings (Rally Albania: specials only, the prologue sets the start order) */
  countedKinds: readonly string[];
}

/** Standings rows after each counted stage that has results: overall, and per category. */
export function standingRows(input: StandingsInput): StandingFields[] {
  const stages = [...input.stages].sort((a, b) => a.sequence - b.sequence || a.id - b.id);
  const withResults = new Set(input.totals.map((t) => t.stageId));
  const counted = stages.filter((s) => input.countedKinds.includes(s.kind ?? 'special') && withResults.has(String(s.id)));
  const refs = counted.map((s): StageRef => ({ id: String(s.id), code: s.code, sequence: s.sequence }));
  const entries = standingEntries(input.entries);
  const out: StandingFields[] = [];
  const row = (stage: number, scope: 'overall' | 'category', r: StandingRow): StandingFields => ({
    key: `${stage}:${scope}:${r.entryId}`,
    event: input.eventId,
    stage,
    entry: Number(r.entryId),
    category: r.categoryId === null ? null : Number(r.categoryId),
    scope,
    position: r.position,
    total_ms: r.totalMs,
    gap_ms: r.gapToLeaderMs,
    penalty_ms: r.penaltyMs,
    status: r.status,
  });
  counted.forEach((stage, i) => {
    const standings = computeStandings({ stages: refs, countedStageIds: refs.slice(0, i + 1).map((s) => s.id), entries, stageTotals: input.totals, penalties: input.eventPenalties });
    for (const r of standings.overall) out.push(row(stage.id, 'overall', r));
    for (const cat of standings.byCategory) if (cat.categoryId !== '') for (const r of cat.rows) out.push(row(stage.id, 'category', r));
  });
  return out;
}

/** Stored event-level penalties of entries not evaluated now, as the effective penalties standings need. */
export function storedEventPenalties(rows: readonly PenaltyRow[], evaluated: ReadonlySet<number>): Penalty[] {
  return rows
    .filter((r) => r.stage == null && !evaluated.has(r.entry))
    .map((r) => {
      const overridden = r.override === 'waive' || r.override === 'adjust';
      const amountMs = r.effective_ms ?? (r.override === 'waive' ? 0 : r.override === 'adjust' ? r.override_amount_ms ?? 0 : r.amount_ms ?? 0);
      return { key: r.key, entryId: String(r.entry), stageId: null, amountMs, exclusion: !overridden && r.exclusion === true } as Penalty;
    });
}
