import { describe, expect, test } from 'vitest';
import { CoalescingQueue, flushDecision, type SlowClientPolicy } from './client-queue.ts';

describe('CoalescingQueue', () => {
  test('keeps only the latest message per key, in first-queued order', () => {
    const q = new CoalescingQueue(10);
    expect(q.push('1:a', 'a1')).toBe('queued');
    expect(q.push('1:b', 'b1')).toBe('queued');
    expect(q.push('1:a', 'a2')).toBe('coalesced');
    expect(q.push('1:a', 'a3')).toBe('coalesced');
    expect(q.size).toBe(2);
    expect(q.drain()).toEqual(['a3', 'b1']);
    expect(q.size).toBe(0);
  });

  test('refuses a new key beyond maxEntries but still coalesces known keys', () => {
    const q = new CoalescingQueue(2);
    q.push('1:a', 'a');
    q.push('1:b', 'b');
    expect(q.push('1:c', 'c')).toBe('overflow');
    expect(q.push('1:b', 'b2')).toBe('coalesced');
    expect(q.drain()).toEqual(['a', 'b2']);
  });

  test('drain takes at most max messages, the rest stay queued', () => {
    const q = new CoalescingQueue(10);
    for (const k of ['a', 'b', 'c']) q.push(k, k);
    expect(q.drain(2)).toEqual(['a', 'b']);
    expect(q.drain()).toEqual(['c']);
  });

  test('dropPrefix removes one event and leaves the others', () => {
    const q = new CoalescingQueue(10);
    q.push('1:a', 'x');
    q.push('12:a', 'y');
    q.push('2:a', 'z');
    q.dropPrefix('1:');
    expect(q.drain()).toEqual(['y', 'z']);
  });

  test.each([0, -1, 1.5])('refuses maxEntries %s', (n) => {
    expect(() => new CoalescingQueue(n)).toThrow(RangeError);
  });

  test('a flood of updates for a fixed set of entries never grows the queue', () => {
    const q = new CoalescingQueue(500);
    let overflows = 0;
    for (let i = 0; i < 100_000; i++) if (q.push(`1:${i % 500}`, String(i)) === 'overflow') overflows++;
    expect(overflows).toBe(0);
    expect(q.size).toBe(500);
    const drained = q.drain();
    expect(drained[0]).toBe(String(100_000 - 500));
    expect(drained.at(-1)).toBe(String(100_000 - 1));
  });
});

describe('flushDecision', () => {
  const policy: SlowClientPolicy = { highWaterBytes: 1000, maxBufferedBytes: 10_000, slowClientTimeoutMs: 5000 };
  test.each([
    { name: 'empty buffer sends', buffered: 0, since: null, now: 0, want: { action: 'send' } },
    { name: 'at the high-water mark still sends', buffered: 1000, since: 50, now: 99_999, want: { action: 'send' } },
    { name: 'over high water starts waiting now', buffered: 1001, since: null, now: 7, want: { action: 'wait', blockedSinceMs: 7 } },
    { name: 'keeps the first blocked time', buffered: 5000, since: 10, now: 5010, want: { action: 'wait', blockedSinceMs: 10 } },
    { name: 'blocked longer than the timeout closes', buffered: 5000, since: 10, now: 5011, want: { action: 'close' } },
    { name: 'over the hard cap closes at once', buffered: 10_001, since: null, now: 0, want: { action: 'close' } },
  ])('$name', ({ buffered, since, now, want }) => {
    expect(flushDecision(buffered, since, now, policy)).toMatchObject(want);
  });
});
