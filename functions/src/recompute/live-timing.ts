/**
 * Live timing (issue 6; docs/recompute.md, "Live timing"): the db-writer publishes what each
 * batch committed on `telemetry:committed` (`windows` = [{imei, from, to, count}], ms); this
 * consumer (group `live-timing`) merges the windows per device over `intervalMs` and issues one
 * device-scoped `requestRecompute` per device and interval, so the connector runs the recompute
 * and a stage time appears a few seconds after the finish crossing is committed.
 *
 * Loop states: reading (XREADGROUP, BLOCK blockMs) ⇄ flushing (every intervalMs: XADD one
 * request per pending device, then XACK the entries the flush covered) → stopping (one last
 * flush) → stopped. A device is requested at most once per `deviceMinIntervalMs`; its windows
 * wait meanwhile. Entries are acknowledged only after their requests are in Redis, so a crash
 * re-reads them (at-least-once; the recompute is idempotent).
 *
 * Requests carry `requested_by: "live-timing"`: the recompute records a recompute_runs row for
 * them only when something changed.
 */
import type { Logger } from 'pino';
import { createRedis, type Redis } from '../../../common/src/redis.ts';
import type { RedisKeys } from '../../../common/src/redis-keys.ts';
import { requestRecompute } from '../../../common/src/triggers.ts';

import { LIVE_REQUESTER } from './recompute.ts';

export const LIVE_TIMING_GROUP = 'live-timing';
export { LIVE_REQUESTER };

export interface CommittedWindow {
  imei: string;
  from: number;
  to: number;
  count?: number;
}

/** Pending windows per device (pure; time comes in as an argument). */
export class WindowCoalescer {
  readonly #pending = new Map<string, { from: number; to: number }>();
  readonly #lastSent = new Map<string, number>();
  readonly #minIntervalMs: number;

  constructor(minIntervalMs: number) {
    this.#minIntervalMs = minIntervalMs;
  }

  add(w: CommittedWindow): void {
    if (typeof w.imei !== 'string' || !Number.isFinite(w.from) || !Number.isFinite(w.to)) return;
    const p = this.#pending.get(w.imei);
    if (!p) this.#pending.set(w.imei, { from: Math.min(w.from, w.to), to: Math.max(w.from, w.to) });
    else {
      p.from = Math.min(p.from, w.from, w.to);
      p.to = Math.max(p.to, w.from, w.to);
    }
  }

  get size(): number {
    return this.#pending.size;
  }

  /** The devices due at `nowMs` (all pending with `all`), sorted by IMEI, removed from the pending set. */
  take(nowMs: number, all = false): { imei: string; from: number; to: number }[] {
    const out: { imei: string; from: number; to: number }[] = [];
    for (const [imei, w] of this.#pending) {
      const last = this.#lastSent.get(imei);
      if (!all && last !== undefined && nowMs - last < this.#minIntervalMs) continue;
      out.push({ imei, ...w });
    }
    for (const o of out) {
      this.#pending.delete(o.imei);
      this.#lastSent.set(o.imei, nowMs);
    }
    // forget devices long silent, so the map stays bounded by the active fleet
    if (this.#lastSent.size > 4 * (this.#pending.size + out.length) + 1000) {
      for (const [imei, t] of this.#lastSent) if (nowMs - t > 10 * this.#minIntervalMs) this.#lastSent.delete(imei);
    }
    return out.sort((a, b) => (a.imei < b.imei ? -1 : a.imei > b.imei ? 1 : 0));
  }
}

export function parseWindows(fields: readonly string[]): CommittedWindow[] {
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] !== 'windows') continue;
    try {
      const parsed = JSON.parse(fields[i + 1]) as unknown;
      return Array.isArray(parsed) ? (parsed as CommittedWindow[]) : [];
    } catch {
      return [];
    }
  }
  return [];
}

export interface LiveTimingOptions {
  redisUrl: string;
  keys: RedisKeys;
  log: Logger;
  consumer: string;
  /** how often pending windows become requests, ms (default 2000) */
  intervalMs?: number;
  /** at most one request per device per this, ms (default 5000) */
  deviceMinIntervalMs?: number;
  /** requests reach this far before/after the committed window, ms (default 60 000) */
  marginMs?: number;
  blockMs?: number;
  now?: () => number;
}

