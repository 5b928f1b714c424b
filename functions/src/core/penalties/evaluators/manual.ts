/**
 * `manual`: penalties (or credits, when negative) given by officials pass through with their
 * reason. No rule is needed: without a `manual` rule they pass with `ruleId = null`. A rule may
 * cap what one manual penalty can be (`maxAmountMs`), a guard against a typo in minutes vs hours.
 */
import type { Evaluator, ValidationResult } from '../evaluator.ts';
import { compareStrings } from '../evaluator.ts';
import { formatDurationMs, stagePrefix } from '../format.ts';
import type { Problems } from '../params.ts';
import { optionalNumber, readObject, rejectUnknownKeys } from '../params.ts';
import type { Assessment, FactContext, ManualPenalty } from '../types.ts';

export interface ManualParams {
  maxAmountMs: number | null;
}

export function validateManualParams(raw: unknown): ValidationResult<ManualParams> {
  const problems: Problems = [];
  const obj = readObject(raw ?? {}, '', problems) ?? {};
  rejectUnknownKeys(obj, '', ['maxAmountMs'], problems);
  const params: ManualParams = { maxAmountMs: optionalNumber(obj, 'maxAmountMs', '', { min: 0 }, problems) };
  return problems.length ? { ok: false, problems } : { ok: true, params };
}

export function evaluateManual(p: ManualParams, f: ManualPenalty, ctx: FactContext<ManualPenalty>): Assessment {
  const exclusion = f.exclusion === true;
  let amountMs = f.amountMs;
  let capText = '';
  if (p.maxAmountMs !== null && amountMs > p.maxAmountMs) {
    amountMs = p.maxAmountMs;
    capText = ` (capped at ${formatDurationMs(p.maxAmountMs)})`;
  }
  const what = exclusion ? 'exclusion' : amountMs < 0 ? `credit ${formatDurationMs(-amountMs)}` : formatDurationMs(amountMs);
  return { amountMs: exclusion ? 0 : amountMs, exclusion, explanation: `${stagePrefix(ctx.stageCode)}${what}${capText} by ${f.issuedBy}: ${f.reason}` };
}

export const manualEvaluator: Evaluator<ManualParams, ManualPenalty> = {
  key: 'manual',
  sourceKind: 'manual',
  summary: "Officials' penalties and credits, passed through with their reason",
  validate: validateManualParams,
  defaultParams: { maxAmountMs: null },
  select: (facts) => facts.manualPenalties ?? [],
  sourceId: (f) => f.id,
  stageId: (f) => f.stageId,
  compare: (a, b) => compareStrings(a.id, b.id),
  evaluate: evaluateManual,
};
