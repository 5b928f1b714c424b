/**
 * The local functions gateway (`trm functions`): the OpenFaaS gateway's REST shape on one
 * port, running each function's handler in this process through the node24-ts template's own
 * runtime (template/node24-ts/runtime/invoke.ts), as the container does behind of-watchdog.
 *
 *   ANY  /function/<name>[.<namespace>][/sub/path]   synchronous call
 *   POST /async-function/<name>[...]                 202 + X-Call-Id; result POSTed to X-Callback-Url
 *   GET  /system/functions, /system/function/<name>  what is deployed (with annotations)
 *   GET  /healthz
 *
 * Each call gets the function's exec_timeout (504 past it), X-Call-Id and X-Duration-Seconds,
 * like of-watchdog behind the OpenFaaS gateway.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { invoke, type FunctionResponse } from '../../template/node24-ts/runtime/invoke.ts';
import { bodyErrorResponse, DEFAULT_MAX_BODY_BYTES, readBody, writeJson, writeResponse } from '../../template/node24-ts/runtime/http.ts';
import { loadHandler } from '../../template/node24-ts/runtime/load.ts';
import type { Handler } from '../../template/node24-ts/runtime/types.ts';

/** Error codes of the gateway itself (docs/functions.md). */
export const GATEWAY_ERRORS = {
  unknownFunction: 'FN_ERR_UNKNOWN_FUNCTION',
  notFound: 'FN_ERR_NOT_FOUND',
  method: 'FN_ERR_METHOD_NOT_ALLOWED',
} as const;

export interface GatewayFunction {
  name: string;
  handlerDir: string;
  /** stack.yml `environment`, laid over the gateway's own environment */
  environment?: Record<string, string>;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
  image?: string;
  /** exec_timeout; 0 = none */
  timeoutMs?: number;
}

export interface CallRecord {
  function: string;
  callId: string;
  async: boolean;
  status: number;
  durationMs: number;
  body: unknown;
}

export interface GatewayOptions {
  functions: GatewayFunction[];
  log: Logger;
  /** the gateway's environment, base of every function's */
  env: Readonly<Record<string, string | undefined>>;
  maxBodyBytes?: number;
  secretsDir?: string;
  /** observes every finished call (tests, metrics) */
  onCall?: (call: CallRecord) => void;
}

export interface FunctionsGateway {
  server: http.Server;
  listen(port: number, host?: string): Promise<number>;
  /** stops accepting, waits for sync and async calls in flight (and their callbacks); idempotent */
  close(): Promise<void>;
}

interface Loaded {
  spec: GatewayFunction;
  handler: Handler;
  env: Readonly<Record<string, string | undefined>>;
  invocations: number;
}

/** `/function/name.ns/a/b?x` → { name, path: '/a/b?x' } */
export function splitFunctionPath(rest: string): { name: string; path: string } {
  const slash = rest.indexOf('/');
  const query = rest.indexOf('?');
  const end = [slash, query].filter((i) => i >= 0).reduce((a, b) => Math.min(a, b), rest.length);
  const qualified = decodeURIComponent(rest.slice(0, end));
  const name = qualified.split('.')[0];
  let path = rest.slice(end);
  if (!path.startsWith('/')) path = `/${path}`;
  return { name, path };
}

