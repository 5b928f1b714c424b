/**
 * `max_time`: exceeding the stage's maximum time (rally-domain.md §2.4). The stage time becomes
 * the maximum time plus a forfeit: the penalty carries `replacesRawMs = maxTimeMs` (the raw time
 * counted instead of the measured one) and `amountMs = forfeitMs`, so waiving it restores the
 * measured time and adjusting it changes only the forfeit. Other penalties still add on top
 * (Dakar 2005: "maximum time + penalties for missing CPs + the fixed penalty").
 * `dnfForfeit` also classifies a DNF at max time + forfeit (Dakar: "an automatic 10-hour penalty
 * + the maximum time allowed") instead of leaving it unclassified.
 */
import type { Evaluator, ValidationResult } from '../evaluator.ts';
import { formatDurationMs, stagePrefix } from '../format.ts';
import type { Problems } from '../params.ts';
import { optionalBoolean, readObject, rejectUnknownKeys, requiredNumber } from '../params.ts';
import type { Assessment, FactContext, StageTime } from '../types.ts';

export interface MaxTimeParams {
  forfeitMs: number;
  dnfForfeit: boolean;
}

export function validateMaxTimeParams(raw: unknown): ValidationResult<MaxTimeParams> {
  const problems: Problems = [];
  const obj = readObject(raw, '', problems) ?? {};
  rejectUnknownKeys(obj, '', ['forfeitMs', 'dnfForfeit'], problems);
  const params: MaxTimeParams = {
    forfeitMs: requiredNumber(obj, 'forfeitMs', '', { min: 0 }, problems),
    dnfForfeit: optionalBoolean(obj, 'dnfForfeit', '', false, problems),
  };
  return problems.length ? { ok: false, problems } : { ok: true, params };
}

export function evaluateMaxTime(p: MaxTimeParams, f: StageTime, ctx: FactContext<StageTime>): Assessment | null {
  if (f.maxTimeMs === null) return null;
  const tail = `stage time = maximum ${formatDurationMs(f.maxTimeMs)} + forfeit ${formatDurationMs(p.forfeitMs)}`;
  if (f.status === 'finished' && f.rawMs !== null && f.rawMs > f.maxTimeMs) {
    return { amountMs: p.forfeitMs, exclusion: false, replacesRawMs: f.maxTimeMs, explanation: `${stagePrefix(ctx.stageCode)}${formatDurationMs(f.rawMs)} is over the maximum time → ${tail}` };
  }
  if (f.status === 'dnf' && p.dnfForfeit) {
    return { amountMs: p.forfeitMs, exclusion: false, replacesRawMs: f.maxTimeMs, explanation: `${stagePrefix(ctx.stageCode)}did not finish → ${tail}` };
  }
  return null;
}

export const maxTimeEvaluator: Evaluator<MaxTimeParams, StageTime> = {
  key: 'max_time',
  sourceKind: 'max_time',
  summary: 'Maximum stage time exceeded (optionally DNF): stage time = max time + forfeit',
  validate: validateMaxTimeParams,
  select: (facts) => facts.stageTimes ?? [],
  sourceId: (f) => f.id,
  stageId: (f) => f.stageId,
  compare: () => 0,
  evaluate: evaluateMaxTime,
};
