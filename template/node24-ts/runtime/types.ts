/**
 * The handler contract of the node24-ts template (docs/functions.md, "Handler contract").
 *
 *   export async function handle(event: FunctionEvent, context: FunctionContext): Promise<unknown>
 *
 * The value the handler returns is the response body unless it called `context.succeed()` or
 * `context.fail()` first: a string is sent as text, a Buffer as bytes, `undefined` as an empty
 * body, anything else as JSON. `context.status()` and `context.headers()` set the status
 * (default 200) and response headers and are chainable. A thrown error (or `context.fail(err)`)
 * answers `{ code, message }` as JSON: 400 for a `PermanentError` (bad input, not worth a retry),
 * the error's own `statusCode` when it carries one (400–599), 500 otherwise.
 */
import type { IncomingHttpHeaders } from 'node:http';

export interface FunctionEvent {
  /** parsed by Content-Type: JSON → value, text/* or none → string, form → object, else Buffer */
  body: unknown;
  /** the request bytes as received */
  rawBody: Buffer;
  headers: IncomingHttpHeaders;
  method: string;
  /** query string values; a repeated key gives an array */
  query: Record<string, string | string[]>;
  /** the path below /function/<name> (OpenFaaS forwards sub-paths), `/` at least */
  path: string;
}

export interface FunctionContext {
  /** the status set so far (default 200) */
  status(): number;
  status(code: number): FunctionContext;
  /** the response headers set so far */
  headers(): Record<string, string>;
  headers(values: Record<string, string>): FunctionContext;
  /** answer with this body now; a later return value is ignored */
  succeed(value?: unknown): FunctionContext;
  /** answer with this error now (same mapping as a thrown error) */
  fail(error: unknown): FunctionContext;
  /** the gateway's X-Call-Id, when it sent one */
  readonly callId: string | undefined;
  /** the function's environment (stack.yml `environment`); read config here, not from process.env */
  readonly env: Readonly<Record<string, string | undefined>>;
  /**
   * An OpenFaaS secret (`/var/openfaas/secrets/<name>`, trimmed); when the file is absent (local
   * gateway, tests), the environment variable `envFallback` instead.
   */
  secret(name: string, envFallback?: string): Promise<string | undefined>;
  /** aborted when the call outlives its timeout (the caller already got 504) */
  readonly signal: AbortSignal;
}

export type Handler = (event: FunctionEvent, context: FunctionContext) => unknown;

/** What the runtime needs of a handler module: `export function handle` or a default export. */
export interface HandlerModule {
  handle?: Handler;
  default?: Handler | { handle?: Handler };
}
