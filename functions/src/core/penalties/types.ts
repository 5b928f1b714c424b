/**
 * Types of the penalties core: facts in (what timing established), rules in (penalty_rules rows:
 * evaluator key + params, "numbers in the DB, math in code"), penalties out (one per source and
 * evaluator, with a natural key the caller upserts on), official overrides, stage totals and
 * standings. Units are in the names: milliseconds (`...Ms`), km/h (`...Kmh`), metres (`...M`).
 */

/** What produced a penalty. Part of the natural key. */
export type SourceKind = 'infringement' | 'waypoint' | 'time_control' | 'max_time' | 'manual';

/** Waypoint types (rally-domain.md §2.1). WPN/WPP exist in the 2023 lexicon. */
export type WaypointType = 'WPV' | 'WPM' | 'WPS' | 'WPE' | 'WPC' | 'WPN' | 'WPP';

/** A `penalty_rules` row. `stageId` / `categoryId` null = the whole event (see resolve-rules.ts). */
export interface PenaltyRule {
  id: string;
  /** key into the evaluator registry, e.g. `speed_zone` */
  evaluator: string;
  /** evaluator parameters, validated at run time against the evaluator's schema */
  params: unknown;
  stageId: string | null;
  categoryId: string | null;
  /** false = the rule is kept in the DB but ignored; default true */
  enabled?: boolean;
}

/** A stage of the event, for ordering facts and labelling explanations ("SS3"). */
export interface StageRef {
  id: string;
  /** short label shown to competitors, e.g. `SS3`, `Prologue` */
  code: string;
  /** running order of the stage within the event */
  sequence: number;
}

export interface SpeedSample {
  atMs: number;
  speedKmh: number;
}

/** A speed-zone infringement: one per zone passage (Dakar 2023: "one infraction per zone"). */
export interface SpeedInfringement {
  id: string;
  stageId: string;
  entryId: string;
  zoneId: string;
  /** label shown to competitors, e.g. `SLZ 3`; falls back to zoneId */
  zoneCode?: string;
  limitKmh: number;
  /** highest spot speed inside the zone */
  maxSpeedKmh: number;
  /** average over the actual path inside the zone */
  avgSpeedKmh: number;
  /** nominal zone distance / time between DZ and FZ (FIM 80.16.2, "regardless of the route taken") */
  nominalAvgSpeedKmh?: number | null;
  /** total time spent above the limit inside the zone */
  overMs: number;
  /** total distance driven above the limit inside the zone */
  overDistanceM: number;
  enteredAtMs: number;
  exitedAtMs: number;
  /** spot speeds over time, for the sample-integrated time-gained method */
  samples?: readonly SpeedSample[];
  /** set by an official who threw the infringement out (GPS glitch): not evaluated, not an offence */
  dismissed?: boolean;
}

export interface WaypointPass {
  id: string;
  stageId: string;
  entryId: string;
  waypointId: string;
  /** label shown to competitors, e.g. `WP12`; falls back to waypointId */
  waypointCode?: string;
  type: WaypointType;
  /** order of the waypoint within its stage (roadbook order) */
  sequence: number;
  validated: boolean;
}

export interface TimeControlArrival {
  /** id of the arrival record; falls back to `${controlId}:${entryId}` in the penalty key */
  id?: string;
  stageId: string;
  entryId: string;
  controlId: string;
  /** label shown to competitors, e.g. `CH2`; falls back to controlId */
  controlCode?: string;
  /** due (target) time, ms since epoch */
  dueMs: number;
  /** actual arrival, ms since epoch; null = never checked in */
  arrivedMs: number | null;
}

export type StageStatus = 'finished' | 'dnf' | 'dns' | 'dsq' | 'running';

export interface StageTime {
  id: string;
  stageId: string;
  entryId: string;
  status: StageStatus;
  /** measured stage time (start → finish, neutralisations deducted); null when not finished */
  rawMs: number | null;
  /** maximum time allowed on the stage; null = no maximum */
  maxTimeMs: number | null;
}

