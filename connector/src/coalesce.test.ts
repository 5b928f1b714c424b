import { describe, expect, test } from 'vitest';
import { coalesceWindows, type PendingRequest } from './coalesce.ts';

const r = (id: string, payload: Record<string, string>): PendingRequest => ({ ids: [id], payload });
const T = (h: number) => `2026-05-01T${String(h).padStart(2, '0')}:00:00.000Z`;

describe('coalesceWindows', () => {
  test('overlapping windows of one entry become one call over the union', () => {
    const out = coalesceWindows([
      r('1-0', { scope: 'entry', id: '7', from: T(8), to: T(10), reason: 'flag', requested_by: 'a' }),
      r('2-0', { scope: 'entry', id: '7', from: T(9), to: T(12), reason: 'edit', requested_by: 'b' }),
    ]);
    expect(out).toEqual([{ ids: ['1-0', '2-0'], merged: 2, payload: { scope: 'entry', id: '7', from: T(8), to: T(12), reason: 'flag; edit', requested_by: 'a,b' } }]);
  });

  test('adjacent windows join; a gap keeps them apart', () => {
    const out = coalesceWindows([
      r('1-0', { scope: 'stage', id: '3', from: T(8), to: T(9) }),
      r('2-0', { scope: 'stage', id: '3', from: T(9), to: T(10) }),
      r('3-0', { scope: 'stage', id: '3', from: T(11), to: T(12) }),
    ]);
    expect(out.map((c) => [c.ids, c.payload.from, c.payload.to])).toEqual([
      [['1-0', '2-0'], T(8), T(10)],
      [['3-0'], T(11), T(12)],
    ]);
  });

  test('a window nested in another is absorbed, in any arrival order', () => {
    const out = coalesceWindows([
      r('1-0', { scope: 'entry', id: '7', from: T(9), to: T(10) }),
      r('2-0', { scope: 'entry', id: '7', from: T(6), to: T(14) }),
      r('3-0', { scope: 'entry', id: '7', from: T(13), to: T(15) }),
    ]);
    expect(out).toHaveLength(1);
    expect(out[0].payload).toMatchObject({ from: T(6), to: T(15) });
    expect(out[0].ids.sort()).toEqual(['1-0', '2-0', '3-0']);
  });

  test('an unbounded window swallows bounded ones and stays unbounded', () => {
    const out = coalesceWindows([r('1-0', { scope: 'event', id: '1' }), r('2-0', { scope: 'event', id: '1', from: T(8), to: T(9) })]);
    expect(out).toEqual([{ ids: ['1-0', '2-0'], merged: 2, payload: { scope: 'event', id: '1' } }]);
  });

  test('different scopes or ids are never merged', () => {
    const out = coalesceWindows([
      r('1-0', { scope: 'entry', id: '7', from: T(8), to: T(10) }),
      r('2-0', { scope: 'entry', id: '8', from: T(8), to: T(10) }),
      r('3-0', { scope: 'stage', id: '7', from: T(8), to: T(10) }),
    ]);
    expect(out.map((c) => c.ids)).toEqual([['1-0'], ['2-0'], ['3-0']]);
  });

  test.each([
    [{ id: '7', from: T(8) }],
    [{ scope: 'entry', from: T(8) }],
    [{ scope: 'entry', id: '7', from: 'tomorrow' }],
    [{ scope: 'entry', id: '7', from: T(10), to: T(8) }],
  ])('an unreadable request %j passes through alone', (payload) => {
    const out = coalesceWindows([r('1-0', payload), r('2-0', { scope: 'entry', id: '7', from: T(8), to: T(12) })]);
    expect(out.map((c) => c.ids)).toEqual([['1-0'], ['2-0']]);
    expect(out[0].payload).toBe(payload);
  });

  test('output keeps the order of each call’s first request', () => {
    const out = coalesceWindows([
      r('1-0', { scope: 'entry', id: 'b', from: T(1), to: T(2) }),
      r('2-0', { scope: 'entry', id: 'a', from: T(1), to: T(2) }),
      r('3-0', { scope: 'entry', id: 'b', from: T(2), to: T(3) }),
    ]);
    expect(out.map((c) => c.ids)).toEqual([['1-0', '3-0'], ['2-0']]);
  });
});
