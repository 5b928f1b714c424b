/**
 * A paced XADD producer in its own thread, so the writer under test does not delay it (and it
 * does not delay the writer). workerData: { redisUrl, stream, perSecond, seconds, devices }.
 * Posts { sent, elapsedMs } when done.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createRedis } from '../../../common/src/redis.ts';
import { syntheticRecord } from './harness.ts';

const { redisUrl, stream, perSecond, seconds, devices, baseTsMs } = workerData as { redisUrl: string; stream: string; perSecond: number; seconds: number; devices: number; baseTsMs: number };
const redis = createRedis(redisUrl);
const total = Math.round(perSecond * seconds);
const started = Date.now();
let sent = 0;
while (sent < total) {
  // catch up to where the clock says we should be, 5 ms at a time
  const due = Math.min(total, Math.floor(((Date.now() - started) * perSecond) / 1000));
  if (due > sent) {
    const pipeline = redis.pipeline();
    for (let i = sent; i < due; i++) pipeline.xadd(stream, 'MAXLEN', '~', 2_000_000, '*', ...syntheticRecord(i, devices, baseTsMs));
    await pipeline.exec();
    sent = due;
  }
  await new Promise((r) => setTimeout(r, 5));
}
parentPort!.postMessage({ sent, elapsedMs: Date.now() - started });
redis.disconnect();
