/**
 * Connector configuration (ARCHITECTURE.md, "Environment"), loaded once by main.ts. The gateway
 * is OPENFAAS_URL when set, else the local one on FUNCTIONS_PORT.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaults, int, loadConfig, optionalUrl, port, str, url, type Env } from '../../common/src/config.ts';
import { ConnectorError } from './errors.ts';

export const DEFAULT_STACK_FILE = join(fileURLToPath(new URL('../../', import.meta.url)), 'stack.yml');

const spec = {
  redisUrl: url('REDIS_URL', defaults.redisUrl),
  /** key prefix of every stream and queue (a test or a second deployment on one Redis) */
  redisPrefix: str('TRM_REDIS_PREFIX', ''),
  openfaasUrl: optionalUrl('OPENFAAS_URL'),
  functionsPort: port('FUNCTIONS_PORT', defaults.functionsPort),
  stackFile: str('TRM_STACK_FILE', DEFAULT_STACK_FILE),
  adminPort: port('CONNECTOR_ADMIN_PORT', 5031),
  adminHost: str('CONNECTOR_ADMIN_HOST', '127.0.0.1'),
  /** consumer name in stream groups; stable across restarts so a restart re-reads its own pending */
  consumer: str('CONNECTOR_CONSUMER', hostname()),
  /** comma-separated function names to serve (default: every function with a topic) */
  only: str('CONNECTOR_FUNCTIONS', ''),
  concurrency: int('CONNECTOR_CONCURRENCY', 4, { min: 1, max: 256 }),
  maxAttempts: int('CONNECTOR_MAX_ATTEMPTS', 5, { min: 1, max: 100 }),
  backoffMs: int('CONNECTOR_BACKOFF_MS', 500, { min: 1 }),
  backoffMaxMs: int('CONNECTOR_BACKOFF_MAX_MS', 30_000, { min: 1 }),
  claimIdleMs: int('CONNECTOR_CLAIM_IDLE_MS', 60_000, { min: 100 }),
  lockDurationMs: int('CONNECTOR_LOCK_MS', 30_000, { min: 1000 }),
  drainMs: int('CONNECTOR_DRAIN_MS', 10_000, { min: 0 }),
  logLevel: str('LOG_LEVEL', 'info'),
};

export type ConnectorConfig = ReturnType<typeof loadConnectorConfig>;

export function loadConnectorConfig(env: Env) {
  const config = loadConfig(spec, env);
  if (!config.openfaasUrl && config.functionsPort === 0) throw new ConnectorError('CONNECTOR_ERR_NO_GATEWAY', 'FUNCTIONS_PORT=0 gives no gateway address to call: set OPENFAAS_URL or a fixed FUNCTIONS_PORT');
  const gatewayUrl = config.openfaasUrl ?? `http://127.0.0.1:${config.functionsPort}`;
  const only = config.only.split(',').map((s) => s.trim()).filter(Boolean);
  return { ...config, gatewayUrl: gatewayUrl.replace(/\/+$/, ''), only: only.length ? only : undefined };
}
