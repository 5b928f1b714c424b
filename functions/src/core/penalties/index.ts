/** Public API of the penalties core (pure: no I/O, no clock). See docs/penalties.md. */
export type * from './types.ts';
export type { Evaluator, AnyEvaluator, ValidationResult } from './evaluator.ts';
export type { CompiledRule, CompiledRules } from './resolve-rules.ts';
export type { StageTotal } from './totals.ts';
export type { Standings, StandingRow, StandingEntry, StandingStatus, StandingsInput } from './standings.ts';
export type { SpeedZoneParams, SpeedBracket, SpeedEscalation } from './evaluators/speed-zone.ts';
export type { MissedWaypointParams } from './evaluators/missed-waypoint.ts';
export type { TimeControlParams, MinuteGranularity } from './evaluators/time-control.ts';
export type { MaxTimeParams } from './evaluators/max-time.ts';
export type { ManualParams } from './evaluators/manual.ts';

export { evaluatePenalties, penaltyKey } from './evaluate-penalties.ts';
export { applyOverrides, validateOverrides } from './overrides.ts';
export { compileRules, resolveRule, specificity } from './resolve-rules.ts';
export { EVALUATORS, evaluatorKeys, findEvaluator, getEvaluator, parseParams } from './registry.ts';
export { stageTotal, stageTotals } from './totals.ts';
export { computeStandings } from './standings.ts';
export { formatDurationMs } from './format.ts';
export { minutesLate } from './evaluators/time-control.ts';
export * from './errors.ts';
