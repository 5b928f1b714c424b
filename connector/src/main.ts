/**
 * Connector entrypoint: config, stack.yml routes, the consumers, the admin port, signals.
 * `trm connector` calls main().
 */
import { startAdminServer, type AdminServer } from '../../common/src/admin-server.ts';
import type { Env } from '../../common/src/config.ts';
import { once, runUntilSignal } from '../../common/src/lifecycle.ts';
import { createLogger, type Logger } from '../../common/src/log.ts';
import { redisKeys } from '../../common/src/redis-keys.ts';
import { formatTopic } from '../../common/src/triggers.ts';
import { loadLiveTimingConfig } from '../../functions/src/recompute/config.ts';
import { createLiveTiming } from '../../functions/src/recompute/live-timing.ts';
import { loadStack } from '../../functions/gateway/stack.ts';
import { startCommandStatus, type CommandStatusConsumer } from '../../functions/src/route-command/status-consumer.ts';
import { loadConnectorConfig, type ConnectorConfig } from './config.ts';
import { buildConnector, type Connector } from './connector.ts';
import { ConnectorError } from './errors.ts';
import { routesFromStack } from './routes.ts';

export interface ConnectorService {
  config: ConnectorConfig;
  connector: Connector;
  admin: AdminServer;
  /** device command statuses back into Directus (issue #10), when route-command is served */
  commandStatus: CommandStatusConsumer | undefined;
  log: Logger;
  close(): Promise<void>;
}

export async function startConnectorService(env: Env, overrides: { log?: Logger } = {}): Promise<ConnectorService> {
  const config = loadConnectorConfig(env);
  const log = overrides.log ?? createLogger('connector', { level: config.logLevel });
  const stack = await loadStack(config.stackFile, env);
  const routes = routesFromStack(stack, config.only);
  if (routes.length === 0) throw new ConnectorError('CONNECTOR_ERR_BAD_STACK', `${config.stackFile}: no function has a topic annotation${config.only ? ` among ${config.only.join(', ')}` : ''}`);
  const connector = buildConnector({
    redisUrl: config.redisUrl,
    keys: redisKeys(config.redisPrefix),
    routes,
    gatewayUrl: config.gatewayUrl,
    log,
    consumer: config.consumer,
    concurrency: config.concurrency,
    retry: { maxAttempts: config.maxAttempts, backoffMs: config.backoffMs, backoffMaxMs: config.backoffMaxMs },
    claimIdleMs: config.claimIdleMs,
    lockDurationMs: config.lockDurationMs,
    stalledIntervalMs: Math.max(500, Math.floor(config.lockDurationMs / 2)),
  });
  await connector.start();
  const keys = redisKeys(config.redisPrefix);
  const commandStatus = routes.some((r) => r.functions.some((f) => f.name === 'route-command')) ? await startCommandStatus(env, { redisUrl: config.redisUrl, keys, consumer: config.consumer, log }) : undefined;
  // live timing (issue 6, functions/src/recompute/live-timing.ts): committed windows → device recomputes
  const liveConfig = loadLiveTimingConfig(env);
  const liveTiming = liveConfig.enabled ? createLiveTiming({ ...liveConfig, keys: redisKeys(liveConfig.redisPrefix), log, consumer: config.consumer }) : undefined;
  await liveTiming?.start();
  const admin = await startAdminServer({ port: config.adminPort, host: config.adminHost, registry: connector.registry, health: () => ({ ...connector.health(), ...(commandStatus ? { commandStatus: commandStatus.health() } : {}) }) });
  log.info({ adminPort: admin.port, gateway: config.gatewayUrl, topics: routes.map((r) => `${formatTopic(r.topic)} → ${r.functions.map((f) => f.name).join(',')}`) }, 'connector ready');
  const close = once(async () => {
    await liveTiming?.close();
    await connector.close(config.drainMs);
    await commandStatus?.close();
    await admin.close();
  });
  return { config, connector, admin, commandStatus, log, close };
}

/** Runs until SIGTERM/SIGINT (drain, then exit 0) or an unexpected failure (exit 1). */
export async function main(env: Env): Promise<number> {
  const service = await startConnectorService(env);
  runUntilSignal(service, service.log, { deadlineMs: service.config.drainMs + 2000 });
  return new Promise<number>(() => {});
}
