/**
 * Standings, overall and by category: the sum of stage totals over the counted stages plus
 * event-level penalties (manual penalties with stageId null).
 *
 * Order:
 * 1. `classified` — a classified total on every counted stage, not excluded: by totalMs; ties
 *    broken by the better total on the earliest counted stage where they differ (FIA practice:
 *    the first special decides), then by race number.
 * 2. `not_classified` — DNF/DNS/missing/running on some counted stage: more stages completed
 *    first, then the lower sum of completed totals, then race number. No position.
 * 3. `excluded` — by race number. No position.
 * Gaps are to the leader and to the previous classified row of the same table.
 */
import { compareStrings } from './evaluator.ts';
import type { StageTotal } from './totals.ts';
import type { Penalty, StageRef } from './types.ts';

export interface StandingEntry {
  entryId: string;
  /** race number, the last tie-break */
  number: number;
  categoryId: string | null;
}

export type StandingStatus = 'classified' | 'not_classified' | 'excluded';

export interface StandingRow {
  entryId: string;
  number: number;
  categoryId: string | null;
  /** 1-based position in this table; null when not classified */
  position: number | null;
  status: StandingStatus;
  /** Σ counted raw times of completed stages */
  rawMs: number;
  /** Σ stage penalties of completed stages + event-level penalties */
  penaltyMs: number;
  /** rawMs + penaltyMs (for not_classified rows: over the completed stages only) */
  totalMs: number;
  stagesCompleted: number;
  gapToLeaderMs: number | null;
  gapToPreviousMs: number | null;
}

export interface StandingsInput {
  stages: readonly StageRef[];
  /** stages that count (the Rally Albania prologue sets the start order only); default all */
  countedStageIds?: readonly string[];
  entries: readonly StandingEntry[];
  stageTotals: readonly StageTotal[];
  /** all penalties; only event-level ones (stageId null) are used here */
  penalties?: readonly Penalty[];
}

export interface Standings {
  overall: StandingRow[];
  /** sorted by categoryId; entries without a category are under '' */
  byCategory: { categoryId: string; rows: StandingRow[] }[];
}

interface Tally {
  entry: StandingEntry;
  status: StandingStatus;
  rawMs: number;
  penaltyMs: number;
  totalMs: number;
  stagesCompleted: number;
  /** per counted stage in sequence order, null = none */
  perStage: (number | null)[];
}

function tally(input: StandingsInput): Tally[] {
  const counted = new Set(input.countedStageIds ?? input.stages.map((s) => s.id));
  const stages = input.stages.filter((s) => counted.has(s.id)).sort((a, b) => a.sequence - b.sequence || compareStrings(a.id, b.id));
  const totals = new Map(input.stageTotals.map((t) => [`${t.entryId}|${t.stageId}`, t]));
  const eventPenalties = (input.penalties ?? []).filter((p) => p.stageId === null);
  return input.entries.map((entry) => {
    let rawMs = 0;
    let penaltyMs = 0;
    let stagesCompleted = 0;
    let excluded = false;
    const perStage = stages.map((s) => {
      const t = totals.get(`${entry.entryId}|${s.id}`);
      if (!t) return null;
      if (t.excluded) excluded = true;
      if (!t.classified || t.totalMs === null || t.countedRawMs === null) return null;
      stagesCompleted++;
      rawMs += t.countedRawMs;
      penaltyMs += t.penaltyMs;
      return t.totalMs;
    });
    for (const p of eventPenalties) {
      if (p.entryId !== entry.entryId) continue;
      penaltyMs += p.amountMs;
      if (p.exclusion) excluded = true;
    }
    const status: StandingStatus = excluded ? 'excluded' : stagesCompleted === stages.length ? 'classified' : 'not_classified';
    return { entry, status, rawMs, penaltyMs, totalMs: rawMs + penaltyMs, stagesCompleted, perStage };
  });
}

const STATUS_ORDER: readonly StandingStatus[] = ['classified', 'not_classified', 'excluded'];

function compareTally(a: Tally, b: Tally): number {
  const byStatus = STATUS_ORDER.indexOf(a.status) - STATUS_ORDER.indexOf(b.status);
  if (byStatus) return byStatus;
  if (a.status === 'excluded') return a.entry.number - b.entry.number || compareStrings(a.entry.entryId, b.entry.entryId);
  if (a.status === 'not_classified' && a.stagesCompleted !== b.stagesCompleted) return b.stagesCompleted - a.stagesCompleted;
  if (a.totalMs !== b.totalMs) return a.totalMs - b.totalMs;
  for (let i = 0; i < a.perStage.length; i++) {
    const x = a.perStage[i];
    const y = b.perStage[i];
    if (x !== null && y !== null && x !== y) return x - y;
  }
  return a.entry.number - b.entry.number || compareStrings(a.entry.entryId, b.entry.entryId);
}

function rank(tallies: readonly Tally[]): StandingRow[] {
  const sorted = [...tallies].sort(compareTally);
  const leader = sorted.find((t) => t.status === 'classified');
  let position = 0;
  let previous: Tally | undefined;
  return sorted.map((t) => {
    const classified = t.status === 'classified';
    if (classified) position++;
    const row: StandingRow = {
      entryId: t.entry.entryId,
      number: t.entry.number,
      categoryId: t.entry.categoryId,
      position: classified ? position : null,
      status: t.status,
      rawMs: t.rawMs,
      penaltyMs: t.penaltyMs,
      totalMs: t.totalMs,
      stagesCompleted: t.stagesCompleted,
      gapToLeaderMs: classified && leader ? t.totalMs - leader.totalMs : null,
      gapToPreviousMs: classified && previous ? t.totalMs - previous.totalMs : classified ? 0 : null,
    };
    if (classified) previous = t;
    return row;
  });
}

export function computeStandings(input: StandingsInput): Standings {
  const tallies = tally(input);
  const categories = [...new Set(tallies.map((t) => t.entry.categoryId ?? ''))].sort(compareStrings);
  return {
    overall: rank(tallies),
    byCategory: categories.map((categoryId) => ({ categoryId, rows: rank(tallies.filter((t) => (t.entry.categoryId ?? '') === categoryId)) })),
  };
}