export interface LiveTiming {
  start(): Promise<void>;
  close(): Promise<void>;
  /** requests issued so far */
  readonly requested: number;
}

export function createLiveTiming(o: LiveTimingOptions): LiveTiming {
  const intervalMs = o.intervalMs ?? 2000;
  const marginMs = o.marginMs ?? 60_000;
  const now = o.now ?? Date.now;
  const log = o.log.child({ component: 'live-timing', stream: o.keys.positionsCommitted });
  const reader: Redis = createRedis(o.redisUrl);
  const writer: Redis = createRedis(o.redisUrl);
  const coalescer = new WindowCoalescer(o.deviceMinIntervalMs ?? 5000);
  let unacked: string[] = [];
  let requested = 0;
  let state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  let timer: NodeJS.Timeout | undefined;
  let loop: Promise<void> | undefined;
  let flushing: Promise<void> = Promise.resolve();

  async function flush(all = false): Promise<void> {
    const ids = unacked;
    unacked = [];
    const due = coalescer.take(now(), all);
    for (const d of due) {
      await requestRecompute(writer, o.keys, { scope: 'device', id: d.imei, from: new Date(d.from - marginMs).toISOString(), to: new Date(d.to + marginMs).toISOString(), reason: 'live timing: positions committed', requested_by: LIVE_REQUESTER });
      requested += 1;
    }
    // windows held back by deviceMinIntervalMs stay pending in memory; their entries are acked
    // with this flush (a crash loses at most that one interval of live requests, which the next
    // committed window or a manual recompute covers)
    if (ids.length) await writer.xack(o.keys.positionsCommitted, LIVE_TIMING_GROUP, ...ids);
    if (due.length) log.debug({ devices: due.length, entries: ids.length }, 'recomputes requested');
  }

  const scheduleFlush = (all = false) => {
    flushing = flushing.then(() => flush(all)).catch((error: unknown) => {
      log.error({ err: error }, 'live timing flush failed; entries stay pending');
    });
    return flushing;
  };

  async function read(id: '0' | '>'): Promise<number> {
    const res = (await reader.xreadgroup('GROUP', LIVE_TIMING_GROUP, o.consumer, 'COUNT', 1000, 'BLOCK', id === '>' ? (o.blockMs ?? 1000) : 1, 'STREAMS', o.keys.positionsCommitted, id)) as [string, [string, string[] | null][]][] | null;
    if (!res) return 0;
    let n = 0;
    for (const [, entries] of res) {
      for (const [entryId, fields] of entries) {
        if (fields) for (const w of parseWindows(fields)) coalescer.add(w);
        unacked.push(entryId);
        n += 1;
      }
    }
    return n;
  }

  return {
    get requested() {
      return requested;
    },
    async start() {
      if (state !== 'new') throw new Error(`live timing already ${state}`);
      state = 'running';
      try {
        await writer.xgroup('CREATE', o.keys.positionsCommitted, LIVE_TIMING_GROUP, '$', 'MKSTREAM');
      } catch (error) {
        if (!String((error as Error).message).includes('BUSYGROUP')) throw error;
      }
      // entries this consumer read but did not acknowledge before a crash
      while ((await read('0')) > 0 && unacked.length < 100_000) await scheduleFlush();
      timer = setInterval(() => void scheduleFlush(), intervalMs);
      loop = (async () => {
        while (state === 'running') {
          try {
            await read('>');
          } catch (error) {
            if (state !== 'running') break;
            log.error({ err: error }, 'live timing read failed; retrying');
            await new Promise((r) => setTimeout(r, 1000));
          }
        }
      })();
      log.info({ intervalMs, group: LIVE_TIMING_GROUP }, 'live timing started');
    },
    async close() {
      if (state === 'stopped' || state === 'stopping') return loop;
      state = 'stopping';
      clearInterval(timer);
      reader.disconnect();
      await loop?.catch(() => undefined);
      await scheduleFlush(true);
      await writer.quit().catch(() => writer.disconnect());
      state = 'stopped';
    },
  };
}
