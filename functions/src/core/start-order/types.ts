/**
 * Types of the start-order core (rally-domain.md §5). Ordering strategy and interval schedule are
 * orthogonal: a strategy orders the entries of each start group, the schedule turns positions
 * into start times. Times are ms since epoch; intervals in ms.
 */

export type StrategyKey =
  | 'manual'
  | 'natural'
  | 'previous_stage_clean_result'
  | 'inverse_top_n_then_natural'
  | 'inverse_of_overall'
  | 'race_number'
  | 'reverse_race_number';

export interface StartEntry {
  entryId: string;
  /** race number: the last tie-break */
  number: number;
  categoryId: string | null;
}

export type ReferenceStatus = 'classified' | 'dnf' | 'dns' | 'excluded';

/** One entry's result in the reference (previous stage, prologue or overall standings). */
export interface ReferenceResult {
  entryId: string;
  status: ReferenceStatus;
  /** time without penalties ("clean") */
  rawMs: number | null;
  /** time with penalties (stage total, or the overall total) */
  totalMs: number | null;
}

export interface PreviousStart {
  entryId: string;
  position: number;
}

export interface ManualPosition {
  entryId: string;
  position: number;
}

/** An existing start_orders row an official locked: kept exactly as it is. */
export interface LockedRow {
  entryId: string;
  position: number;
  startAtMs: number;
  explanation?: string;
}

/** From `fromPosition` on (within the group), one slot every `intervalMs`, `perSlot` entries per slot. */
export interface IntervalBlock {
  fromPosition: number;
  intervalMs: number;
  perSlot: number;
}

export interface StartGroup {
  id: string;
  label: string;
  categoryIds: string[];
  /** this group's schedule; default the params' blocks */
  blocks: IntervalBlock[] | null;
  /** gap from the previous group's last start to this group's first; default params.gapBetweenGroupsMs */
  gapBeforeMs: number | null;
  /** absolute first start of this group (e.g. cars from 14:00); wins over the gap */
  startAtMs: number | null;
}

/** Where entries without a classified reference result go. */
export type Placement = 'end' | 'by_number' | 'omit';

export interface StartOrderParams {
  /** block size for inverse_top_n_then_natural (required) and inverse_of_overall (default: all) */
  n: number | null;
  /** rank on time with penalties? default false for previous_stage_clean_result, true for natural */
  includePenalties: boolean;
  blocks: IntervalBlock[];
  /** start groups in start order (e.g. bikes+quads, then cars); none = one group of everyone */
  groups: StartGroup[];
  gapBetweenGroupsMs: number | null;
  unclassified: { dnf: Placement; dns: Placement; excluded: Placement };
  /** how the reference is named in explanations: `prologue`, `SS3`, `overall` */
  referenceLabel: string;
}

export interface StartOrderInput {
  stageId: string;
  strategy: StrategyKey;
  /** validated by validateStartOrderParams; see docs/start-order.md */
  params: unknown;
  firstStartAtMs: number;
  entries: readonly StartEntry[];
  /** the reference result; required by the ranking strategies */
  reference?: readonly ReferenceResult[];
  /** the previous stage's start order: the first tie-break */
  previousOrder?: readonly PreviousStart[];
  /** positions for the manual strategy */
  manual?: readonly ManualPosition[];
  locked?: readonly LockedRow[];
}

export interface StartOrderRow {
  stageId: string;
  entryId: string;
  number: number | null;
  /** 1-based, global across groups */
  position: number;
  startAtMs: number;
  locked: boolean;
  groupId: string | null;
  explanation: string;
}

export interface StartOrderResult {
  /** by position */
  rows: StartOrderRow[];
  /** entries left out (placement `omit`), with why */
  omitted: { entryId: string; reason: string }[];
}
