/**
 * Consumes one Redis stream topic in the consumer group `connector`.
 *
 * An entry's life: new (XREADGROUP `>`) or stale (XAUTOCLAIM after `claimIdleMs` idle in a dead
 * consumer's pending list) or ours from a previous run (XREADGROUP `0` at start) → in flight
 * (its idle time is reset every claimIdleMs/3 while we work, so no live peer steals it) →
 * XACK once every function answered 2xx, or XACK together with its dead-letter record in one
 * MULTI. A stop leaves in-flight entries pending: the next connector claims them.
 *
 * Loop states: reading ⇄ waiting for a free slot (at most `concurrency` deliveries) → stopping
 * (no more reads; in-flight deliveries finish until the deadline, then are abandoned) → stopped.
 */
import type { Logger } from 'pino';
import { createRedis, type Redis } from '../../common/src/redis.ts';
import { CONTROL_STREAM_MAXLEN, type RedisKeys } from '../../common/src/redis-keys.ts';
import { formatTopic, topicKey } from '../../common/src/triggers.ts';
import { coalesceWindows, type CoalescedRequest, type PendingRequest } from './coalesce.ts';
import { deadLetterFields, deliver, type ConnectorMetrics } from './deliver.ts';
import type { RetryPolicy } from './invoker.ts';
import type { Route } from './routes.ts';

export const CONSUMER_GROUP = 'connector';

// Resets the idle time of the entries this consumer still owns (a peer may have claimed one
// meanwhile: then it is left alone).
// KEYS[1] stream; ARGV[1] group, ARGV[2] consumer, ARGV[3..] entry ids; returns entries touched
const TOUCH_LUA = `
local touched = 0
for i = 3, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if p[1] and p[1][2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
    touched = touched + 1
  end
end
return touched`;

export interface StreamConsumerOptions {
  redisUrl: string;
  keys: RedisKeys;
  route: Route;
  consumer: string;
  gatewayUrl: string;
  concurrency: number;
  retry: RetryPolicy;
  claimIdleMs: number;
  /** XREADGROUP BLOCK; short enough for a prompt stop */
  blockMs: number;
  log: Logger;
  metrics: ConnectorMetrics;
}

export interface StreamConsumer {
  start(): Promise<void>;
  /** graceful: stop reading, let deliveries finish until the deadline */
  close(deadlineMs: number): Promise<void>;
  /** abrupt, like a crash: nothing more is acknowledged */
  kill(): Promise<void>;
  health(): { topic: string; inFlight: number; running: boolean };
}

type RawEntry = [id: string, fields: string[] | null];

function toObject(fields: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) out[fields[i]] = fields[i + 1];
  return out;
}

