/**
 * Consumes one BullMQ queue topic with a Worker (`concurrency` jobs at once). A job's data is
 * the function's JSON body. The connector retries calls itself (same policy as for streams),
 * so producers enqueue with one BullMQ attempt; after the last attempt the job gets its
 * dead-letter record and fails with an UnrecoverableError (visible as failed in BullMQ).
 *
 * A connector that dies mid-job leaves the job active with a lock that is no longer renewed;
 * after `lockDurationMs` another worker's stalled check moves it back to waiting and it is
 * delivered again (up to `maxStalledCount` times).
 */
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { createRedis, type Redis } from '../../common/src/redis.ts';
import { CONTROL_STREAM_MAXLEN, type RedisKeys } from '../../common/src/redis-keys.ts';
import { formatTopic, topicKey } from '../../common/src/triggers.ts';
import { deadLetterFields, deliver, type ConnectorMetrics } from './deliver.ts';
import type { RetryPolicy } from './invoker.ts';
import type { Route } from './routes.ts';

export interface QueueConsumerOptions {
  redisUrl: string;
  keys: RedisKeys;
  route: Route;
  gatewayUrl: string;
  concurrency: number;
  retry: RetryPolicy;
  lockDurationMs: number;
  stalledIntervalMs: number;
  log: Logger;
  metrics: ConnectorMetrics;
}

export interface QueueConsumer {
  start(): Promise<void>;
  close(deadlineMs: number): Promise<void>;
  kill(): Promise<void>;
  health(): { topic: string; inFlight: number; running: boolean };
}

export function createQueueConsumer(o: QueueConsumerOptions): QueueConsumer {
  const topic = formatTopic(o.route.topic);
  const queueName = topicKey(o.route.topic, o.keys);
  const log = o.log.child({ topic, queue: queueName });
  const controller = new AbortController();
  const connection: Redis = createRedis(o.redisUrl);
  let worker: Worker | undefined;
  let active = 0;

  async function process(job: Job): Promise<unknown> {
    active += 1;
    o.metrics.inFlight.inc(1, { topic });
    try {
      const source = `job:${job.id}`;
      const result = await deliver(o.route, job.data, source, { 'x-trm-job-id': String(job.id) }, { gatewayUrl: o.gatewayUrl, retry: o.retry, signal: controller.signal, log, metrics: o.metrics });
      if (result.abandoned || controller.signal.aborted) {
        // Stopping: the job must be neither completed nor failed. It stays active and, once its
        // lock expires, stalled → waiting → delivered again.
        await new Promise(() => {});
      }
      if (result.dead.length > 0) {
        for (const d of result.dead) {
          await connection.xadd(o.keys.connectorDead, 'MAXLEN', '~', String(CONTROL_STREAM_MAXLEN), '*', ...deadLetterFields(d, new Date()));
          o.metrics.deadLetters.inc(1, { function: d.function });
        }
        throw new UnrecoverableError(`dead-lettered: ${result.dead.map((d) => `${d.function} ${d.status || d.code}`).join(', ')}`);
      }
      return { ok: true };
    } finally {
      active -= 1;
      o.metrics.inFlight.dec(1, { topic });
    }
  }

  async function stop(abrupt: boolean, deadlineMs: number): Promise<void> {
    if (!worker) {
      connection.disconnect();
      return;
    }
    if (abrupt) {
      controller.abort(new Error('connector killed'));
      await worker.close(true);
      connection.disconnect();
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const graceful = worker.close();
    const late = await Promise.race([graceful.then(() => false), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), deadlineMs)))]);
    clearTimeout(timer);
    if (late) {
      log.warn({ inFlight: active }, 'jobs still running at the deadline; they will be redelivered');
      controller.abort(new Error('connector stopping'));
      await worker.close(true);
    }
    await connection.quit().catch(() => connection.disconnect());
  }

  let stopped: Promise<void> | undefined;
  return {
    async start() {
      worker = new Worker(queueName, process, {
        connection,
        prefix: o.keys.bullPrefix,
        concurrency: o.concurrency,
        lockDuration: o.lockDurationMs,
        stalledInterval: o.stalledIntervalMs,
        maxStalledCount: 10,
        autorun: false,
      });
      worker.on('error', (error) => log.error({ err: error }, 'worker error'));
      void worker.run().catch((error: unknown) => log.fatal({ err: error }, 'queue consumer stopped'));
      await worker.waitUntilReady();
      log.info({ functions: o.route.functions.map((f) => f.name), concurrency: o.concurrency }, 'consuming queue');
    },
    close(deadlineMs) {
      return (stopped ??= stop(false, deadlineMs));
    },
    kill() {
      return (stopped ??= stop(true, 0));
    },
    health: () => ({ topic, inFlight: active, running: Boolean(worker?.isRunning()) }),
  };
}
