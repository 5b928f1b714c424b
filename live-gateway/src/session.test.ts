import { describe, expect, test } from 'vitest';
import { CLOSE } from './errors.ts';
import { EventMap } from './event-map.ts';
import { Hub } from './hub.ts';
import type { StreamPosition } from './protocol.ts';
import { Session, type Sink } from './session.ts';

class FakeSink implements Sink {
  frames: string[] = [];
  bufferedAmount = 0;
  closed: { code: number; reason: string } | undefined;
  send(data: string): void {
    this.frames.push(data);
  }
  close(code: number, reason: string): void {
    this.closed = { code, reason };
  }
  /** every position message written, batches flattened */
  positions(): Record<string, unknown>[] {
    return this.frames.flatMap((f) => {
      const m = JSON.parse(f) as { type: string; messages?: Record<string, unknown>[] };
      return m.type === 'batch' ? m.messages! : [m];
    });
  }
}

const policy = { highWaterBytes: 1000, maxBufferedBytes: 100_000, slowClientTimeoutMs: 5000 };
function counters() {
  return { delivered: 0, frames: 0, coalesced: 0, slow: [] as string[] };
}
function makeSession(sink: FakeSink, c = counters(), maxQueuedEntries = 100) {
  const session = new Session({
    sink,
    policy,
    maxQueuedEntries,
    stats: { onDelivered: (m, f) => ((c.delivered += m), (c.frames += f)), onCoalesced: () => c.coalesced++, onSlowClose: (r) => c.slow.push(r) },
  });
  return { session, c };
}
function pos(imei: string, ts: number, fix = true): StreamPosition {
  return { imei, ts, lat: 1, lon: 2, speed: 3, heading: 4, alt: 5, sats: 6, fix };
}
function setup(maxQueuedEntries = 100) {
  const map = new EventMap();
  map.replace(
    [
      { imei: 'A', entry: 1, event: 10, number: 1, crew: null },
      { imei: 'B', entry: 2, event: 10, number: 2, crew: null },
      { imei: 'A', entry: 7, event: 20, number: 9, crew: null }, // same device in another event
      { imei: 'C', entry: 3, event: 30, number: 3, crew: null },
    ],
    0,
  );
  const hub = new Hub({ eventMap: map });
  const sink = new FakeSink();
  const { session, c } = makeSession(sink, counters(), maxQueuedEntries);
  hub.add(session);
  return { hub, sink, session, c };
}

describe('Hub fan-out', () => {
  test('one read leaves as one frame per client, only for subscribed events, no-fix skipped', () => {
    const { hub, sink, session } = setup();
    hub.subscribe(session, 10, false);
    hub.fanOut([pos('A', 1), pos('B', 2), pos('C', 3), pos('B', 4, false), pos('unknown', 5)], 0);
    expect(sink.frames).toHaveLength(1);
    expect(sink.positions().map((p) => [p.event, p.entry, p.ts])).toEqual([[10, 1, 1], [10, 2, 2]]);
  });

  test('a device assigned in two subscribed events reaches both', () => {
    const { hub, sink, session } = setup();
    hub.subscribe(session, 10, false);
    hub.subscribe(session, 20, false);
    hub.fanOut([pos('A', 1)], 0);
    expect(sink.positions().map((p) => [p.event, p.entry])).toEqual([[10, 1], [20, 7]]);
  });

  test('unsubscribe stops delivery and drops what was queued for the event', () => {
    const { hub, sink, session } = setup();
    hub.subscribe(session, 10, false);
    session.hold();
    hub.fanOut([pos('A', 1)], 0);
    hub.unsubscribe(session, 10);
    session.release(0);
    hub.fanOut([pos('A', 2)], 0);
    expect(sink.frames).toHaveLength(0);
  });
});

