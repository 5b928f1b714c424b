/**
 * db-writer error codes (docs/writer.md lists them) and the decision, by SQLSTATE class, of
 * what to do with a failed batch.
 */
import { isRetryable, TrmError } from '../../common/src/errors.ts';

export const WRITER_ERR_DB = 'WRITER_ERR_DB';
export const WRITER_ERR_REDIS = 'WRITER_ERR_REDIS';
export const WRITER_ERR_ABANDONED = 'WRITER_ERR_ABANDONED';

export type FailureKind = 'row' | 'retry';

// Data exceptions (22), integrity violations (23) and program limits (54) come from a value in
// the batch: retrying the same rows cannot help, so the sink isolates the row(s) and
// dead-letters them. Everything else (connection lost, admin shutdown, a missing table while
// someone migrates, …) is retried with backoff, holding the batch, because dead-lettering good
// fixes over an outage would lose data.
const ROW_SQLSTATE_CLASSES = ['22', '23', '54'];

export function classifyDbError(error: unknown): FailureKind {
  if (isRetryable(error)) return 'retry';
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && ROW_SQLSTATE_CLASSES.includes(code.slice(0, 2))) return 'row';
  return 'retry';
}

export function dbError(message: string, cause: unknown): TrmError {
  return new TrmError(WRITER_ERR_DB, message, { cause, retryable: classifyDbError(cause) === 'retry', details: { sqlstate: (cause as { code?: string })?.code } });
}