export function createStreamConsumer(o: StreamConsumerOptions): StreamConsumer {
  const topic = formatTopic(o.route.topic);
  const stream = topicKey(o.route.topic, o.keys);
  const log = o.log.child({ topic, stream });
  const redis: Redis = createRedis(o.redisUrl);
  const reader: Redis = createRedis(o.redisUrl);
  const controller = new AbortController();
  const inFlight = new Set<string>();
  const deliveries = new Set<Promise<void>>();
  let active = 0;
  let stopping = false;
  let running = false;
  let slotFreed: (() => void) | undefined;
  let loop: Promise<void> | undefined;
  let timers: NodeJS.Timeout[] = [];

  const touch = () => {
    if (inFlight.size === 0 || stopping) return;
    redis.eval(TOUCH_LUA, 1, stream, CONSUMER_GROUP, o.consumer, ...inFlight).catch((error: unknown) => log.warn({ err: error }, 'could not refresh pending entries'));
  };

  async function finish(call: CoalescedRequest): Promise<void> {
    const source = call.ids.join(',');
    const result = await deliver(o.route, call.payload, source, { 'x-trm-entries': source }, { gatewayUrl: o.gatewayUrl, retry: o.retry, signal: controller.signal, log, metrics: o.metrics });
    if (result.abandoned || controller.signal.aborted) return;
    const tx = redis.multi();
    for (const d of result.dead) tx.xadd(o.keys.connectorDead, 'MAXLEN', '~', String(CONTROL_STREAM_MAXLEN), '*', ...deadLetterFields(d, new Date()));
    tx.xack(stream, CONSUMER_GROUP, ...call.ids);
    await tx.exec();
    for (const d of result.dead) o.metrics.deadLetters.inc(1, { function: d.function });
  }

  function dispatch(entries: RawEntry[]): void {
    const pending: PendingRequest[] = [];
    const gone: string[] = [];
    for (const [id, fields] of entries) {
      if (inFlight.has(id)) continue;
      if (!fields) gone.push(id); // trimmed from the stream while pending: nothing to deliver
      else pending.push({ ids: [id], payload: toObject(fields) });
    }
    if (gone.length) void redis.xack(stream, CONSUMER_GROUP, ...gone).catch(() => {});
    const calls = o.route.coalesce ? coalesceWindows(pending) : pending.map((p) => ({ ...p, merged: 1 }));
    for (const call of calls) {
      if (call.merged > 1) {
        o.metrics.coalesced.inc(call.merged - 1, { topic });
        log.info({ entries: call.ids, window: [call.payload.from, call.payload.to] }, 'coalesced recompute windows');
      }
      for (const id of call.ids) inFlight.add(id);
      active += 1;
      o.metrics.inFlight.inc(1, { topic });
      const job = finish(call)
        .catch((error: unknown) => log.error({ err: error, entries: call.ids }, 'delivery failed; left pending for redelivery'))
        .finally(() => {
          for (const id of call.ids) inFlight.delete(id);
          active -= 1;
          o.metrics.inFlight.dec(1, { topic });
          slotFreed?.();
        });
      deliveries.add(job);
      void job.finally(() => deliveries.delete(job));
    }
  }

  async function waitForSlot(): Promise<void> {
    while (active >= o.concurrency && !stopping) await new Promise<void>((resolve) => (slotFreed = resolve));
    slotFreed = undefined;
  }

  async function readOwnPending(): Promise<void> {
    // entries this consumer name read in a previous run and never acknowledged
    let cursor = '0';
    while (!stopping) {
      await waitForSlot();
      const free = Math.max(1, o.concurrency - active);
      const res = (await reader.xreadgroup('GROUP', CONSUMER_GROUP, o.consumer, 'COUNT', free, 'STREAMS', stream, cursor)) as [string, RawEntry[]][] | null;
      const entries = res?.[0]?.[1] ?? [];
      if (entries.length === 0) return;
      cursor = entries[entries.length - 1][0];
      dispatch(entries);
    }
  }

  async function claimStale(): Promise<void> {
    if (stopping || active >= o.concurrency) return;
    const [, entries] = (await redis.xautoclaim(stream, CONSUMER_GROUP, o.consumer, o.claimIdleMs, '0-0', 'COUNT', o.concurrency - active)) as [string, RawEntry[], string[]];
    const fresh = entries.filter(([id]) => !inFlight.has(id));
    if (fresh.length) {
      o.metrics.claimed.inc(fresh.length, { topic });
      log.info({ entries: fresh.map(([id]) => id) }, 'claimed stale pending entries');
      dispatch(fresh);
    }
  }

  async function readLoop(): Promise<void> {
    await readOwnPending();
    while (!stopping) {
      await waitForSlot();
      if (stopping) break;
      try {
        const res = (await reader.xreadgroup('GROUP', CONSUMER_GROUP, o.consumer, 'COUNT', o.concurrency - active, 'BLOCK', o.blockMs, 'STREAMS', stream, '>')) as [string, RawEntry[]][] | null;
        if (res) dispatch(res[0][1]);
      } catch (error) {
        if (stopping) break;
        if (String((error as Error).message).startsWith('NOGROUP')) await ensureGroup();
        else {
          log.error({ err: error }, 'read failed');
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
      }
    }
  }

  async function ensureGroup(): Promise<void> {
    try {
      // from the start of the stream: requests written before the first connector ran count too
      await redis.xgroup('CREATE', stream, CONSUMER_GROUP, '0', 'MKSTREAM');
    } catch (error) {
      if (!String((error as Error).message).startsWith('BUSYGROUP')) throw error;
    }
  }

  async function stop(abrupt: boolean, deadlineMs: number): Promise<void> {
    if (!running && !loop) {
      redis.disconnect();
      reader.disconnect();
      return;
    }
    stopping = true;
    running = false;
    for (const t of timers) clearInterval(t);
    timers = [];
    slotFreed?.();
    reader.disconnect(); // interrupts a blocked XREADGROUP
    await loop?.catch(() => {});
    if (abrupt) {
      controller.abort(new Error('connector killed'));
      redis.disconnect();
      return;
    }
    const all = Promise.allSettled([...deliveries]);
    let timer: NodeJS.Timeout | undefined;
    const late = await Promise.race([all.then(() => false), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), deadlineMs)))]);
    clearTimeout(timer);
    if (late) {
      log.warn({ inFlight: [...inFlight] }, 'deliveries still running at the deadline; left pending for redelivery');
      controller.abort(new Error('connector stopping'));
      await all;
    }
    await redis.quit().catch(() => redis.disconnect());
  }

  let stopped: Promise<void> | undefined;
  return {
    async start() {
      await ensureGroup();
      running = true;
      timers.push(setInterval(touch, Math.max(20, Math.floor(o.claimIdleMs / 3))));
      timers.push(
        setInterval(
          () => {
            claimStale().catch((error: unknown) => {
              if (!stopping) log.warn({ err: error }, 'claiming stale entries failed');
            });
          },
          Math.max(20, Math.floor(o.claimIdleMs / 2)),
        ),
      );
      loop = readLoop().catch((error: unknown) => {
        if (!stopping) log.fatal({ err: error }, 'stream consumer stopped');
        running = false;
      });
      log.info({ consumer: o.consumer, group: CONSUMER_GROUP, functions: o.route.functions.map((f) => f.name), coalesce: o.route.coalesce }, 'consuming stream');
    },
    close(deadlineMs) {
      return (stopped ??= stop(false, deadlineMs));
    },
    kill() {
      return (stopped ??= stop(true, 0));
    },
    health: () => ({ topic, inFlight: active, running }),
  };
}
