/**
 * Rule scoping. A rule applies to a fact when its stageId is null or the fact's stage, and its
 * categoryId is null or the entry's category. Among the applicable enabled rules of one
 * evaluator the most specific wins:
 *
 *   stage + category (3)  >  stage only (2)  >  category only (1)  >  whole event (0)
 *
 * A stage rule beats a category rule because a stage-level rule is an exception the organiser
 * wrote for that day (e.g. a marathon stage), while category rules are the standing scales.
 * Two enabled rules of the same evaluator with the same scope are a configuration error
 * (PEN_ERR_RULE_CONFLICT), found up front by `compileRules`. Event-level facts (stageId null,
 * manual only) see only rules with stageId null.
 */
import type { Problems } from './params.ts';
import { PEN_ERR_BAD_PARAMS, PEN_ERR_RULE_CONFLICT, PEN_ERR_UNKNOWN_EVALUATOR, PenaltyConfigError } from './errors.ts';
import { compareStrings } from './evaluator.ts';
import { evaluatorKeys, findEvaluator } from './registry.ts';
import type { PenaltyRule } from './types.ts';

export interface CompiledRule {
  rule: PenaltyRule;
  /** params after validation, defaults filled in */
  params: unknown;
  specificity: number;
}

export interface CompiledRules {
  /** by evaluator key, most specific first, then by rule id */
  byEvaluator: ReadonlyMap<string, readonly CompiledRule[]>;
}

export function specificity(rule: Pick<PenaltyRule, 'stageId' | 'categoryId'>): number {
  return (rule.stageId !== null ? 2 : 0) + (rule.categoryId !== null ? 1 : 0);
}

/**
 * Validates every enabled rule and indexes them. Throws one error listing every problem of every
 * rule; its code is the first kind found of: unknown evaluator, bad params, conflict.
 */
export function compileRules(rules: readonly PenaltyRule[]): CompiledRules {
  const problems: { code: string; text: string }[] = [];
  const byEvaluator = new Map<string, CompiledRule[]>();
  const scopes = new Map<string, string>();
  const sorted = [...rules].sort((a, b) => compareStrings(a.id, b.id));
  for (const rule of sorted) {
    if (rule.enabled === false) continue;
    const evaluator = findEvaluator(rule.evaluator);
    if (!evaluator) {
      problems.push({ code: PEN_ERR_UNKNOWN_EVALUATOR, text: `rule ${rule.id}: evaluator "${rule.evaluator}" is not one of ${evaluatorKeys().join(', ')}` });
      continue;
    }
    const result = evaluator.validate(rule.params);
    if (!result.ok) {
      for (const p of result.problems) problems.push({ code: PEN_ERR_BAD_PARAMS, text: `rule ${rule.id} (${rule.evaluator}): ${p}` });
      continue;
    }
    const scope = `${rule.evaluator}|${rule.stageId ?? '*'}|${rule.categoryId ?? '*'}`;
    const other = scopes.get(scope);
    if (other !== undefined) {
      problems.push({ code: PEN_ERR_RULE_CONFLICT, text: `rules ${other} and ${rule.id}: both ${rule.evaluator} for stage ${rule.stageId ?? 'any'}, category ${rule.categoryId ?? 'any'}` });
      continue;
    }
    scopes.set(scope, rule.id);
    const list = byEvaluator.get(rule.evaluator) ?? [];
    list.push({ rule, params: result.params, specificity: specificity(rule) });
    byEvaluator.set(rule.evaluator, list);
  }
  if (problems.length) {
    const order = [PEN_ERR_UNKNOWN_EVALUATOR, PEN_ERR_BAD_PARAMS, PEN_ERR_RULE_CONFLICT];
    const code = order.find((c) => problems.some((p) => p.code === c)) ?? PEN_ERR_BAD_PARAMS;
    const texts: Problems = problems.map((p) => p.text);
    throw new PenaltyConfigError(code, 'invalid penalty rules', texts);
  }
  for (const list of byEvaluator.values()) list.sort((a, b) => b.specificity - a.specificity || compareStrings(a.rule.id, b.rule.id));
  return { byEvaluator };
}

/** The rule of `evaluatorKey` that applies to a fact of `stageId` for an entry of `categoryId`. */
export function resolveRule(compiled: CompiledRules, evaluatorKey: string, stageId: string | null, categoryId: string | null): CompiledRule | null {
  for (const candidate of compiled.byEvaluator.get(evaluatorKey) ?? []) {
    const { rule } = candidate;
    if (rule.stageId !== null && rule.stageId !== stageId) continue;
    if (rule.categoryId !== null && rule.categoryId !== categoryId) continue;
    return candidate;
  }
  return null;
}
