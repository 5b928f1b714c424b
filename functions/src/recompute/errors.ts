/**
 * Error codes of the recompute (docs/recompute.md, "Errors"). Bad requests (unknown scope id)
 * are permanent: the connector must not retry them; Directus and Postgres outages are
 * retryable by the shared table in common/src/errors.ts.
 */
import { PermanentError, TrmError, type TrmErrorOptions } from '../../../common/src/errors.ts';

export const RECOMPUTE_ERR = {
  /** the scope id names no row (event, stage, entry) or no entry uses the device */
  NOT_FOUND: 'RECOMPUTE_ERR_NOT_FOUND',
  /** a Directus request failed */
  DIRECTUS: 'RECOMPUTE_ERR_DIRECTUS',
  /** reading fixes from Postgres failed */
  FIXES: 'RECOMPUTE_ERR_FIXES',
  /** computing an entry failed: a compute worker died (retryable) or the core threw */
  COMPUTE: 'RECOMPUTE_ERR_COMPUTE',
} as const;

export class RecomputeError extends TrmError {
  constructor(code: string, message: string, options: TrmErrorOptions = {}) {
    super(code, message, options);
    this.name = 'RecomputeError';
  }
}

export function notFound(message: string, details?: Record<string, unknown>): PermanentError {
  const error = new PermanentError(RECOMPUTE_ERR.NOT_FOUND, message, { details });
  // the function runtime answers a PermanentError with 400; a missing row is a 404
  (error as PermanentError & { statusCode?: number }).statusCode = 404;
  return error;
}
