/**
 * Ordering strategies (rally-domain.md §5). Each orders the entries of one start group and says
 * why, in a short text the generator completes with "→ 14th".
 *
 * - `previous_stage_clean_result` — previous stage result, winner first, ranked WITHOUT
 *   penalties unless `includePenalties` (the project's "clean" convention).
 * - `natural` — the same with penalties by default (Dakar 2023, S1 of §5: "taking any penalties
 *   into account"). The two differ only in the default of `includePenalties`.
 * - `inverse_top_n_then_natural` — the top N of the reference reversed, then the rest in order
 *   (Rally Albania 2012, N = 20: P7 starts 14th). With fewer than N classified, all are reversed.
 * - `inverse_of_overall` — the same on the overall standings; N defaults to everyone classified
 *   (WRC Sunday pattern).
 * - `race_number` / `reverse_race_number` — by race number (Dakar 2022 prologue bikes: reverse).
 * - `manual` — the positions an official gave; entries without one go to the end by number.
 *
 * Ranking ties (equal time) are broken by the previous start order, then by race number.
 * Entries without a classified result go after the ranked ones by status (DNF, then DNS — which
 * includes "no result" — then excluded), each status placed per `unclassified`: `end` (in the
 * previous start order, then by number), `by_number`, or `omit`.
 */
import { formatDurationMs } from '../penalties/format.ts';
import type { ManualPosition, PreviousStart, ReferenceResult, StartEntry, StartOrderParams, StrategyKey } from './types.ts';

export interface Ordered {
  entry: StartEntry;
  /** explanation without the final "→ position" */
  text: string;
}

export interface GroupOrder {
  ordered: Ordered[];
  omitted: { entryId: string; reason: string }[];
}

export interface StrategyContext {
  params: StartOrderParams;
  reference: ReadonlyMap<string, ReferenceResult>;
  hasReference: boolean;
  previous: ReadonlyMap<string, number>;
  manual: ReadonlyMap<string, number>;
}

type Unclassified = 'dnf' | 'dns' | 'excluded' | 'no_result';
const STATUS_TEXT: Record<Unclassified, string> = { dnf: 'DNF', dns: 'DNS', excluded: 'excluded', no_result: 'no result' };

function byPreviousThenNumber(previous: ReadonlyMap<string, number>) {
  return (a: StartEntry, b: StartEntry): number =>
    (previous.get(a.entryId) ?? Number.POSITIVE_INFINITY) - (previous.get(b.entryId) ?? Number.POSITIVE_INFINITY) || a.number - b.number || (a.entryId < b.entryId ? -1 : a.entryId > b.entryId ? 1 : 0);
}

function byNumber(a: StartEntry, b: StartEntry): number {
  return a.number - b.number || (a.entryId < b.entryId ? -1 : a.entryId > b.entryId ? 1 : 0);
}

function statusOf(ctx: StrategyContext, entry: StartEntry): ReferenceResult['status'] | 'no_result' {
  return ctx.reference.get(entry.entryId)?.status ?? 'no_result';
}

/** Entries of the unclassified statuses, placed per params; returns the tail and the omitted. */
function tail(ctx: StrategyContext, groups: Record<Unclassified, StartEntry[]>): GroupOrder {
  const ordered: Ordered[] = [];
  const omitted: GroupOrder['omitted'] = [];
  const label = ctx.params.referenceLabel;
  for (const [status, placement] of [['dnf', ctx.params.unclassified.dnf], ['dns', ctx.params.unclassified.dns], ['excluded', ctx.params.unclassified.excluded]] as const) {
    const list = status === 'dns' ? [...groups.dns, ...groups.no_result] : [...groups[status]];
    if (placement === 'omit') {
      for (const e of list.sort(byNumber)) omitted.push({ entryId: e.entryId, reason: `${STATUS_TEXT[statusOf(ctx, e) as Unclassified] ?? status} in ${label}: not starting` });
      continue;
    }
    list.sort(placement === 'by_number' ? byNumber : byPreviousThenNumber(ctx.previous));
    const how = placement === 'by_number' ? 'by race number' : 'in previous start order';
    for (const e of list) ordered.push({ entry: e, text: `${STATUS_TEXT[statusOf(ctx, e) as Unclassified]} in ${label}; after the classified, ${how}` });
  }
  return { ordered, omitted };
}

interface Ranked {
  entry: StartEntry;
  rank: number;
  timeMs: number;
}

