/**
 * The recompute's adapters assembled once per process (function handler, `trm recompute`,
 * benchmarks, tests): a pg pool for fixes, the compute workers, the Directus client, and the
 * BullMQ queue that triggers penalty evaluation. `close()` is idempotent.
 */
import { Queue } from 'bullmq';
import { createPool } from '../../../common/src/pg.ts';
import { createRedis, type Redis } from '../../../common/src/redis.ts';
import { redisKeys } from '../../../common/src/redis-keys.ts';
import { enqueuePenaltyEvaluation, type RecomputeRequest } from '../../../common/src/triggers.ts';
import { createComputePool } from './compute-pool.ts';
import type { RecomputeConfig } from './config.ts';
import { directusApi, type DirectusApi } from './directus-api.ts';
import { runRecompute, type ProgressEvent, type RecomputeDeps, type RecomputeSummary } from './recompute.ts';

export interface RecomputeService {
  api: DirectusApi;
  run(request: RecomputeRequest, options?: { onProgress?: (event: ProgressEvent) => void; now?: () => number }): Promise<RecomputeSummary>;
  close(): Promise<void>;
}

export function createRecomputeService(config: RecomputeConfig, overrides: Partial<RecomputeDeps> = {}): RecomputeService {
  const pool = createPool(config.databaseUrl, {}, { max: config.poolSize, application_name: 'trm recompute' });
  const api = directusApi({ url: config.directusUrl, token: config.directusToken });
  const keys = redisKeys(config.redisPrefix);
  const compute = createComputePool({ size: config.workers });
  let redis: Redis | undefined;
  let queue: Queue | undefined;
  const penalties = config.penalties
    ? async (request: Parameters<typeof enqueuePenaltyEvaluation>[2]) => {
        redis ??= createRedis(config.redisUrl);
        queue ??= new Queue(keys.queues.penalties, { connection: redis, prefix: keys.bullPrefix });
        return enqueuePenaltyEvaluation(queue, keys, request);
      }
    : undefined;
  let closing: Promise<void> | undefined;
  return {
    api,
    run(request, options = {}) {
      return runRecompute({ api, pool, penalties, compute, concurrency: config.concurrency, span: { preStartMs: config.preStartS * 1000 }, ...overrides, ...options }, request);
    },
    close() {
      closing ??= (async () => {
        await queue?.close().catch(() => undefined);
        if (redis) await redis.quit().catch(() => redis?.disconnect());
        await compute.close();
        await pool.end();
      })();
      return closing;
    },
  };
}
