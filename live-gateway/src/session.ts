/**
 * One client's outbound side: its subscriptions, its coalescing queue and the socket it writes
 * to. The hub enqueues pre-encoded positions and flushes; the session applies the slow-client
 * policy (client-queue.ts) and closes the socket with SLOW_CLIENT when it must.
 */
import { CoalescingQueue, flushDecision, type SlowClientPolicy } from './client-queue.ts';
import { CLOSE } from './errors.ts';
import { encodeBatch } from './protocol.ts';

/** The part of a WebSocket a session uses (a ws WebSocket in production). */
export interface Sink {
  send(data: string): void;
  readonly bufferedAmount: number;
  close(code: number, reason: string): void;
}

export interface Subscription {
  /** readable without a token (public_live): survives token expiry */
  public: boolean;
}

export interface SessionStats {
  onDelivered(messages: number, frames: number): void;
  onCoalesced(): void;
  onSlowClose(reason: string): void;
}

const MAX_MESSAGES_PER_FRAME = 1000;

export class Session {
  readonly subscriptions = new Map<number, Subscription>();
  private readonly queue: CoalescingQueue;
  private readonly sink: Sink;
  private readonly policy: SlowClientPolicy;
  private readonly stats: SessionStats;
  private blockedSinceMs: number | null = null;
  /** > 0 while a snapshot is being read: live positions wait so they follow it */
  private holds = 0;
  closed = false;

  constructor(options: { sink: Sink; policy: SlowClientPolicy; maxQueuedEntries: number; stats: SessionStats }) {
    this.sink = options.sink;
    this.policy = options.policy;
    this.stats = options.stats;
    this.queue = new CoalescingQueue(options.maxQueuedEntries);
  }

  get queued(): number {
    return this.queue.size;
  }

  /** Queues one encoded position under `event:entry`; false when the client was closed. */
  enqueue(key: string, encoded: string): boolean {
    if (this.closed) return false;
    const r = this.queue.push(key, encoded);
    if (r === 'coalesced') this.stats.onCoalesced();
    else if (r === 'overflow') {
      this.closeSlow(`more than ${this.queue.maxEntries} entries queued`);
      return false;
    }
    return true;
  }

  /** Writes what is queued if the socket can take it; true when something stays queued. */
  flush(nowMs: number): boolean {
    if (this.closed || this.holds > 0 || this.queue.size === 0) return false;
    const d = flushDecision(this.sink.bufferedAmount, this.blockedSinceMs, nowMs, this.policy);
    if (d.action === 'close') {
      this.closeSlow(d.reason);
      return false;
    }
    if (d.action === 'wait') {
      this.blockedSinceMs = d.blockedSinceMs;
      return true;
    }
    this.blockedSinceMs = null;
    while (this.queue.size > 0) {
      const batch = this.queue.drain(MAX_MESSAGES_PER_FRAME);
      this.sink.send(batch.length === 1 ? batch[0] : encodeBatch(batch));
      this.stats.onDelivered(batch.length, 1);
    }
    return false;
  }

  /** A control message (snapshot, error, ack): written at once, ahead of queued positions. */
  send(encoded: string): void {
    if (!this.closed) this.sink.send(encoded);
  }

  hold(): void {
    this.holds++;
  }

  release(nowMs: number): void {
    this.holds = Math.max(0, this.holds - 1);
    this.flush(nowMs);
  }

  /** Forgets queued positions of an event the client no longer receives. */
  dropEvent(event: number): void {
    this.queue.dropPrefix(`${event}:`);
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.clear();
    this.sink.close(code, reason);
  }

  private closeSlow(reason: string): void {
    this.stats.onSlowClose(reason);
    this.close(CLOSE.SLOW_CLIENT, 'SLOW_CLIENT');
  }
}
