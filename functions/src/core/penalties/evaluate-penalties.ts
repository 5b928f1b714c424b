/**
 * The engine: rules + facts + overrides → penalties. For each entry and each registered
 * evaluator, the evaluator's facts are put in canonical order (stage sequence, then the
 * evaluator's own order), the applicable rule is resolved per fact (resolve-rules.ts), and the
 * evaluator is called with a context that carries the offence count so far (repeat-offence
 * escalation across the event) and the previous fact of the stage (WPE after a miss).
 *
 * The output is the complete set of penalties for the given entries: the caller upserts by
 * `key` and deletes rows of the same entries whose key is not in the output. Overrides are
 * applied last, so a recompute with the same overrides gives the same effective amounts.
 */
import { compareStrings } from './evaluator.ts';
import { PEN_ERR_BAD_FACTS, PenaltyConfigError } from './errors.ts';
import { applyOverrides } from './overrides.ts';
import { EVALUATORS } from './registry.ts';
import { compileRules, resolveRule } from './resolve-rules.ts';
import type { EvaluationInput, EvaluationResult, FactContext, Penalty, SourceKind, StageRef } from './types.ts';

const SOURCE_ORDER: readonly SourceKind[] = ['infringement', 'waypoint', 'time_control', 'max_time', 'manual'];

export function penaltyKey(sourceKind: SourceKind, sourceId: string, evaluatorKey: string): string {
  return `${sourceKind}:${sourceId}:${evaluatorKey}`;
}

/**
 * Evaluates every entry's facts under the rules and applies the overrides.
 * @throws PEN_ERR_UNKNOWN_EVALUATOR / PEN_ERR_BAD_PARAMS / PEN_ERR_RULE_CONFLICT (rules),
 *         PEN_ERR_BAD_FACTS (a fact for another entry, an unknown stage, a duplicate source id),
 *         PEN_ERR_BAD_OVERRIDE (overrides)
 */
export function evaluatePenalties(input: EvaluationInput): EvaluationResult {
  const compiled = compileRules(input.rules);
  const stages = new Map<string, StageRef>(input.stages.map((s) => [s.id, s]));
  const sequenceOf = (stageId: string | null): number => (stageId === null ? Number.POSITIVE_INFINITY : stages.get(stageId)?.sequence ?? Number.POSITIVE_INFINITY);
  const problems: string[] = [];
  const penalties: Penalty[] = [];
  const keys = new Set<string>();

  const entries = [...input.entries].sort((a, b) => compareStrings(a.entryId, b.entryId));
  for (const entry of entries) {
    for (const evaluator of EVALUATORS) {
      const facts = [...evaluator.select(entry)];
      for (const fact of facts) {
        const factEntry = (fact as { entryId?: unknown }).entryId;
        if (factEntry !== entry.entryId) problems.push(`${evaluator.sourceKind} ${evaluator.sourceId(fact)} belongs to entry ${String(factEntry)}, given under ${entry.entryId}`);
        const stageId = evaluator.stageId(fact);
        if (stageId !== null && !stages.has(stageId)) problems.push(`${evaluator.sourceKind} ${evaluator.sourceId(fact)}: unknown stage ${stageId}`);
      }
      facts.sort((a, b) => sequenceOf(evaluator.stageId(a)) - sequenceOf(evaluator.stageId(b)) || compareStrings(evaluator.stageId(a) ?? '', evaluator.stageId(b) ?? '') || evaluator.compare(a, b) || compareStrings(evaluator.sourceId(a), evaluator.sourceId(b)));

      let offencesBefore = 0;
      const offencesInStage = new Map<string, number>();
      const previousInStage = new Map<string, unknown>();
      for (const fact of facts) {
        const stageId = evaluator.stageId(fact);
        const stageKey = stageId ?? '';
        const resolved = resolveRule(compiled, evaluator.key, stageId, entry.categoryId);
        const params = resolved ? resolved.params : evaluator.defaultParams;
        const previous = previousInStage.get(stageKey) ?? null;
        previousInStage.set(stageKey, fact);
        if (params === undefined) continue; // no rule applies: this evaluator says nothing here
        const context: FactContext<unknown> = {
          entryId: entry.entryId,
          categoryId: entry.categoryId,
          ruleId: resolved?.rule.id ?? '',
          stageCode: stageId === null ? '' : stages.get(stageId)?.code ?? stageId,
          offencesBefore,
          offencesBeforeInStage: offencesInStage.get(stageKey) ?? 0,
          previous,
        };
        const assessment = evaluator.evaluate(params, fact, context);
        if (!assessment) continue;
        if (assessment.countsAsOffence) {
          offencesBefore++;
          offencesInStage.set(stageKey, (offencesInStage.get(stageKey) ?? 0) + 1);
        }
        const sourceId = evaluator.sourceId(fact);
        const key = penaltyKey(evaluator.sourceKind, sourceId, evaluator.key);
        if (keys.has(key)) {
          problems.push(`duplicate ${evaluator.sourceKind} id ${sourceId}`);
          continue;
        }
        keys.add(key);
        penalties.push({
          key,
          entryId: entry.entryId,
          stageId,
          sourceKind: evaluator.sourceKind,
          sourceId,
          evaluator: evaluator.key,
          ruleId: resolved?.rule.id ?? null,
          computedAmountMs: assessment.amountMs,
          computedExclusion: assessment.exclusion,
          amountMs: assessment.amountMs,
          exclusion: assessment.exclusion,
          replacesRawMs: assessment.replacesRawMs ?? null,
          fine: assessment.fine ?? null,
          offenceNumber: assessment.offenceNumber ?? null,
          status: 'computed',
          override: null,
          explanation: assessment.explanation,
        });
      }
    }
  }
  if (problems.length) throw new PenaltyConfigError(PEN_ERR_BAD_FACTS, 'inconsistent facts', problems);

  const { penalties: applied, orphanOverrides } = applyOverrides(penalties, input.overrides ?? []);
  applied.sort(
    (a, b) =>
      compareStrings(a.entryId, b.entryId) ||
      sequenceOf(a.stageId) - sequenceOf(b.stageId) ||
      compareStrings(a.stageId ?? '', b.stageId ?? '') ||
      SOURCE_ORDER.indexOf(a.sourceKind) - SOURCE_ORDER.indexOf(b.sourceKind) ||
      compareStrings(a.key, b.key),
  );
  return { penalties: applied, orphanOverrides };
}
