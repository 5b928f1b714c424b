/**
 * `trm connector`: turns the triggers named by stack.yml's `topic` annotations (Redis streams
 * and BullMQ queues) into calls on the functions gateway: the local one (`trm functions`) or a
 * real OpenFaaS gateway. One consumer per topic; see stream-consumer.ts and queue-consumer.ts
 * for delivery, deliver.ts and invoker.ts for retries and dead letters.
 */
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Health } from '../../common/src/admin-server.ts';
import { Registry } from '../../common/src/metrics.ts';
import type { RedisKeys } from '../../common/src/redis-keys.ts';
import { connectorMetrics } from './deliver.ts';
import type { RetryPolicy } from './invoker.ts';
import { createQueueConsumer } from './queue-consumer.ts';
import type { Route } from './routes.ts';
import { createStreamConsumer, type StreamConsumer } from './stream-consumer.ts';

export interface ConnectorOptions {
  redisUrl: string;
  keys: RedisKeys;
  routes: Route[];
  gatewayUrl: string;
  log: Logger;
  /** consumer name in the stream groups; stable across restarts (host name by default) */
  consumer?: string;
  /** deliveries in flight per topic */
  concurrency?: number;
  retry?: Partial<RetryPolicy>;
  /** a stream entry pending this long in another consumer is taken over */
  claimIdleMs?: number;
  blockMs?: number;
  /** BullMQ job lock; a dead connector's job is redelivered after it */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  registry?: Registry;
}

export interface Connector {
  registry: Registry;
  start(): Promise<void>;
  /** stop taking triggers, finish deliveries until the deadline; idempotent */
  close(deadlineMs?: number): Promise<void>;
  /** stop at once without acknowledging anything, as a crash would (tests) */
  kill(): Promise<void>;
  health(): Health;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 5, backoffMs: 500, backoffMaxMs: 30_000 };

export function buildConnector(o: ConnectorOptions): Connector {
  const registry = o.registry ?? new Registry('trm_connector_');
  const metrics = connectorMetrics(registry);
  const retry: RetryPolicy = { ...DEFAULT_RETRY, ...o.retry };
  const concurrency = o.concurrency ?? 4;
  const log = o.log;
  const consumers: Pick<StreamConsumer, 'start' | 'close' | 'kill' | 'health'>[] = o.routes.map((route) =>
    route.topic.kind === 'stream'
      ? createStreamConsumer({ redisUrl: o.redisUrl, keys: o.keys, route, consumer: o.consumer ?? hostname(), gatewayUrl: o.gatewayUrl, concurrency, retry, claimIdleMs: o.claimIdleMs ?? 60_000, blockMs: o.blockMs ?? 2_000, log, metrics })
      : createQueueConsumer({ redisUrl: o.redisUrl, keys: o.keys, route, gatewayUrl: o.gatewayUrl, concurrency, retry, lockDurationMs: o.lockDurationMs ?? 30_000, stalledIntervalMs: o.stalledIntervalMs ?? 15_000, log, metrics }),
  );
  let state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  let closing: Promise<void> | undefined;

  return {
    registry,
    async start() {
      if (state !== 'new') throw new Error(`connector already ${state}`);
      state = 'running';
      await Promise.all(consumers.map((c) => c.start()));
      log.info({ gateway: o.gatewayUrl, topics: o.routes.length, concurrency, retry }, 'connector started');
    },
    close(deadlineMs = 10_000) {
      closing ??= (async () => {
        state = 'stopping';
        await Promise.all(consumers.map((c) => c.close(deadlineMs)));
        state = 'stopped';
      })();
      return closing;
    },
    kill() {
      closing ??= (async () => {
        state = 'stopping';
        await Promise.all(consumers.map((c) => c.kill()));
        state = 'stopped';
      })();
      return closing;
    },
    health() {
      const topics = consumers.map((c) => c.health());
      return { ok: state === 'running' && topics.every((t) => t.running), state, gateway: o.gatewayUrl, topics };
    },
  };
}
