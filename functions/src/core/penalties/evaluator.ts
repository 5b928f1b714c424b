/**
 * The contract every evaluator meets. An evaluator is data-free math: its numbers come from a
 * `penalty_rules` row's params, validated by `validate` (which lists every problem at once), and
 * `evaluate(params, fact, context)` is pure. The engine (evaluate-penalties.ts) picks the facts,
 * orders them, resolves the rule per fact and keeps the offence count.
 */
import type { Assessment, EntryFacts, FactContext, SourceKind } from './types.ts';

export type ValidationResult<P> = { ok: true; params: P } | { ok: false; problems: string[] };

export interface Evaluator<P, F> {
  /** registry key, stored in `penalty_rules.evaluator` */
  readonly key: string;
  readonly sourceKind: SourceKind;
  /** one line for the admin UI */
  readonly summary: string;
  validate(params: unknown): ValidationResult<P>;
  /** when set, facts with no applicable rule are still evaluated with these params (ruleId null) */
  readonly defaultParams?: P;
  /** this evaluator's facts for one entry (unordered; the engine sorts them) */
  select(facts: EntryFacts): readonly F[];
  sourceId(fact: F): string;
  /** null = event-level */
  stageId(fact: F): string | null;
  /** order within a stage (the engine orders stages by sequence first); must end on a unique id */
  compare(a: F, b: F): number;
  /** null = nothing to penalise for this fact */
  evaluate(params: P, fact: F, context: FactContext<F>): Assessment | null;
}

/** Type-erased view the registry stores, so evaluators with different P and F sit in one map. */
export interface AnyEvaluator {
  readonly key: string;
  readonly sourceKind: SourceKind;
  readonly summary: string;
  validate(params: unknown): ValidationResult<unknown>;
  readonly defaultParams?: unknown;
  select(facts: EntryFacts): readonly unknown[];
  sourceId(fact: unknown): string;
  stageId(fact: unknown): string | null;
  compare(a: unknown, b: unknown): number;
  evaluate(params: unknown, fact: unknown, context: FactContext<unknown>): Assessment | null;
}

export function erase<P, F>(evaluator: Evaluator<P, F>): AnyEvaluator {
  return evaluator as unknown as AnyEvaluator;
}

/** Deterministic string order, independent of locale. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Rounds a millisecond amount to a multiple of `stepMs`, halves away from zero. */
export function roundMs(amountMs: number, stepMs: number): number {
  const steps = Math.abs(amountMs) / stepMs;
  // a tiny epsilon so 2.5 computed as 2.4999999999 still rounds up
  const rounded = Math.floor(steps + 0.5 + 1e-9) * stepMs;
  return amountMs < 0 ? -rounded : rounded;
}
