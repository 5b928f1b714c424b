/**
 * The function's HTTP server inside the container: of-watchdog (http mode) forwards every
 * request, any method and any path, to it on `http_port`. One handler per server.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { invoke, type InvokeOptions } from './invoke.ts';
import { bodyErrorResponse, readBody, writeResponse } from './http.ts';
import type { Handler } from './types.ts';

export interface FunctionServerOptions extends InvokeOptions {
  maxBodyBytes: number;
}

export interface FunctionServer {
  server: http.Server;
  listen(port: number, host?: string): Promise<number>;
  /** stops accepting, waits for calls in flight; idempotent */
  close(): Promise<void>;
}

export function createFunctionServer(handler: Handler, options: FunctionServerOptions): FunctionServer {
  const server = http.createServer((req, res) => {
    readBody(req, options.maxBodyBytes).then(
      async (body) => writeResponse(res, await invoke(handler, { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body }, options)),
      (error: unknown) => writeResponse(res, bodyErrorResponse(error), { connection: 'close' }),
    ).catch((error: unknown) => {
      options.onError?.(error, 500);
      if (!res.headersSent) res.writeHead(500).end();
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
      closing ??= new Promise((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
