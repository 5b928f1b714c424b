/**
 * The Redis side of the writer: group `processor` on `telemetry:positions`, dead letters,
 * the committed-windows stream. The only module that speaks Redis (with resp-client.ts). Blocking
 * reads use their own connection so a BLOCK never delays an XACK.
 */
import { CONTROL_STREAM_MAXLEN, type RedisKeys } from '../../common/src/redis-keys.ts';
import type { Redis } from '../../common/src/redis.ts';
import { EntryDecoder, type StreamEntry } from './entry-codec.ts';
import type { GroupInfo } from './lag.ts';
import type { CommittedWindow } from './windows.ts';

export const GROUP = 'processor';

export type { StreamEntry } from './entry-codec.ts';

export interface DeadLetter {
  entry: StreamEntry;
  reason: string;
}

export interface ConsumerInfo {
  name: string;
  pending: number;
  idleMs: number;
}

const XACK_CHUNK = 5000;

export interface PositionStream {
  ensureGroup(): Promise<void>;
  /**
   * `after` = '>' reads new entries (blocking up to blockMs); an id reads this consumer's own
   * pending entries after that id (a restart under the same consumer name), without blocking
   */
  read(count: number, blockMs: number, after?: string): Promise<StreamEntry[]>;
  /** XAUTOCLAIM: entries idle ≥ minIdleMs in any consumer's pending list become ours */
  claim(minIdleMs: number, count: number): Promise<StreamEntry[]>;
  ack(ids: readonly string[]): Promise<void>;
  deadLetter(letters: readonly DeadLetter[]): Promise<void>;
  publishCommitted(fields: { windows: CommittedWindow[]; rows: number; inserted: number }): Promise<void>;
  groupInfo(): Promise<GroupInfo>;
  consumers(): Promise<ConsumerInfo[]>;
  deleteConsumer(name: string): Promise<void>;
}

function pairsOf(raw: unknown): [string, string[] | null][] {
  return Array.isArray(raw) ? (raw as [string, string[] | null][]) : [];
}

/**
 * The entries of the one stream an XREAD/XREADGROUP asked for. RESP2 answers
 * [[key, entries]]; ioredis 6 hands a map reply over flattened, [key, entries].
 */
export function streamReply(reply: unknown): unknown {
  if (!Array.isArray(reply) || reply.length === 0) return [];
  if (typeof reply[0] === 'string' || Buffer.isBuffer(reply[0])) return reply[1];
  return (reply[0] as unknown[])[1];
}

function pairs(flat: unknown[]): Map<string, unknown> {
  const m = new Map<string, unknown>();
  for (let i = 0; i + 1 < flat.length; i += 2) m.set(String(flat[i]), flat[i + 1]);
  return m;
}

/**
 * What the blocking reads need: ioredis, or the lean RespClient (resp-client.ts), whose callRaw
 * hands the reply's bytes to the entry decoder (entry-codec.ts) without building JS values.
 */
export interface BlockingClient {
  call(command: string, ...args: (string | number)[]): Promise<unknown>;
  callRaw?(command: string, ...args: (string | number)[]): Promise<Buffer>;
}

/**
 * `XACK key group id…` in RESP form, built as one string: ioredis converts and writes each of a
 * batch's 5,000 ids on its own, a CPU cost per record of the same order as decoding it. Stream ids
 * are ASCII (`<ms>-<seq>`), so their length is their byte count.
 */
export function xackCommand(key: string, group: string, ids: readonly string[]): string {
  let out = `*${ids.length + 3}\r\n$4\r\nXACK\r\n$${Buffer.byteLength(key)}\r\n${key}\r\n$${Buffer.byteLength(group)}\r\n${group}\r\n`;
  for (const id of ids) out += `$${id.length}\r\n${id}\r\n`;
  return out;
}

/** A client that takes commands already in RESP form (resp-client.ts). */
export interface EncodedClient {
  callEncoded(command: string): Promise<unknown>;
}