describe('slow clients', () => {
  test('above the high-water mark positions coalesce to the latest per entry, then flow in one frame', () => {
    const { hub, sink, session, c } = setup();
    hub.subscribe(session, 10, false);
    sink.bufferedAmount = 5000;
    for (let ts = 1; ts <= 50; ts++) hub.fanOut([pos('A', ts), pos('B', ts)], 0);
    expect(sink.frames).toHaveLength(0);
    expect(session.queued).toBe(2);
    expect(c.coalesced).toBe(98);
    sink.bufferedAmount = 0;
    hub.tick(100);
    expect(sink.frames).toHaveLength(1);
    expect(sink.positions().map((p) => [p.entry, p.ts])).toEqual([[1, 50], [2, 50]]);
  });

  test('blocked longer than the timeout → closed with 4008 SLOW_CLIENT', () => {
    const { hub, sink, session, c } = setup();
    hub.subscribe(session, 10, false);
    sink.bufferedAmount = 5000;
    hub.fanOut([pos('A', 1)], 1000);
    hub.tick(1000 + policy.slowClientTimeoutMs);
    expect(sink.closed).toBeUndefined();
    hub.tick(1000 + policy.slowClientTimeoutMs + 1);
    expect(sink.closed).toEqual({ code: CLOSE.SLOW_CLIENT, reason: 'SLOW_CLIENT' });
    expect(c.slow).toHaveLength(1);
  });

  test('send buffer over the hard cap → closed at once', () => {
    const { hub, sink, session } = setup();
    hub.subscribe(session, 10, false);
    sink.bufferedAmount = policy.maxBufferedBytes + 1;
    hub.fanOut([pos('A', 1)], 0);
    expect(sink.closed?.code).toBe(CLOSE.SLOW_CLIENT);
  });

  test('more distinct entries queued than allowed → closed', () => {
    const { hub, sink, session } = setup(1);
    hub.subscribe(session, 10, false);
    sink.bufferedAmount = 5000;
    hub.fanOut([pos('A', 1), pos('B', 1)], 0);
    expect(sink.closed?.code).toBe(CLOSE.SLOW_CLIENT);
  });

  test('a snapshot hold keeps live positions behind it', () => {
    const { hub, sink, session } = setup();
    hub.subscribe(session, 10, false);
    session.hold();
    hub.fanOut([pos('A', 1)], 0);
    session.send('{"type":"snapshot"}');
    session.release(0);
    expect(sink.frames.map((f) => JSON.parse(f).type)).toEqual(['snapshot', 'position']);
  });
});

describe('shared frames', () => {
  test('sessions following one event get the same built frame; one with something queued gets its own with the same content rules', () => {
    const { hub, sink, session, c } = setup();
    const other = new FakeSink();
    const { session: second } = makeSession(other, c);
    const behind = new FakeSink();
    const { session: third } = makeSession(behind, c);
    for (const s of [session, second, third]) {
      hub.add(s);
      hub.subscribe(s, 10, false);
    }
    behind.bufferedAmount = 5000; // above the high-water mark: its positions queue
    hub.fanOut([pos('A', 1)], 0);
    behind.bufferedAmount = 0;
    hub.fanOut([pos('A', 2), pos('B', 2), pos('A', 3)], 0);
    expect(sink.frames).toHaveLength(2);
    expect(other.frames[1]).toBe(sink.frames[1]); // one object: built once, written twice
    expect(sink.positions().map((p) => [p.entry, p.ts])).toEqual([[1, 1], [1, 3], [2, 2]]);
    expect(behind.frames).toHaveLength(1);
    expect(behind.frames[0]).not.toBe(sink.frames[1]);
    expect(behind.positions().map((p) => [p.entry, p.ts])).toEqual([[1, 3], [2, 2]]);
    expect(c.coalesced).toBe(3 + 1); // A:3 replaced A:2 in each of the three, A:2 replaced A:1 in the queue of the third
    expect(c.delivered).toBe(2 + 2 + 2 + 2);
  });

  test('a session following several events still gets positions in stream order, one frame per read', () => {
    const { hub, sink, session } = setup();
    hub.subscribe(session, 10, false);
    hub.subscribe(session, 30, false);
    const alone = new FakeSink();
    const { session: single } = makeSession(alone);
    hub.add(single);
    hub.subscribe(single, 10, false);
    hub.fanOut([pos('A', 1), pos('C', 2), pos('B', 3)], 0);
    expect(sink.frames).toHaveLength(1);
    expect(sink.positions().map((p) => [p.event, p.entry])).toEqual([[10, 1], [30, 3], [10, 2]]);
    expect(alone.positions().map((p) => [p.event, p.entry])).toEqual([[10, 1], [10, 2]]);
  });
});
