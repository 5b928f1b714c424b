/**
 * Error codes of the safety service (docs/safety.md, "Error codes"). Retryable vs permanent is
 * decided here for Directus answers and by common/src/errors.ts's table for pg, Redis, fetch.
 */
import { PermanentError, TrmError, type TrmErrorOptions } from '../../common/src/errors.ts';

export const SAFETY_ERR_DIRECTUS = 'SAFETY_ERR_DIRECTUS';
export const SAFETY_ERR_DIRECTUS_REJECTED = 'SAFETY_ERR_DIRECTUS_REJECTED';
export const SAFETY_ERR_DUPLICATE_OPEN = 'SAFETY_ERR_DUPLICATE_OPEN';
export const SAFETY_ERR_COURSE_LOAD = 'SAFETY_ERR_COURSE_LOAD';
export const SAFETY_ERR_DRAIN_DEADLINE = 'SAFETY_ERR_DRAIN_DEADLINE';

/** Directus unreachable, timed out or 5xx / 429: the write is retried. */
export function directusUnavailable(message: string, options: TrmErrorOptions = {}): TrmError {
  return new TrmError(SAFETY_ERR_DIRECTUS, message, { ...options, retryable: true });
}

/** Directus refused the write (4xx other than the hook's dedup answer): logged, not retried. */
export function directusRejected(message: string, details: Record<string, unknown>): PermanentError {
  return new PermanentError(SAFETY_ERR_DIRECTUS_REJECTED, message, { details });
}

/** The trm-safety hook says an alert with this key is still open (409 SAFETY_DUPLICATE_OPEN). */
export class DuplicateOpenError extends PermanentError {
  readonly alertId: number | null;
  constructor(key: string, alertId: number | null) {
    super(SAFETY_ERR_DUPLICATE_OPEN, `alert ${key} is already open${alertId === null ? '' : ` (#${alertId})`}`, { details: { key, alertId } });
    this.name = 'DuplicateOpenError';
    this.alertId = alertId;
  }
}

export function courseLoadFailed(cause: unknown): TrmError {
  return new TrmError(SAFETY_ERR_COURSE_LOAD, 'loading events, stages, entries and flags failed', { cause, retryable: true });
}

export function drainDeadline(cause: unknown): TrmError {
  return new TrmError(SAFETY_ERR_DRAIN_DEADLINE, 'stopping: an alert write was still failing at the drain deadline; its records stay pending', { cause, retryable: true });
}
