/**
 * Stage totals: raw time + effective penalties (after overrides), or the max-time forfeit.
 *
 *   countedRawMs = replacesRawMs of an effective max_time penalty, else rawMs
 *   totalMs      = countedRawMs + Σ amountMs of the entry's effective penalties on the stage
 *
 * A stage is `classified` when the entry finished (or was forfeited at max time) and nothing
 * excluded it; otherwise totalMs is null. Exclusion comes from any effective penalty with
 * `exclusion`, or from status `dsq`.
 */
import { compareStrings } from './evaluator.ts';
import type { Penalty, StageStatus, StageTime } from './types.ts';

export interface StageTotal {
  entryId: string;
  stageId: string;
  status: StageStatus;
  rawMs: number | null;
  /** rawMs, or the maximum time when a max-time forfeit applies */
  countedRawMs: number | null;
  penaltyMs: number;
  /** countedRawMs + penaltyMs; null when not classified */
  totalMs: number | null;
  forfeited: boolean;
  excluded: boolean;
  classified: boolean;
  /** keys of the penalties counted, in output order */
  penaltyKeys: string[];
}

export function stageTotal(time: StageTime, penalties: readonly Penalty[]): StageTotal {
  const mine = penalties.filter((p) => p.entryId === time.entryId && p.stageId === time.stageId);
  const forfeit = mine.find((p) => p.replacesRawMs !== null);
  const penaltyMs = mine.reduce((sum, p) => sum + p.amountMs, 0);
  const excluded = time.status === 'dsq' || mine.some((p) => p.exclusion);
  const countedRawMs = forfeit ? forfeit.replacesRawMs : time.rawMs;
  const finished = (time.status === 'finished' && time.rawMs !== null) || forfeit !== undefined;
  const classified = finished && !excluded && countedRawMs !== null;
  return {
    entryId: time.entryId,
    stageId: time.stageId,
    status: time.status,
    rawMs: time.rawMs,
    countedRawMs,
    penaltyMs,
    totalMs: classified && countedRawMs !== null ? countedRawMs + penaltyMs : null,
    forfeited: forfeit !== undefined,
    excluded,
    classified,
    penaltyKeys: mine.map((p) => p.key),
  };
}

/** Totals for every stage time, sorted by stageId then entryId. */
export function stageTotals(times: readonly StageTime[], penalties: readonly Penalty[]): StageTotal[] {
  return [...times].sort((a, b) => compareStrings(a.stageId, b.stageId) || compareStrings(a.entryId, b.entryId)).map((t) => stageTotal(t, penalties));
}
