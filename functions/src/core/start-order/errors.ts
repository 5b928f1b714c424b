/** Coded errors of the start-order core; all permanent (bad configuration or input). */
import { PermanentError } from '../../../../common/src/errors.ts';

export const SO_ERR_BAD_PARAMS = 'SO_ERR_BAD_PARAMS';
export const SO_ERR_UNKNOWN_STRATEGY = 'SO_ERR_UNKNOWN_STRATEGY';
export const SO_ERR_BAD_INPUT = 'SO_ERR_BAD_INPUT';
export const SO_ERR_BAD_LOCK = 'SO_ERR_BAD_LOCK';

/** `problems` lists every problem found. */
export class StartOrderError extends PermanentError {
  readonly problems: readonly string[];

  constructor(code: string, message: string, problems: readonly string[]) {
    super(code, `${message}: ${problems.join('; ')}`, { details: { problems: [...problems] } });
    this.name = 'StartOrderError';
    this.problems = problems;
  }
}
