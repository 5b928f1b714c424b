/**
 * One function call, transport-free: request bytes + headers in, status + headers + body out.
 * The container's HTTP server (server.ts) and the local functions gateway (`trm functions`)
 * both call this, so a handler behaves the same under OpenFaaS and on a developer's machine.
 *
 * Call states: running → answered (succeed/fail called, or the handler settled) | timed out.
 * The first of these wins; later succeed/fail calls and return values are ignored.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { IncomingHttpHeaders } from 'node:http';
import type { FunctionContext, FunctionEvent, Handler, HandlerModule } from './types.ts';

/** Error codes answered by the runtime itself (docs/functions.md, "Error codes"). */
export const RUNTIME_ERRORS = {
  badJson: 'FN_ERR_BAD_JSON',
  tooLarge: 'FN_ERR_TOO_LARGE',
  internal: 'FN_ERR_INTERNAL',
  timeout: 'FN_ERR_TIMEOUT',
  noHandler: 'FN_ERR_NO_HANDLER',
} as const;

export interface FunctionRequest {
  method: string;
  /** path and query as received by the function, e.g. `/sub/path?x=1` */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface FunctionResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface InvokeOptions {
  env?: Readonly<Record<string, string | undefined>>;
  /** folder of OpenFaaS secrets; default /var/openfaas/secrets */
  secretsDir?: string;
  /** give up after this long with 504 (the local gateway's exec_timeout; of-watchdog does it in a container) */
  timeoutMs?: number;
  /** RAW_BODY=true: the handler gets the body as a Buffer whatever its Content-Type */
  rawBody?: boolean;
  /** called with errors the handler threw or failed with, for logs */
  onError?: (error: unknown, status: number) => void;
}

export function resolveHandler(mod: HandlerModule): Handler {
  const candidate = mod.handle ?? (typeof mod.default === 'function' ? mod.default : mod.default?.handle);
  if (typeof candidate !== 'function') throw Object.assign(new Error('the handler module exports neither `handle` nor a default function'), { code: RUNTIME_ERRORS.noHandler });
  return candidate;
}

/** Parses the body by Content-Type; a JSON body that does not parse is the caller's fault (400). */
export function parseBody(body: Buffer, contentType: string | undefined, raw = false): unknown {
  if (raw) return body;
  const type = (contentType ?? 'text/plain').split(';')[0].trim().toLowerCase();
  if (type === 'application/json' || type.endsWith('+json')) {
    if (body.length === 0) return undefined;
    try {
      return JSON.parse(body.toString('utf8'));
    } catch (cause) {
      throw new CodedError(RUNTIME_ERRORS.badJson, `request body is not valid JSON: ${(cause as Error).message}`, 400);
    }
  }
  if (type.startsWith('text/')) return body.toString('utf8');
  if (type === 'application/x-www-form-urlencoded') return Object.fromEntries(new URLSearchParams(body.toString('utf8')));
  return body;
}

/** An error that carries its HTTP status; the runtime's own errors use it. */
export class CodedError extends Error {
  readonly code: string;
  readonly statusCode: number;
  constructor(code: string, message: string, statusCode: number) {
    super(message);
    this.name = 'CodedError';
    this.code = code;
    this.statusCode = statusCode;
  }
}

/** A PermanentError from common/src/errors.ts or any class extending it, without importing it. */
function isPermanent(error: object): boolean {
  for (let proto = Object.getPrototypeOf(error); proto; proto = Object.getPrototypeOf(proto)) {
    if ((proto.constructor as { name?: string } | undefined)?.name === 'PermanentError') return true;
  }
  return (error as { name?: unknown }).name === 'PermanentError';
}

/** Maps a thrown value to `{ status, body }` (see types.ts for the rules). */
export function errorResponse(error: unknown, statusSoFar: number): { status: number; body: Record<string, unknown> } {
  const e = (error !== null && typeof error === 'object' ? error : { message: String(error) }) as { code?: unknown; message?: unknown; statusCode?: unknown; status?: unknown; details?: unknown };
  const own = typeof e.statusCode === 'number' ? e.statusCode : typeof e.status === 'number' ? e.status : undefined;
  let status: number;
  if (own !== undefined && own >= 400 && own <= 599) status = own;
  else if (error !== null && typeof error === 'object' && isPermanent(error)) status = 400;
  else if (statusSoFar >= 400) status = statusSoFar;
  else status = 500;
  const code = typeof e.code === 'string' && e.code !== '' ? e.code : status < 500 ? 'FN_ERR_BAD_INPUT' : RUNTIME_ERRORS.internal;
  const body: Record<string, unknown> = { code, message: typeof e.message === 'string' ? e.message : String(error) };
  if (e.details && typeof e.details === 'object') body.details = e.details;
  return { status, body };
}

function serialise(value: unknown, headers: Record<string, string>): Buffer {
  const hasType = Object.keys(headers).some((k) => k.toLowerCase() === 'content-type');
  const setType = (type: string) => {
    if (!hasType) headers['content-type'] = type;
  };
  if (value === undefined || value === null) return Buffer.alloc(0);
  if (Buffer.isBuffer(value)) {
    setType('application/octet-stream');
    return value;
  }
  if (value instanceof Uint8Array) {
    setType('application/octet-stream');
    return Buffer.from(value);
  }
  if (typeof value === 'string') {
    setType('text/plain; charset=utf-8');
    return Buffer.from(value, 'utf8');
  }
  setType('application/json');
  return Buffer.from(JSON.stringify(value), 'utf8');
}

function query(url: URL): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [key, value] of url.searchParams) {
    const seen = out[key];
    out[key] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return out;
}

