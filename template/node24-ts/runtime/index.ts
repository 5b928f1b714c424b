/**
 * Container entry (template.yml `fprocess`): loads the handler and serves it on `http_port`
 * for of-watchdog. The only module of the runtime that reads process.env.
 *
 * Layout inside the image mirrors the repository, so a handler's relative imports of shared
 * code (`../src/…`, `../../common/src/…`) resolve the same way in both places:
 *   /home/app/template/node24-ts/runtime/   this folder
 *   /home/app/functions/handler/            the function's handler folder
 *   /home/app/functions/src/, /home/app/common/src/   stack.yml `configuration.copy`
 */
import { fileURLToPath } from 'node:url';
import { loadHandler } from './load.ts';
import { DEFAULT_MAX_BODY_BYTES, parseSize } from './http.ts';
import { createFunctionServer } from './server.ts';

const env = process.env;
const handlerDir = env.TRM_HANDLER_DIR ?? fileURLToPath(new URL('../../../functions/handler/', import.meta.url));
const port = Number(env.http_port ?? 3000);
const rawBody = /^true$/i.test(env.RAW_BODY ?? '');
const maxBodyBytes = parseSize(rawBody ? env.MAX_RAW_SIZE : env.MAX_JSON_SIZE, DEFAULT_MAX_BODY_BYTES);

function log(level: 'info' | 'error', msg: string, extra: Record<string, unknown> = {}): void {
  process.stderr.write(`${JSON.stringify({ level, time: new Date().toISOString(), svc: 'function', msg, ...extra })}\n`);
}

const handler = await loadHandler(handlerDir);
const server = createFunctionServer(handler, {
  maxBodyBytes,
  rawBody,
  env,
  secretsDir: env.secret_mount_path,
  onError: (error, status) => {
    const e = error as { code?: string; message?: string; stack?: string };
    log('error', 'call failed', { status, code: e?.code, err: status >= 500 ? e?.stack ?? String(error) : e?.message });
  },
});
const bound = await server.listen(port, '127.0.0.1');
log('info', 'function listening', { port: bound, handlerDir });

// of-watchdog sends SIGTERM and drains first; finish the calls in flight, then leave.
let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(1);
    stopping = true;
    const deadline = setTimeout(() => process.exit(1), 30_000);
    deadline.unref();
    void server.close().then(() => process.exit(0));
  });
}
process.on('uncaughtException', (error) => {
  log('error', 'uncaught exception, exiting', { err: error.stack });
  process.exit(1);
});
