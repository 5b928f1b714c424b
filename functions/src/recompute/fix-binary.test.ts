import { describe, expect, test } from 'vitest';
import { RECOMPUTE_ERR } from './errors.ts';
import { parseFixCopyBinary } from './fix-binary.ts';
import { encodeFixCopyBinary } from './test-fixtures.ts';

const T = Date.UTC(2025, 5, 8, 6, 0, 0) * 1000; // µs

describe('parseFixCopyBinary', () => {
  test.each([
    ['whole ms', T + 1_000, T / 1000 + 1],
    ['0.4 ms rounds down', T + 400, T / 1000],
    ['0.5 ms rounds away from zero, as (extract(epoch FROM ts) * 1000)::int8 does', T + 500, T / 1000 + 1],
    ['0.999 ms', T + 999, T / 1000 + 1],
    ['before 2000', Date.UTC(1999, 11, 31, 23, 59, 59) * 1000 + 500, Date.UTC(1999, 11, 31, 23, 59, 59) + 1],
    ['before 1970, half away from zero', -1_500, -2],
  ])('ts: %s', (_name, us, ms) => {
    expect(parseFixCopyBinary(encodeFixCopyBinary([{ us, lat: 41.3, lon: 19.8, speed: '0' }]))[0].ts).toBe(ms);
  });

  test('coordinates are the stored doubles, speed the real as its text reads', () => {
    const rows = [
      { us: T, lat: 41.30000000000001, lon: -19.785639515586833, speed: '72.3' },
      { us: T + 1e6, lat: -0, lon: 1e-7, speed: '150' },
      { us: T + 2e6, lat: 89.99999999999999, lon: 179.99999999999997, speed: '1e-05' },
    ];
    expect(parseFixCopyBinary(encodeFixCopyBinary(rows))).toEqual([
      { ts: T / 1000, lat: 41.30000000000001, lon: -19.785639515586833, speedKmh: 72.3, fix: true },
      { ts: T / 1000 + 1000, lat: -0, lon: 1e-7, speedKmh: 150, fix: true },
      { ts: T / 1000 + 2000, lat: 89.99999999999999, lon: 179.99999999999997, speedKmh: 1e-5, fix: true },
    ]);
  });

  test('no rows, and no COPY at all', () => {
    expect(parseFixCopyBinary(encodeFixCopyBinary([]))).toEqual([]);
    expect(parseFixCopyBinary(new Uint8Array(0))).toEqual([]);
  });

  test.each([
    ['text instead of binary', new Uint8Array(Buffer.from('1749362400000\t41.3\t19.8\t50.5\n1749362401000\t41.3\t19.8\t50.5\n'))],
    ['no trailer', encodeFixCopyBinary([{ us: T, lat: 1, lon: 2, speed: '3' }]).subarray(0, -2)],
    ['a truncated tuple', encodeFixCopyBinary([{ us: T, lat: 1, lon: 2, speed: '3' }]).subarray(0, 40)],
  ])('refused: %s', (_name, bytes) => {
    expect(() => parseFixCopyBinary(bytes)).toThrow(expect.objectContaining({ code: RECOMPUTE_ERR.FIXES }));
  });
});
