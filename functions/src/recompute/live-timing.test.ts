import { describe, expect, test } from 'vitest';
import { parseWindows, WindowCoalescer } from './live-timing.ts';

describe('WindowCoalescer', () => {
  test('merges the windows of a device and keeps devices apart, sorted by IMEI', () => {
    const c = new WindowCoalescer(5000);
    c.add({ imei: '2', from: 100, to: 200, count: 2 });
    c.add({ imei: '1', from: 500, to: 900 });
    c.add({ imei: '2', from: 50, to: 120 });
    c.add({ imei: '2', from: 300, to: 250 });
    expect(c.take(10_000)).toEqual([{ imei: '1', from: 500, to: 900 }, { imei: '2', from: 50, to: 300 }]);
    expect(c.size).toBe(0);
  });

  test('a device is due at most once per minimum interval; its windows wait, or go with all', () => {
    const c = new WindowCoalescer(5000);
    c.add({ imei: 'a', from: 1, to: 2 });
    expect(c.take(10_000)).toHaveLength(1);
    c.add({ imei: 'a', from: 3, to: 4 });
    expect(c.take(12_000)).toEqual([]);
    c.add({ imei: 'a', from: 5, to: 6 });
    expect(c.take(15_000)).toEqual([{ imei: 'a', from: 3, to: 6 }]);
    c.add({ imei: 'a', from: 7, to: 8 });
    expect(c.take(15_001, true)).toEqual([{ imei: 'a', from: 7, to: 8 }]);
  });

  test.each([[{ imei: 5, from: 1, to: 2 }], [{ imei: 'x', from: 'a', to: 2 }], [{ imei: 'x', from: 1, to: null }]])('ignores a malformed window %j', (w) => {
    const c = new WindowCoalescer(0);
    c.add(w as never);
    expect(c.size).toBe(0);
  });
});

test.each([
  [['windows', '[{"imei":"1","from":1,"to":2,"count":1}]', 'rows', '1'], [{ imei: '1', from: 1, to: 2, count: 1 }]],
  [['rows', '1'], []],
  [['windows', 'not json'], []],
  [['windows', '{"imei":"1"}'], []],
])('parseWindows(%j)', (fields, windows) => {
  expect(parseWindows(fields)).toEqual(windows);
});
