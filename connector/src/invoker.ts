/**
 * One trigger → one function call through the gateway, with the connector's retry policy:
 *
 *   2xx                               done
 *   408, 429, 5xx except 501,
 *   network error, timeout            retried with exponential backoff (equal jitter)
 *   other 4xx, 501                    not retried: retrying cannot change the answer
 *
 * After the last attempt, or at once for a non-retryable answer, the outcome is `dead` and the
 * caller writes a dead-letter record. A call cut short because the connector is stopping is
 * `abandoned`: its trigger stays unacknowledged and is delivered again.
 */

export type Outcome = 'ok' | 'dead' | 'abandoned';

export interface InvokeResult {
  outcome: Outcome;
  attempts: number;
  /** HTTP status of the last answer; undefined after a network error */
  status?: number;
  /** `code` of the last answer's JSON body, or the network error's code */
  code?: string;
  /** last error: the answer's message or body text, or the network error */
  error?: string;
}

export interface RetryPolicy {
  maxAttempts: number;
  /** first backoff; doubles each attempt */
  backoffMs: number;
  backoffMaxMs: number;
}

export interface CallSpec {
  gatewayUrl: string;
  fn: string;
  body: string;
  headers: Record<string, string>;
  timeoutMs: number;
}

export type Classification = 'ok' | 'retry' | 'fail';

export function classifyStatus(status: number): Classification {
  if (status >= 200 && status < 300) return 'ok';
  if (status === 408 || status === 429) return 'retry';
  if (status === 501) return 'fail';
  if (status >= 500) return 'retry';
  return 'fail';
}

/** Backoff before attempt `attempt + 1`: base·2^(attempt-1), capped, with equal jitter. */
export function backoffMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.backoffMaxMs, policy.backoffMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function describeAnswer(text: string): { code?: string; error: string } {
  try {
    const body = JSON.parse(text) as { code?: unknown; message?: unknown };
    if (body && typeof body === 'object') return { code: typeof body.code === 'string' ? body.code : undefined, error: typeof body.message === 'string' ? body.message : text.slice(0, 2000) };
  } catch {
    // not JSON
  }
  return { error: text.slice(0, 2000) };
}

function networkCode(error: unknown): string {
  const e = error as { name?: string; code?: string; cause?: { code?: string } };
  if (e?.name === 'TimeoutError') return 'CONNECTOR_ERR_TIMEOUT';
  return e?.cause?.code ?? e?.code ?? 'CONNECTOR_ERR_NETWORK';
}

export interface AttemptReport {
  attempt: number;
  status?: number;
  code?: string;
  durationMs: number;
  willRetry: boolean;
  delayMs?: number;
}

export async function invokeWithRetry(spec: CallSpec, policy: RetryPolicy, signal: AbortSignal, onAttempt?: (report: AttemptReport) => void): Promise<InvokeResult> {
  const url = `${spec.gatewayUrl.replace(/\/+$/, '')}/function/${encodeURIComponent(spec.fn)}`;
  let last: InvokeResult = { outcome: 'dead', attempts: 0 };
  for (let attempt = 1; attempt <= policy.maxAttempts; attempt++) {
    if (signal.aborted) return { ...last, outcome: 'abandoned' };
    const started = performance.now();
    let verdict: Classification;
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...spec.headers },
        body: spec.body,
        signal: AbortSignal.any([signal, AbortSignal.timeout(spec.timeoutMs)]),
      });
      const text = await res.text();
      verdict = classifyStatus(res.status);
      last = verdict === 'ok' ? { outcome: 'ok', attempts: attempt, status: res.status } : { outcome: 'dead', attempts: attempt, status: res.status, ...describeAnswer(text) };
    } catch (error) {
      if (signal.aborted) return { ...last, attempts: attempt, outcome: 'abandoned' };
      verdict = 'retry';
      last = { outcome: 'dead', attempts: attempt, code: networkCode(error), error: error instanceof Error ? `${error.message}${error.cause instanceof Error ? `: ${error.cause.message}` : ''}` : String(error) };
    }
    const willRetry = verdict === 'retry' && attempt < policy.maxAttempts;
    const delay = willRetry ? backoffMs(policy, attempt) : undefined;
    onAttempt?.({ attempt, status: last.status, code: last.code, durationMs: performance.now() - started, willRetry, delayMs: delay });
    if (verdict === 'ok' || !willRetry) return last;
    try {
      await sleep(delay ?? 0, signal);
    } catch {
      return { ...last, outcome: 'abandoned' };
    }
  }
  return last;
}