function rank(ctx: StrategyContext, entries: readonly StartEntry[]): { ranked: Ranked[]; rest: Record<Unclassified, StartEntry[]> } {
  const rest: Record<Unclassified, StartEntry[]> = { dnf: [], dns: [], excluded: [], no_result: [] };
  const timed: { entry: StartEntry; timeMs: number }[] = [];
  for (const entry of entries) {
    const r = ctx.reference.get(entry.entryId);
    const timeMs = r ? (ctx.params.includePenalties ? r.totalMs : r.rawMs) : null;
    if (!r) rest.no_result.push(entry);
    else if (r.status !== 'classified') rest[r.status].push(entry);
    else if (timeMs === null) rest.no_result.push(entry);
    else timed.push({ entry, timeMs });
  }
  const tie = byPreviousThenNumber(ctx.previous);
  timed.sort((a, b) => a.timeMs - b.timeMs || tie(a.entry, b.entry));
  return { ranked: timed.map((t, i) => ({ ...t, rank: i + 1 })), rest };
}

/** For strategies that ignore the reference: drop only the statuses placed `omit`. */
function withoutOmitted(ctx: StrategyContext, entries: readonly StartEntry[]): { keep: StartEntry[]; omitted: GroupOrder['omitted'] } {
  if (!ctx.hasReference) return { keep: [...entries], omitted: [] };
  const keep: StartEntry[] = [];
  const omitted: GroupOrder['omitted'] = [];
  for (const e of entries) {
    const s = statusOf(ctx, e);
    const placement = s === 'classified' ? 'end' : s === 'no_result' ? ctx.params.unclassified.dns : ctx.params.unclassified[s];
    if (placement === 'omit') omitted.push({ entryId: e.entryId, reason: `${STATUS_TEXT[s as Unclassified]} in ${ctx.params.referenceLabel}: not starting` });
    else keep.push(e);
  }
  return { keep, omitted };
}

function inverse(ctx: StrategyContext, entries: readonly StartEntry[], n: number | null, label: string): GroupOrder {
  const { ranked, rest } = rank(ctx, entries);
  const size = Math.min(n ?? ranked.length, ranked.length);
  const what = n === null ? 'order reversed' : `top ${n} reversed`;
  const head = ranked.slice(0, size).reverse().map((r) => ({ entry: r.entry, text: `P${r.rank} ${label}; ${what}` }));
  const natural = ranked.slice(size).map((r) => ({ entry: r.entry, text: `P${r.rank} ${label}; outside the top ${n}` }));
  const t = tail(ctx, rest);
  return { ordered: [...head, ...natural, ...t.ordered], omitted: t.omitted };
}

export function orderGroup(strategy: StrategyKey, ctx: StrategyContext, entries: readonly StartEntry[]): GroupOrder {
  const label = ctx.params.referenceLabel;
  const inLabel = label === 'overall' ? 'overall' : `in ${label}`;
  switch (strategy) {
    case 'natural':
    case 'previous_stage_clean_result': {
      const { ranked, rest } = rank(ctx, entries);
      const mode = ctx.params.includePenalties ? 'with penalties' : 'without penalties';
      const t = tail(ctx, rest);
      return { ordered: [...ranked.map((r) => ({ entry: r.entry, text: `P${r.rank} ${inLabel} (${formatDurationMs(r.timeMs)} ${mode})` })), ...t.ordered], omitted: t.omitted };
    }
    case 'inverse_top_n_then_natural':
      return inverse(ctx, entries, ctx.params.n, inLabel);
    case 'inverse_of_overall':
      return inverse(ctx, entries, ctx.params.n, inLabel);
    case 'race_number':
    case 'reverse_race_number': {
      const { keep, omitted } = withoutOmitted(ctx, entries);
      keep.sort(byNumber);
      if (strategy === 'reverse_race_number') keep.reverse();
      const how = strategy === 'race_number' ? 'race number order' : 'reverse race number order';
      return { ordered: keep.map((entry) => ({ entry, text: `#${entry.number}; ${how}` })), omitted };
    }
    case 'manual': {
      const { keep, omitted } = withoutOmitted(ctx, entries);
      const placed = keep.filter((e) => ctx.manual.has(e.entryId)).sort((a, b) => (ctx.manual.get(a.entryId) ?? 0) - (ctx.manual.get(b.entryId) ?? 0) || byNumber(a, b));
      const unplaced = keep.filter((e) => !ctx.manual.has(e.entryId)).sort(byNumber);
      return {
        ordered: [...placed.map((entry) => ({ entry, text: `manual position ${ctx.manual.get(entry.entryId)}` })), ...unplaced.map((entry) => ({ entry, text: 'no manual position; at the end by race number' }))],
        omitted,
      };
    }
  }
}

export function strategyContext(params: StartOrderParams, reference: readonly ReferenceResult[] | undefined, previous: readonly PreviousStart[] | undefined, manual: readonly ManualPosition[] | undefined): StrategyContext {
  return {
    params,
    reference: new Map((reference ?? []).map((r) => [r.entryId, r])),
    hasReference: reference !== undefined,
    previous: new Map((previous ?? []).map((p) => [p.entryId, p.position])),
    manual: new Map((manual ?? []).map((m) => [m.entryId, m.position])),
  };
}
