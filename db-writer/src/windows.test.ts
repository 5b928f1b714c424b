import { expect, test } from 'vitest';
import { committedWindows } from './windows.ts';

const r = (imei: string, tsMs: number) => ({ imei, tsMs });

test.each([
  ['no rows', [], []],
  ['one row', [r('1', 5)], [{ imei: '1', from: 5, to: 5, count: 1 }]],
  [
    'rows out of order, two devices, a duplicate',
    [r('2', 30), r('1', 20), r('2', 10), r('1', 20), r('2', 20)],
    [
      { imei: '1', from: 20, to: 20, count: 2 },
      { imei: '2', from: 10, to: 30, count: 3 },
    ],
  ],
])('%s', (_name, rows, windows) => {
  expect(committedWindows(rows)).toEqual(windows);
});
