/**
 * The Redis side of the safety service: its own group `safety` on `telemetry:positions`, so it
 * never slows the db-writer (group `processor`) nor the live-gateway. Created at `$`: a first
 * start does not replay history into alerts; later restarts resume where the group stopped.
 * Blocking reads use their own connection so a BLOCK never delays an XACK.
 */
import type { Redis } from '../../common/src/redis.ts';
import type { RedisKeys } from '../../common/src/redis-keys.ts';
import { streamReply } from '../../db-writer/src/stream.ts';

export const GROUP = 'safety';

export interface StreamEntry {
  id: string;
  fields: string[] | null;
}

export interface PositionGroup {
  ensureGroup(): Promise<void>;
  read(count: number, blockMs: number): Promise<StreamEntry[]>;
  /** XAUTOCLAIM: entries idle ≥ minIdleMs in a (dead) consumer's pending list become ours */
  claim(minIdleMs: number, count: number): Promise<StreamEntry[]>;
  ack(ids: readonly string[]): Promise<void>;
  /** entries not yet delivered to the group (null when Redis cannot tell) and pending ones */
  lag(): Promise<{ lag: number | null; pending: number }>;
}

function toEntries(raw: unknown): StreamEntry[] {
  if (!Array.isArray(raw)) return [];
  return (raw as [string, string[] | null][]).map(([id, fields]) => ({ id, fields }));
}

export function createPositionGroup(options: { redis: Redis; blocking: Redis; keys: RedisKeys; consumer: string }): PositionGroup {
  const { redis, blocking, keys, consumer } = options;
  let claimCursor = '0-0';

  async function ensureGroup(): Promise<void> {
    try {
      await redis.call('XGROUP', 'CREATE', keys.positions, GROUP, '$', 'MKSTREAM');
    } catch (error) {
      if (!String((error as Error).message).startsWith('BUSYGROUP')) throw error;
    }
  }

  return {
    ensureGroup,
    async read(count, blockMs) {
      let reply: unknown;
      try {
        reply = await blocking.call('XREADGROUP', 'GROUP', GROUP, consumer, 'COUNT', count, 'BLOCK', blockMs, 'STREAMS', keys.positions, '>');
      } catch (error) {
        if (!String((error as Error).message).startsWith('NOGROUP')) throw error;
        await ensureGroup();
        return [];
      }
      return toEntries(streamReply(reply));
    },
    async claim(minIdleMs, count) {
      const reply = (await redis.call('XAUTOCLAIM', keys.positions, GROUP, consumer, minIdleMs, claimCursor, 'COUNT', count)) as [string, unknown, unknown];
      claimCursor = reply[0];
      return toEntries(reply[1]).filter((e) => e.fields !== null);
    },
    async ack(ids) {
      if (ids.length) await redis.call('XACK', keys.positions, GROUP, ...ids);
    },
    async lag() {
      const groups = (await redis.call('XINFO', 'GROUPS', keys.positions).catch(() => [])) as unknown[][];
      for (const g of groups) {
        const info = new Map<string, unknown>();
        for (let i = 0; i + 1 < g.length; i += 2) info.set(String(g[i]), g[i + 1]);
        if (info.get('name') !== GROUP) continue;
        const lag = info.get('lag');
        return { lag: lag === null || lag === undefined ? null : Number(lag), pending: Number(info.get('pending') ?? 0) };
      }
      return { lag: null, pending: 0 };
    },
  };
}