export function createPositionStream(options: { redis: Redis; blocking: BlockingClient; keys: RedisKeys; consumer: string; acks?: EncodedClient }): PositionStream {
  const { redis, blocking, keys, consumer, acks } = options;
  const decoder = new EntryDecoder();
  let claimCursor = '0-0';

  async function ensureGroup(): Promise<void> {
    try {
      // from 0: entries written before the very first writer started are stored too
      await redis.call('XGROUP', 'CREATE', keys.positions, GROUP, '0', 'MKSTREAM');
    } catch (error) {
      if (!String((error as Error).message).startsWith('BUSYGROUP')) throw error;
    }
  }

  async function read(count: number, blockMs: number, after = '>'): Promise<StreamEntry[]> {
    const args = ['GROUP', GROUP, consumer, 'COUNT', count, ...(after === '>' ? ['BLOCK', blockMs] : []), 'STREAMS', keys.positions, after];
    try {
      if (blocking.callRaw) return decoder.decodeReadReply(await blocking.callRaw('XREADGROUP', ...args));
      return decoder.decodeStrings(pairsOf(streamReply(await blocking.call('XREADGROUP', ...args))));
    } catch (error) {
      // the stream or group was deleted under us (FLUSHDB, a test's cleanup): make it again
      if (!String((error as Error).message).startsWith('NOGROUP')) throw error;
      await ensureGroup();
      return [];
    }
  }

  return {
    ensureGroup,
    read,
    async claim(minIdleMs, count) {
      // Redis 7: [next cursor, entries, ids deleted from the stream (dropped from the PEL)]
      const reply = (await redis.call('XAUTOCLAIM', keys.positions, GROUP, consumer, minIdleMs, claimCursor, 'COUNT', count)) as [string, unknown, unknown];
      claimCursor = reply[0];
      return decoder.decodeStrings(pairsOf(reply[1]).filter(([, fields]) => fields !== null));
    },
    async ack(ids) {
      for (let i = 0; i < ids.length; i += XACK_CHUNK) {
        const chunk = ids.slice(i, i + XACK_CHUNK);
        if (acks) await acks.callEncoded(xackCommand(keys.positions, GROUP, chunk));
        else await redis.call('XACK', keys.positions, GROUP, ...chunk);
      }
    },
    async deadLetter(letters) {
      if (letters.length === 0) return;
      const pipeline = redis.pipeline();
      for (const { entry, reason } of letters) {
        const raw: Record<string, string> = {};
        const fields = entry.fields();
        if (fields) for (let i = 0; i + 1 < fields.length; i += 2) raw[fields[i]] = fields[i + 1];
        pipeline.xadd(keys.positionsDead, 'MAXLEN', '~', CONTROL_STREAM_MAXLEN, '*', 'reason', reason, 'id', entry.id, 'consumer', consumer, 'fields', JSON.stringify(raw));
      }
      const results = await pipeline.exec();
      const failed = results?.find(([error]) => error);
      if (failed) throw failed[0];
    },
    async publishCommitted({ windows, rows, inserted }) {
      await redis.xadd(keys.positionsCommitted, 'MAXLEN', '~', CONTROL_STREAM_MAXLEN, '*', 'windows', JSON.stringify(windows), 'rows', rows, 'inserted', inserted, 'consumer', consumer);
    },
    async groupInfo() {
      const [groups, length] = await Promise.all([
        redis.call('XINFO', 'GROUPS', keys.positions).catch((error: Error) => {
          if (/no such key/i.test(error.message)) return [];
          throw error;
        }),
        redis.xlen(keys.positions),
      ]);
      for (const g of groups as unknown[][]) {
        const info = pairs(g);
        if (info.get('name') !== GROUP) continue;
        const lag = info.get('lag');
        return { lag: lag === null || lag === undefined ? null : Number(lag), pending: Number(info.get('pending') ?? 0), length };
      }
      return { lag: null, pending: 0, length };
    },
    async consumers() {
      const reply = (await redis.call('XINFO', 'CONSUMERS', keys.positions, GROUP)) as unknown[][];
      return reply.map((c) => {
        const info = pairs(c);
        return { name: String(info.get('name')), pending: Number(info.get('pending')), idleMs: Number(info.get('idle')) };
      });
    },
    async deleteConsumer(name) {
      await redis.call('XGROUP', 'DELCONSUMER', keys.positions, GROUP, name);
    },
  };
}
