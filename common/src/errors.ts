/**
 * Coded, chained errors shared by every package. A package defines its own codes
 * (`INGEST_ERR_BAD_CRC`, `GW_ERR_FORBIDDEN`, ...) in its own errors.ts on top of these classes;
 * docs/errors.md lists every code.
 */

export interface TrmErrorOptions {
  cause?: unknown;
  /** true when trying the same thing again later may succeed (network, lock, outage) */
  retryable?: boolean;
  /** extra structured context for logs and API answers; never secrets */
  details?: Record<string, unknown>;
}

export class TrmError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: string, message: string, options: TrmErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TrmError';
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.details = options.details;
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) };
  }
}

/** Bad input: retrying cannot help, queues must not retry it (HTTP 400/422 semantics). */
export class PermanentError extends TrmError {
  constructor(code: string, message: string, options: Omit<TrmErrorOptions, 'retryable'> = {}) {
    super(code, message, { ...options, retryable: false });
    this.name = 'PermanentError';
  }
}

// SQLSTATE classes that are worth retrying: connection exceptions, serialization failures and
// deadlocks, insufficient resources, operator intervention (admin shutdown, crash recovery).
// https://www.postgresql.org/docs/15/errcodes-appendix.html
const RETRYABLE_SQLSTATE_PREFIXES = ['08', '40', '53', '57', '58'];
// errno values of a peer that went away or is not there yet.
const RETRYABLE_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND']);
// Redis replies that mean "not now" rather than "never".
const RETRYABLE_REDIS_PREFIXES = ['LOADING', 'BUSY', 'TRYAGAIN', 'CLUSTERDOWN', 'MASTERDOWN', 'READONLY'];

/** Decides, by table, whether an error from pg, ioredis, fetch or node:net may succeed later. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof TrmError) return error.retryable;
  if (!error || typeof error !== 'object') return false;
  const e = error as { code?: unknown; message?: unknown; cause?: unknown; name?: unknown };
  const code = typeof e.code === 'string' ? e.code : undefined;
  if (code && /^[0-9A-Z]{5}$/.test(code) && !RETRYABLE_ERRNO.has(code)) {
    return RETRYABLE_SQLSTATE_PREFIXES.some((p) => code.startsWith(p));
  }
  if (code && RETRYABLE_ERRNO.has(code)) return true;
  const message = typeof e.message === 'string' ? e.message : '';
  if (RETRYABLE_REDIS_PREFIXES.some((p) => message.startsWith(p))) return true;
  if (/Connection is closed|Connection terminated|ECONNREFUSED|socket hang up|Client network socket disconnected|terminating connection/i.test(message)) return true;
  if (e.name === 'AbortError' || e.name === 'TimeoutError') return true;
  if (e.cause && e.cause !== error) return isRetryable(e.cause);
  return false;
}

/** Message of an unknown thrown value, for logs. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
