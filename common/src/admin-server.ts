/**
 * The admin HTTP port every long-lived service exposes: `/healthz` (JSON, 200 or 503) and
 * `/metrics` (Prometheus text). node:http, so a daemon needs no web framework for it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from './metrics.ts';

export interface Health {
  ok: boolean;
  [key: string]: unknown;
}

export interface AdminServer {
  port: number;
  close(): Promise<void>;
}

export async function startAdminServer(options: { port: number; host?: string; registry: Registry; health: () => Health | Promise<Health> }): Promise<AdminServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405).end();
      return;
    }
    if (path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(options.registry.render());
      return;
    }
    if (path === '/healthz') {
      Promise.resolve()
        .then(() => options.health())
        .then(
          (h) => res.writeHead(h.ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(h)),
          (error: unknown) => res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: false, error: String(error) })),
        );
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'NOT_FOUND' }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  let closed: Promise<void> | undefined;
  return {
    port: (server.address() as AddressInfo).port,
    close() {
      closed ??= new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      return closed;
    },
  };
}
