/**
 * A writer in its own thread, for the throughput benchmark: in production the writer is a
 * process of its own with a small heap, while the benchmark's thread holds the 300,000 records it
 * XADDs and the rows of the bare COPY (hundreds of MB that every garbage collection of an
 * in-process writer would walk). workerData: { databaseUrl, redisUrl, redisPrefix, consumer, sql,
 * policy, rows }. Posts { startedAtMs, doneAtMs } (performance.timeOrigin-based, comparable
 * across threads) once `rows` records are committed, then closes the writer.
 */
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { redisKeys } from '../../../common/src/redis-keys.ts';
import type { SqlMode } from '../config.ts';
import type { BatchPolicy } from '../batch-policy.ts';
import { startTestWriter, waitFor } from './harness.ts';

const input = workerData as { databaseUrl: string; redisUrl: string; redisPrefix: string; consumer: string; sql: SqlMode; policy: BatchPolicy; rows: number };
const clock = () => performance.timeOrigin + performance.now();
let committed = 0;
let doneAtMs = 0;
const startedAtMs = clock();
const w = startTestWriter({
  databaseUrl: input.databaseUrl, redisUrl: input.redisUrl, keys: redisKeys(input.redisPrefix), consumer: input.consumer, sql: input.sql,
  overrides: {
    policy: input.policy, monitorIntervalMs: 1000,
    onCommitted: (b) => {
      committed += b.rows;
      if (committed >= input.rows && doneAtMs === 0) doneAtMs = clock();
    },
  },
});
await waitFor('writer drained the stream', () => doneAtMs > 0, { timeoutMs: 600_000, intervalMs: 5 });
await w.close();
parentPort!.postMessage({ startedAtMs, doneAtMs });
