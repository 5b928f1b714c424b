/**
 * Local functions gateway entrypoint (`trm functions`): the stack.yml functions on
 * FUNCTIONS_PORT with the OpenFaaS gateway's REST shape.
 */
import { defaults, loadConfig, port, str, type Env } from '../../common/src/config.ts';
import { once, runUntilSignal } from '../../common/src/lifecycle.ts';
import { createLogger, type Logger } from '../../common/src/log.ts';
import { buildFunctionsGateway, type FunctionsGateway } from './gateway.ts';
import { execTimeoutMs, loadStack, StackError } from './stack.ts';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const TEMPLATE_LANG = 'node24-ts';
const DEFAULT_STACK_FILE = join(fileURLToPath(new URL('../../', import.meta.url)), 'stack.yml');

const spec = {
  port: port('FUNCTIONS_PORT', defaults.functionsPort),
  host: str('FUNCTIONS_HOST', '127.0.0.1'),
  stackFile: str('TRM_STACK_FILE', DEFAULT_STACK_FILE),
  /** comma-separated function names to serve (default: all of stack.yml) */
  only: str('FUNCTIONS_ONLY', ''),
  logLevel: str('LOG_LEVEL', 'info'),
};

export interface FunctionsService {
  gateway: FunctionsGateway;
  port: number;
  log: Logger;
  close(): Promise<void>;
}

export async function startFunctionsService(env: Env, overrides: { log?: Logger } = {}): Promise<FunctionsService> {
  const config = loadConfig(spec, env);
  const log = overrides.log ?? createLogger('functions', { level: config.logLevel });
  const stack = await loadStack(config.stackFile, env);
  const only = config.only.split(',').map((s) => s.trim()).filter(Boolean);
  const functions = stack.functions.filter((f) => only.length === 0 || only.includes(f.name));
  for (const f of functions) if (f.lang !== TEMPLATE_LANG) throw new StackError(`function ${f.name}: lang ${f.lang} cannot run locally (only ${TEMPLATE_LANG})`);
  const gateway = await buildFunctionsGateway({
    functions: functions.map((f) => ({ name: f.name, handlerDir: f.handlerDir, environment: f.environment, annotations: f.annotations, labels: f.labels, image: f.image, timeoutMs: execTimeoutMs(f) })),
    log,
    env,
  });
  const bound = await gateway.listen(config.port, config.host);
  log.info({ port: bound, host: config.host, functions: functions.map((f) => f.name) }, 'functions gateway listening');
  return { gateway, port: bound, log, close: once(() => gateway.close()) };
}

export async function main(env: Env): Promise<number> {
  const service = await startFunctionsService(env);
  runUntilSignal(service, service.log, { deadlineMs: 70_000 });
  return new Promise<number>(() => {});
}
