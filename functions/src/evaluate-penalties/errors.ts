/**
 * Error codes of evaluate-penalties (docs/penalties.md, "Function"). The core's PEN_ERR_* codes
 * (bad rule params, unknown evaluator, conflicting rules) pass through as PermanentErrors (400).
 */
import { notFoundError } from '../directus-io/errors.ts';

export const PENALTIES_ERR = {
  /** the event, stage or entry of the request does not exist */
  NOT_FOUND: 'PENALTIES_ERR_NOT_FOUND',
  /** a Directus request failed (retryable on 5xx, 429, network, a concurrent create) */
  DIRECTUS: 'PENALTIES_ERR_DIRECTUS',
} as const;

export const notFound = (message: string, details?: Record<string, unknown>) => notFoundError(PENALTIES_ERR.NOT_FOUND, message, details);