/** A penalty (or credit, when negative) given by an official. Passes through the `manual` evaluator. */
export interface ManualPenalty {
  id: string;
  /** null = an event-level penalty, counted in the overall standings only */
  stageId: string | null;
  entryId: string;
  amountMs: number;
  exclusion?: boolean;
  reason: string;
  issuedBy: string;
}

/** Everything timing knows about one entry for the whole event. */
export interface EntryFacts {
  entryId: string;
  categoryId: string | null;
  infringements?: readonly SpeedInfringement[];
  waypointPasses?: readonly WaypointPass[];
  timeControls?: readonly TimeControlArrival[];
  stageTimes?: readonly StageTime[];
  manualPenalties?: readonly ManualPenalty[];
}

/** What an evaluator says about one fact. The engine turns it into a Penalty. */
export interface Assessment {
  amountMs: number;
  exclusion: boolean;
  /** for max_time: the raw stage time counted instead of the measured one */
  replacesRawMs?: number | null;
  /** money fine in the rule's currency (speed zones), null when none */
  fine?: number | null;
  /** true when this counts towards repeat-offence escalation */
  countsAsOffence?: boolean;
  /** offence number across the event when escalation applied */
  offenceNumber?: number | null;
  explanation: string;
}

/** Context the engine hands an evaluator with each fact. */
export interface FactContext<F> {
  entryId: string;
  categoryId: string | null;
  ruleId: string;
  /** label of the fact's stage, e.g. `SS3` ('' when unknown or event-level) */
  stageCode: string;
  /** offences under this evaluator earlier in the event (chronological) */
  offencesBefore: number;
  /** offences under this evaluator earlier in the same stage */
  offencesBeforeInStage: number;
  /** previous fact of this kind in the same stage, canonical order; null for the first */
  previous: F | null;
}

export type OverrideAction = 'waive' | 'adjust';

/** An official's decision on a computed penalty, keyed by the penalty's natural key. */
export interface PenaltyOverride {
  penaltyKey: string;
  action: OverrideAction;
  /** for `adjust`: the amount that counts instead of the computed one */
  amountMs?: number;
  /** for `adjust`: whether the penalty excludes; default false (an adjust lifts an exclusion) */
  exclusion?: boolean;
  reason: string;
  by: string;
  /** when the decision was taken, ms since epoch (audit only) */
  atMs?: number;
}

export type PenaltyStatus = 'computed' | 'waived' | 'adjusted';

export interface Penalty {
  /** natural key `${sourceKind}:${sourceId}:${evaluator}`; stable across recomputes and rule edits */
  key: string;
  entryId: string;
  /** null for event-level (manual) penalties */
  stageId: string | null;
  sourceKind: SourceKind;
  sourceId: string;
  evaluator: string;
  /** the rule that produced it; null for manual penalties with no `manual` rule configured */
  ruleId: string | null;
  /** what the rule computed, kept even when overridden */
  computedAmountMs: number;
  computedExclusion: boolean;
  /** what counts, after the override */
  amountMs: number;
  exclusion: boolean;
  /** max_time forfeit: the raw time counted instead of the measured one (null otherwise) */
  replacesRawMs: number | null;
  fine: number | null;
  offenceNumber: number | null;
  status: PenaltyStatus;
  override: PenaltyOverride | null;
  /** readable by a competitor; overrides append their reason */
  explanation: string;
}

export interface EvaluationInput {
  stages: readonly StageRef[];
  rules: readonly PenaltyRule[];
  entries: readonly EntryFacts[];
  overrides?: readonly PenaltyOverride[];
}

export interface EvaluationResult {
  /** sorted by entryId, stage sequence (event-level last), sourceKind, key */
  penalties: Penalty[];
  /** overrides whose penalty no longer exists (fact dismissed, rule removed); shown, not applied */
  orphanOverrides: PenaltyOverride[];
}