export async function buildFunctionsGateway(options: GatewayOptions): Promise<FunctionsGateway> {
  const log = options.log;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const functions = new Map<string, Loaded>();
  for (const spec of options.functions) {
    const handler = await loadHandler(spec.handlerDir);
    functions.set(spec.name, { spec, handler, env: { ...options.env, ...(spec.environment ?? {}) }, invocations: 0 });
  }
  const background = new Set<Promise<void>>();

  async function call(fn: Loaded, req: http.IncomingMessage, body: Buffer, path: string, callId: string): Promise<FunctionResponse & { durationMs: number }> {
    const started = performance.now();
    fn.invocations += 1;
    const response = await invoke(fn.handler, { method: req.method ?? 'POST', url: path, headers: { ...req.headers, 'x-call-id': callId }, body }, {
      env: fn.env,
      secretsDir: options.secretsDir,
      timeoutMs: fn.spec.timeoutMs,
      onError: (error, status) => {
        const level = status >= 500 ? 'error' : 'info';
        log[level]({ fn: fn.spec.name, callId, status, err: error }, 'function call failed');
      },
    });
    return { ...response, durationMs: performance.now() - started };
  }

  function record(fn: Loaded, callId: string, isAsync: boolean, response: FunctionResponse & { durationMs: number }): void {
    if (!options.onCall) return;
    let body: unknown = response.body.toString('utf8');
    try {
      body = JSON.parse(body as string);
    } catch {
      // not JSON: keep the text
    }
    options.onCall({ function: fn.spec.name, callId, async: isAsync, status: response.status, durationMs: response.durationMs, body });
  }

  function describe(fn: Loaded) {
    return {
      name: fn.spec.name,
      image: fn.spec.image ?? '',
      namespace: 'openfaas-fn',
      envProcess: 'node template/node24-ts/runtime/index.ts',
      envVars: fn.spec.environment ?? {},
      labels: fn.spec.labels ?? {},
      annotations: fn.spec.annotations ?? {},
      replicas: 1,
      availableReplicas: 1,
      invocationCount: fn.invocations,
    };
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const method = req.method ?? 'GET';
    const pathOnly = url.split('?')[0];
    if (pathOnly === '/healthz') {
      writeJson(res, 200, { ok: true, functions: [...functions.keys()] });
      return;
    }
    if (pathOnly === '/system/functions' && method === 'GET') {
      writeJson(res, 200, [...functions.values()].map(describe));
      return;
    }
    if (pathOnly.startsWith('/system/function/') && method === 'GET') {
      const fn = functions.get(splitFunctionPath(pathOnly.slice('/system/function/'.length)).name);
      if (fn) writeJson(res, 200, describe(fn));
      else writeJson(res, 404, { code: GATEWAY_ERRORS.unknownFunction, message: 'no such function' });
      return;
    }
    const isAsync = url.startsWith('/async-function/');
    if (!isAsync && !url.startsWith('/function/')) {
      writeJson(res, 404, { code: GATEWAY_ERRORS.notFound, message: `no route for ${method} ${pathOnly}` });
      return;
    }
    const { name, path } = splitFunctionPath(url.slice(isAsync ? '/async-function/'.length : '/function/'.length));
    const fn = functions.get(name);
    if (!fn) {
      req.resume();
      writeJson(res, 404, { code: GATEWAY_ERRORS.unknownFunction, message: `function "${name}" is not deployed`, function: name });
      return;
    }
    if (isAsync && method !== 'POST') {
      req.resume();
      writeJson(res, 405, { code: GATEWAY_ERRORS.method, message: 'async calls are POST' });
      return;
    }
    let body: Buffer;
    try {
      body = await readBody(req, maxBodyBytes);
    } catch (error) {
      writeResponse(res, bodyErrorResponse(error), { connection: 'close' });
      return;
    }
    const given = req.headers['x-call-id'];
    const callId = (Array.isArray(given) ? given[0] : given) || randomUUID();
    if (!isAsync) {
      const response = await call(fn, req, body, path, callId);
      record(fn, callId, false, response);
      writeResponse(res, response, { 'x-call-id': callId, 'x-duration-seconds': (response.durationMs / 1000).toFixed(6) });
      return;
    }
    const callbackHeader = req.headers['x-callback-url'];
    const callbackUrl = Array.isArray(callbackHeader) ? callbackHeader[0] : callbackHeader;
    res.writeHead(202, { 'x-call-id': callId, 'content-length': '0' }).end();
    const job = (async () => {
      const response = await call(fn, req, body, path, callId);
      record(fn, callId, true, response);
      if (!callbackUrl) return;
      try {
        const answer = await fetch(callbackUrl, {
          method: 'POST',
          headers: {
            ...response.headers,
            'x-call-id': callId,
            'x-function-status': String(response.status),
            'x-function-name': fn.spec.name,
            'x-duration-seconds': (response.durationMs / 1000).toFixed(6),
          },
          body: response.body,
          signal: AbortSignal.timeout(30_000),
        });
        await answer.arrayBuffer();
        if (!answer.ok) log.warn({ fn: fn.spec.name, callId, status: answer.status }, 'async callback refused');
      } catch (error) {
        log.warn({ fn: fn.spec.name, callId, err: error }, 'async callback failed');
      }
    })();
    background.add(job);
    void job.finally(() => background.delete(job));
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      log.error({ err: error, url: req.url }, 'gateway request failed');
      if (!res.headersSent) writeJson(res, 500, { code: 'FN_ERR_INTERNAL', message: 'gateway error' });
      else res.destroy();
    });
  });

  let closing: Promise<void> | undefined;
  return {
    server,
    listen(port, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
      });
    },
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await closed;
        await Promise.allSettled([...background]);
      })();
      return closing;
    },
  };
}
