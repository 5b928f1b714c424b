/**
 * Fan-out: event → subscribed sessions. Each stream position is looked up in the event map and
 * encoded once per (event, entry); a busy stream leaves as one frame per read per client.
 * The common case — a session following one event, nothing queued — is served from a
 * SharedBatch per event and read: its frames are built once and the same bytes go to every such
 * session, instead of each session queuing every position and joining its own identical frame.
 * Sessions following several events queue position by position in stream order, as before, and
 * are flushed once at the end of the read. Sessions that had to wait (socket above its
 * high-water mark) are retried by tick().
 */
import type { AlertMessage } from '../../safety/src/alert-stream.ts';
import { compareStreamIds, encodeAlert } from './alerts.ts';
import type { EventMap } from './event-map.ts';
import { encodePosition, type StreamPosition } from './protocol.ts';
import { SharedBatch, type Session } from './session.ts';

export class Hub {
  private readonly byEvent = new Map<number, Set<Session>>();
  private readonly waiting = new Set<Session>();
  readonly sessions = new Set<Session>();
  private readonly eventMap: EventMap;
  private readonly onFannedOut: (positions: number) => void;

  constructor(options: { eventMap: EventMap; onFannedOut?: (positions: number) => void }) {
    this.eventMap = options.eventMap;
    this.onFannedOut = options.onFannedOut ?? (() => {});
  }

  add(session: Session): void {
    this.sessions.add(session);
  }

  remove(session: Session): void {
    for (const event of session.subscriptions.keys()) this.unsubscribe(session, event);
    this.sessions.delete(session);
    this.waiting.delete(session);
  }

  subscribe(session: Session, event: number, isPublic: boolean): void {
    session.subscriptions.set(event, { public: isPublic });
    let set = this.byEvent.get(event);
    if (!set) this.byEvent.set(event, (set = new Set()));
    set.add(session);
  }

  unsubscribe(session: Session, event: number): void {
    session.subscriptions.delete(event);
    session.dropEvent(event);
    const set = this.byEvent.get(event);
    if (!set) return;
    set.delete(session);
    if (set.size === 0) this.byEvent.delete(event);
  }

  get subscriptionCount(): number {
    let n = 0;
    for (const set of this.byEvent.values()) n += set.size;
    return n;
  }

  fanOut(positions: readonly StreamPosition[], nowMs: number): void {
    const batches = new Map<number, { batch: SharedBatch; several: Session[] }>();
    const dirty = new Set<Session>();
    let fanned = 0;
    for (const p of positions) {
      if (!p.fix) continue; // no GPS fix: nothing to draw (docs/live.md)
      const refs = this.eventMap.lookup(p.imei);
      if (!refs) continue;
      for (const ref of refs) {
        const subscribers = this.byEvent.get(ref.event);
        if (!subscribers) continue;
        const encoded = encodePosition({
          event: ref.event, entry: ref.entry, number: ref.number, crew: ref.crew, imei: p.imei,
          ts: p.ts, lat: p.lat, lon: p.lon, speed: p.speed, heading: p.heading, alt: p.alt, sats: p.sats,
        });
        const key = `${ref.event}:${ref.entry}`;
        fanned++;
        let forEvent = batches.get(ref.event);
        if (!forEvent) {
          const several: Session[] = [];
          for (const session of subscribers) if (session.subscriptions.size > 1) several.push(session);
          batches.set(ref.event, (forEvent = { batch: new SharedBatch(), several }));
        }
        forEvent.batch.add(key, encoded);
        for (const session of forEvent.several) if (session.enqueue(key, encoded)) dirty.add(session);
      }
    }
    for (const [event, { batch }] of batches) {
      for (const session of this.byEvent.get(event)!) {
        if (session.subscriptions.size === 1 && session.deliver(batch, nowMs)) this.waiting.add(session);
      }
    }
    for (const session of dirty) if (session.flush(nowMs)) this.waiting.add(session);
    this.onFannedOut(fanned);
  }

  /**
   * One `safety:alerts` entry to the subscribers of its event that have an alert feed (never
   * the others); entries up to a feed's snapshot id are skipped, entries arriving while its
   * snapshot is read wait in the feed. Encoded once. Returns the messages written.
   */
  fanOutAlert(id: string, m: AlertMessage): number {
    const subscribers = this.byEvent.get(m.event);
    if (!subscribers) return 0;
    let encoded: string | undefined;
    let written = 0;
    for (const session of subscribers) {
      const feed = session.subscriptions.get(m.event)?.alerts;
      if (!feed) continue;
      encoded ??= encodeAlert(m);
      if (feed.pending) feed.pending.push({ id, encoded }); // compared with `from` once it is known
      else if (compareStreamIds(id, feed.from) > 0) {
        session.sendAlert(encoded);
        written++;
      }
    }
    return written;
  }

  /** Retries sessions that were above their high-water mark. */
  tick(nowMs: number): void {
    for (const session of this.waiting) {
      if (!session.flush(nowMs)) this.waiting.delete(session);
    }
  }
}
