/**
 * Coded errors of the penalties core. All are permanent: they describe bad configuration or bad
 * input, so a queue must not retry them (the handler answers 400/422). docs/penalties.md lists them.
 */
import { PermanentError } from '../../../../common/src/errors.ts';

export const PEN_ERR_BAD_PARAMS = 'PEN_ERR_BAD_PARAMS';
export const PEN_ERR_UNKNOWN_EVALUATOR = 'PEN_ERR_UNKNOWN_EVALUATOR';
export const PEN_ERR_RULE_CONFLICT = 'PEN_ERR_RULE_CONFLICT';
export const PEN_ERR_BAD_OVERRIDE = 'PEN_ERR_BAD_OVERRIDE';
export const PEN_ERR_BAD_FACTS = 'PEN_ERR_BAD_FACTS';

/** Thrown with every problem found, not just the first: `details.problems` is the list. */
export class PenaltyConfigError extends PermanentError {
  readonly problems: readonly string[];

  constructor(code: string, message: string, problems: readonly string[]) {
    super(code, `${message}: ${problems.join('; ')}`, { details: { problems: [...problems] } });
    this.name = 'PenaltyConfigError';
    this.problems = problems;
  }
}
