/**
 * The gateway's reader of `telemetry:positions`: its own consumer group
 * `live-broadcast-{instance}`, created at `$` (live only: history is the snapshot's job),
 * XREADGROUP in a loop, XACK right after fan-out. The gateway is not a durable consumer: a
 * restarted instance starts a new group and the old one is destroyed on close.
 *
 * States: idle → running (read → fan-out → ack, repeat) → closing → closed. A Redis failure is
 * logged, retried after a short back-off, and makes /healthz report the consumer unhealthy.
 * So does a lost connection: our clients queue commands across a reconnect (no retry limit), so
 * a pending XREADGROUP waits rather than fails while Redis is down; health reads the links.
 */
import type { Redis } from '../../common/src/redis.ts';
import type { RedisKeys } from '../../common/src/redis-keys.ts';
import type { Logger } from '../../common/src/log.ts';
import { errorMessage } from '../../common/src/errors.ts';
import { parseStreamFields, type StreamPosition } from './protocol.ts';

export interface LiveConsumer {
  readonly group: string;
  readonly healthy: boolean;
  start(): Promise<void>;
  close(): Promise<void>;
}

type RawEntry = [string, string[] | null];

/**
 * The entries of the one stream XREADGROUP asked for: RESP2 answers [[key, entries]]; ioredis 6
 * hands a RESP3 map reply over flattened, [key, entries].
 */
export function streamEntries(reply: unknown): RawEntry[] {
  if (!Array.isArray(reply) || reply.length === 0) return [];
  const entries = typeof reply[0] === 'string' || Buffer.isBuffer(reply[0]) ? reply[1] : (reply[0] as unknown[])[1];
  return Array.isArray(entries) ? (entries as RawEntry[]) : [];
}

export function liveGroupName(instance: string): string {
  return `live-broadcast-${instance}`;
}

export function createLiveConsumer(options: {
  redis: Redis;
  /** a connection of its own: XREADGROUP BLOCK holds it */
  blocking: Redis;
  keys: RedisKeys;
  instance: string;
  count: number;
  blockMs: number;
  log: Logger;
  onPositions(positions: StreamPosition[]): void;
}): LiveConsumer {
  const { redis, blocking, keys, log } = options;
  const group = liveGroupName(options.instance);
  const consumer = options.instance;
  let running = false;
  let healthy = false;
  let loop: Promise<void> | undefined;
  let closing: Promise<void> | undefined;

  async function ensureGroup(): Promise<void> {
    try {
      await redis.call('XGROUP', 'CREATE', keys.positions, group, '$', 'MKSTREAM');
    } catch (error) {
      if (!errorMessage(error).startsWith('BUSYGROUP')) throw error;
    }
  }

  async function readOnce(): Promise<void> {
    let reply: unknown;
    try {
      reply = await blocking.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', options.count, 'BLOCK', options.blockMs, 'STREAMS', keys.positions, '>');
    } catch (error) {
      if (!errorMessage(error).startsWith('NOGROUP')) throw error;
      await ensureGroup(); // the stream was deleted under us (FLUSHDB, a test's cleanup)
      return;
    }
    healthy = true;
    if (!reply) return;
    const entries = streamEntries(reply);
    const ids: string[] = new Array(entries.length);
    const positions: StreamPosition[] = [];
    for (let i = 0; i < entries.length; i++) {
      const [id, fields] = entries[i];
      ids[i] = id;
      if (!fields) continue;
      const p = parseStreamFields(fields);
      if (p) positions.push(p);
    }
    if (positions.length > 0) options.onPositions(positions);
    if (ids.length > 0) await redis.call('XACK', keys.positions, group, ...ids);
  }

  async function run(): Promise<void> {
    let backoffMs = 100;
    while (running) {
      try {
        await readOnce();
        backoffMs = 100;
      } catch (error) {
        if (!running) break;
        healthy = false;
        log.warn({ err: error, group, backoffMs }, 'live consumer read failed, retrying');
        await new Promise((resolve) => setTimeout(resolve, backoffMs));
        backoffMs = Math.min(backoffMs * 2, 5000);
      }
    }
  }

  return {
    group,
    get healthy() {
      return healthy && blocking.status === 'ready' && redis.status === 'ready';
    },
    async start() {
      if (running || closing) return;
      await ensureGroup();
      healthy = true;
      running = true;
      loop = run();
    },
    close() {
      closing ??= (async () => {
        running = false;
        healthy = false;
        blocking.disconnect(); // ends a pending XREADGROUP BLOCK at once
        await loop;
        try {
          await redis.call('XGROUP', 'DESTROY', keys.positions, group);
        } catch (error) {
          log.warn({ err: error, group }, 'could not delete the live consumer group');
        }
      })();
      return closing;
    },
  };
}
