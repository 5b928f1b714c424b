/**
 * One client's outbound side: its subscriptions, its coalescing queue and the socket it writes
 * to. The hub enqueues pre-encoded positions and flushes, or hands a whole read's batch of one
 * event to deliver(); the session applies the slow-client policy (client-queue.ts) and closes
 * the socket with SLOW_CLIENT when it must.
 */
import { CoalescingQueue, flushDecision, type SlowClientPolicy } from './client-queue.ts';
import { CLOSE } from './errors.ts';
import { encodeBatch } from './protocol.ts';

/** The part of a WebSocket a session uses (a ws WebSocket in production). */
export interface Sink {
  /** always a text frame (`binary: false`), also for a Buffer (shared frames, encoded once) */
  send(data: string | Buffer, options: { binary: boolean }): void;
  readonly bufferedAmount: number;
  close(code: number, reason: string): void;
}

export interface Subscription {
  /** readable without a token (public_live): survives token expiry */
  public: boolean;
  /** present when this subscriber may receive the event's safety alerts (alerts.ts) */
  alerts?: AlertFeed;
}

/**
 * One subscription's alert feed: stream entries up to `from` are in the snapshot it was sent;
 * while the snapshot is read (`pending` not null) later entries wait there, then follow it.
 */
export interface AlertFeed {
  from: string;
  pending: { id: string; encoded: string }[] | null;
}

export interface SessionStats {
  onDelivered(messages: number, frames: number): void;
  onCoalesced(): void;
  onSlowClose(reason: string): void;
}

const MAX_MESSAGES_PER_FRAME = 1000;
const TEXT = { binary: false };

function frameOf(encoded: readonly string[]): string {
  return encoded.length === 1 ? encoded[0] : encodeBatch(encoded);
}

/**
 * One stream read's positions of one event, coalesced by `event:entry` exactly as an empty
 * client queue would hold them, and the frames flush() would build from that queue, built once
 * (as Buffers, so they are not re-encoded per socket) and shared by every client it fits.
 */
export class SharedBatch {
  readonly items = new Map<string, string>();
  /** positions replaced within the read by a newer one of the same entry */
  coalesced = 0;
  private built: Buffer[] | undefined;

  get size(): number {
    return this.items.size;
  }

  add(key: string, encoded: string): void {
    if (this.items.has(key)) this.coalesced++;
    this.items.set(key, encoded); // an existing key keeps its place, as in CoalescingQueue
  }

  frames(): readonly Buffer[] {
    if (!this.built) {
      const built: Buffer[] = [];
      let chunk: string[] = [];
      for (const encoded of this.items.values()) {
        chunk.push(encoded);
        if (chunk.length === MAX_MESSAGES_PER_FRAME) ((built.push(Buffer.from(frameOf(chunk))), (chunk = [])));
      }
      if (chunk.length > 0) built.push(Buffer.from(frameOf(chunk)));
      this.built = built;
    }
    return this.built;
  }
}

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

  /**
   * A read's positions of the one event this session follows. With nothing queued or held and
   * a socket under its high-water mark, the batch's shared frames are written as they are
   * (they are what flush() would build from this queue); otherwise the positions are queued as
   * enqueue() would and flushed. True when something stays queued.
   */
  deliver(batch: SharedBatch, nowMs: number): boolean {
    if (this.closed) return false;
    for (let i = 0; i < batch.coalesced; i++) this.stats.onCoalesced();
    if (this.holds === 0 && this.queue.size === 0 && batch.size <= this.queue.maxEntries) {
      if (flushDecision(this.sink.bufferedAmount, this.blockedSinceMs, nowMs, this.policy).action === 'send') {
        this.blockedSinceMs = null;
        const frames = batch.frames();
        for (const frame of frames) this.sink.send(frame, TEXT);
        this.stats.onDelivered(batch.size, frames.length);
        return false;
      }
    }
    for (const [key, encoded] of batch.items) if (!this.enqueue(key, encoded)) return false;
    return this.flush(nowMs);
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
      this.sink.send(frameOf(batch), TEXT);
      this.stats.onDelivered(batch.length, 1);
    }
    return false;
  }

  /** A control message (snapshot, error, ack): written at once, ahead of queued positions. */
  send(encoded: string): void {
    if (!this.closed) this.sink.send(encoded, TEXT);
  }

  /**
   * A safety alert: written at once, never queued, coalesced or dropped (alerts are few); it
   * counts against the hard cap of the socket's buffer like everything else written.
   */
  sendAlert(encoded: string): void {
    if (this.closed) return;
    this.sink.send(encoded, TEXT);
    if (this.sink.bufferedAmount > this.policy.maxBufferedBytes) this.closeSlow(`send buffer over ${this.policy.maxBufferedBytes} bytes`);
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
