/** Errors shared by the functions that read their scope from Directus. */
import { PermanentError } from '../../../common/src/errors.ts';

/** A scope id that names no row: permanent (the connector must not retry), answered 404. */
export function notFoundError(code: string, message: string, details?: Record<string, unknown>): PermanentError {
  const error = new PermanentError(code, message, { details });
  // the function runtime answers a PermanentError with 400; a missing row is a 404
  (error as PermanentError & { statusCode?: number }).statusCode = 404;
  return error;
}
