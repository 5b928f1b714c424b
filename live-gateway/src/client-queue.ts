/**
 * Per-client outbound queue and slow-client policy. Pure: no sockets, time comes in as an
 * argument.
 *
 * The queue holds at most one message per key (`event:entry`): a newer position replaces the
 * queued one in place (coalescing), so a client that falls behind gets the latest position of
 * every competitor rather than a growing backlog. It is bounded by `maxEntries` keys.
 *
 * State machine of one client, evaluated at every flush:
 *
 *   flowing --(socket buffer > highWaterBytes)--> blocked(since t)
 *   blocked --(buffer back under highWaterBytes)--> flowing (queue drained in one frame)
 *   blocked --(blocked longer than slowClientTimeoutMs)--> closed SLOW_CLIENT
 *   any     --(buffer > maxBufferedBytes, or queue overflow)--> closed SLOW_CLIENT
 */

export type PushResult = 'queued' | 'coalesced' | 'overflow';

export class CoalescingQueue {
  private readonly items = new Map<string, string>();
  readonly maxEntries: number;

  constructor(maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be a positive integer');
    this.maxEntries = maxEntries;
  }

  get size(): number {
    return this.items.size;
  }

  /** Queues `encoded` under `key`, replacing a queued message with the same key. */
  push(key: string, encoded: string): PushResult {
    if (this.items.has(key)) {
      this.items.set(key, encoded); // Map.set on an existing key keeps its place: fair order
      return 'coalesced';
    }
    if (this.items.size >= this.maxEntries) return 'overflow';
    this.items.set(key, encoded);
    return 'queued';
  }

  /** Removes and returns up to `max` messages, oldest key first. */
  drain(max = Number.POSITIVE_INFINITY): string[] {
    const out: string[] = [];
    for (const [key, value] of this.items) {
      if (out.length >= max) break;
      out.push(value);
      this.items.delete(key);
    }
    return out;
  }

  /** Drops every queued message whose key starts with `prefix` (an unsubscribed event). */
  dropPrefix(prefix: string): void {
    for (const key of this.items.keys()) if (key.startsWith(prefix)) this.items.delete(key);
  }

  clear(): void {
    this.items.clear();
  }
}

export interface SlowClientPolicy {
  /** above this many bytes in the socket's send buffer nothing more is written (bytes) */
  highWaterBytes: number;
  /** above this many bytes the client is closed at once (bytes) */
  maxBufferedBytes: number;
  /** how long a client may stay above the high-water mark before it is closed (ms) */
  slowClientTimeoutMs: number;
}

export type FlushDecision =
  | { action: 'send' }
  | { action: 'wait'; blockedSinceMs: number }
  | { action: 'close'; reason: string };

/** What to do with a client's queue now, given its socket's buffered bytes. */
export function flushDecision(bufferedBytes: number, blockedSinceMs: number | null, nowMs: number, policy: SlowClientPolicy): FlushDecision {
  if (bufferedBytes > policy.maxBufferedBytes) return { action: 'close', reason: `send buffer over ${policy.maxBufferedBytes} bytes` };
  if (bufferedBytes <= policy.highWaterBytes) return { action: 'send' };
  const since = blockedSinceMs ?? nowMs;
  if (nowMs - since > policy.slowClientTimeoutMs) return { action: 'close', reason: `blocked for more than ${policy.slowClientTimeoutMs} ms` };
  return { action: 'wait', blockedSinceMs: since };
}
