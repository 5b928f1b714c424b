/**
 * The evaluator registry: `penalty_rules.evaluator` → math. Adding an evaluator = one module plus
 * one line here; its params live in the DB. Keys are stable API (stored in rows).
 */
import type { AnyEvaluator } from './evaluator.ts';
import { erase } from './evaluator.ts';
import { PEN_ERR_BAD_PARAMS, PEN_ERR_UNKNOWN_EVALUATOR, PenaltyConfigError } from './errors.ts';
import { manualEvaluator } from './evaluators/manual.ts';
import { maxTimeEvaluator } from './evaluators/max-time.ts';
import { missedWaypointEvaluator } from './evaluators/missed-waypoint.ts';
import { speedZoneEvaluator } from './evaluators/speed-zone.ts';
import { timeControlEvaluator } from './evaluators/time-control.ts';

/** In evaluation order (also the order of `sourceKind` in the output). */
export const EVALUATORS: readonly AnyEvaluator[] = [
  erase(speedZoneEvaluator),
  erase(missedWaypointEvaluator),
  erase(timeControlEvaluator),
  erase(maxTimeEvaluator),
  erase(manualEvaluator),
];

const BY_KEY: ReadonlyMap<string, AnyEvaluator> = new Map(EVALUATORS.map((e) => [e.key, e]));

export function evaluatorKeys(): string[] {
  return EVALUATORS.map((e) => e.key);
}

export function findEvaluator(key: string): AnyEvaluator | undefined {
  return BY_KEY.get(key);
}

/** @throws PEN_ERR_UNKNOWN_EVALUATOR */
export function getEvaluator(key: string): AnyEvaluator {
  const evaluator = BY_KEY.get(key);
  if (!evaluator) throw new PenaltyConfigError(PEN_ERR_UNKNOWN_EVALUATOR, 'unknown evaluator', [`"${key}" is not one of ${evaluatorKeys().join(', ')}`]);
  return evaluator;
}

/**
 * Validates params for an evaluator key; returns the parsed params (defaults filled in).
 * @throws PEN_ERR_UNKNOWN_EVALUATOR, PEN_ERR_BAD_PARAMS (with every problem in `problems`)
 */
export function parseParams(key: string, params: unknown): unknown {
  const result = getEvaluator(key).validate(params);
  if (!result.ok) throw new PenaltyConfigError(PEN_ERR_BAD_PARAMS, `bad parameters for ${key}`, result.problems);
  return result.params;
}
