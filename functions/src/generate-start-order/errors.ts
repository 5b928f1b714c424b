/**
 * Error codes of generate-start-order (docs/start-order.md, "Function"). The core's SO_ERR_*
 * codes (unknown strategy, bad params, no reference, bad locks) pass through as
 * PermanentErrors (400): the official fixes the stage's settings and triggers again.
 */
import { PermanentError } from '../../../common/src/errors.ts';
import { notFoundError } from '../directus-io/errors.ts';

export const START_ORDER_ERR = {
  /** the stage does not exist */
  NOT_FOUND: 'START_ORDER_ERR_NOT_FOUND',
  /** the stage has no planned_start: no start times can be given */
  NO_PLANNED_START: 'START_ORDER_ERR_NO_PLANNED_START',
  /** the stage is running, finished or confirmed: its start order is history */
  STAGE_STARTED: 'START_ORDER_ERR_STAGE_STARTED',
  /** a Directus request failed (retryable on 5xx, 429, network, a concurrent create) */
  DIRECTUS: 'START_ORDER_ERR_DIRECTUS',
} as const;

export const notFound = (message: string, details?: Record<string, unknown>) => notFoundError(START_ORDER_ERR.NOT_FOUND, message, details);

export function refused(code: string, message: string, statusCode: number, details?: Record<string, unknown>): PermanentError {
  const error = new PermanentError(code, message, { details });
  (error as PermanentError & { statusCode?: number }).statusCode = statusCode;
  return error;
}