async function readSecret(dir: string, name: string): Promise<string | undefined> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) return undefined;
  try {
    return (await readFile(join(dir, name), 'utf8')).trim();
  } catch {
    return undefined;
  }
}

export async function invoke(handler: Handler, request: FunctionRequest, options: InvokeOptions = {}): Promise<FunctionResponse> {
  const env = options.env ?? {};
  const secretsDir = options.secretsDir ?? '/var/openfaas/secrets';
  let status = 200;
  const headers: Record<string, string> = {};
  const controller = new AbortController();

  const errorAnswer = (error: unknown): FunctionResponse => {
    const mapped = errorResponse(error, status);
    options.onError?.(error, mapped.status);
    return { status: mapped.status, headers: { ...headers, 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(mapped.body)) };
  };

  const url = new URL(request.url || '/', 'http://function.local');
  let body: unknown;
  try {
    body = parseBody(request.body, headerValue(request.headers['content-type']), options.rawBody);
  } catch (error) {
    return errorAnswer(error);
  }
  const event: FunctionEvent = { body, rawBody: request.body, headers: request.headers, method: request.method.toUpperCase(), query: query(url), path: url.pathname || '/' };

  let settle!: (outcome: { value: unknown } | { error: unknown }) => void;
  const answered = new Promise<{ value: unknown } | { error: unknown }>((resolve) => {
    settle = resolve;
  });

  function status_(): number;
  function status_(code: number): FunctionContext;
  function status_(code?: number): number | FunctionContext {
    if (code === undefined) return status;
    if (!Number.isInteger(code) || code < 100 || code > 599) throw new RangeError(`invalid HTTP status ${code}`);
    status = code;
    return context;
  }
  function headers_(): Record<string, string>;
  function headers_(values: Record<string, string>): FunctionContext;
  function headers_(values?: Record<string, string>): Record<string, string> | FunctionContext {
    if (values === undefined) return { ...headers };
    for (const [key, value] of Object.entries(values)) headers[key.toLowerCase()] = String(value);
    return context;
  }
  const context: FunctionContext = {
    status: status_,
    headers: headers_,
    succeed(value) {
      settle({ value });
      return context;
    },
    fail(error) {
      settle({ error });
      return context;
    },
    callId: headerValue(request.headers['x-call-id']),
    env,
    secret: async (name, envFallback) => (await readSecret(secretsDir, name)) ?? (envFallback ? env[envFallback] : undefined),
    signal: controller.signal,
  };

  Promise.resolve()
    .then(() => handler(event, context))
    .then(
      (value) => settle({ value }),
      (error: unknown) => settle({ error }),
    );

  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    if (options.timeoutMs !== undefined && options.timeoutMs > 0) timer = setTimeout(() => resolve('timeout'), options.timeoutMs);
  });
  const outcome = await Promise.race([answered, timedOut]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    controller.abort(new CodedError(RUNTIME_ERRORS.timeout, 'the function timed out', 504));
    return errorAnswer(new CodedError(RUNTIME_ERRORS.timeout, `the function did not answer within ${options.timeoutMs} ms`, 504));
  }
  if ('error' in outcome) return errorAnswer(outcome.error);
  return { status, headers, body: serialise(outcome.value, headers) };
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
