import { describe, expect, test } from 'vitest';
import { parseFixBytes, parseFixes } from './fix-text.ts';

/** Deterministic doubles of every shape Postgres's float8out / float4out can print. */
function* samples(): Generator<number> {
  let s = 0x2545f491;
  const rnd = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
  for (let i = 0; i < 20_000; i++) {
    yield (rnd() - 0.5) * 360; // lon/lat-like, mostly 16–17 significant digits
    yield Math.round(rnd() * 1e7) / 1e7 + 19; // Teltonika's 1e-7 degrees
    yield Math.fround(rnd() * 250); // a real (float4) speed
    yield Math.round(rnd() * 300); // integer speed
    yield (rnd() - 0.5) * 10 ** Math.floor(rnd() * 40 - 20); // exponents both ways
  }
  yield* [0, -0, 1e-7, -1e-5, 123456789012345680000, 2 ** 53, 2 ** 53 + 2, 9007199254740991.5, 0.1, 0.3, 1 / 3];
}

describe('parseFixBytes', () => {
  test('every number reads back exactly as Number() reads its text', () => {
    const values = [...samples()];
    const lines: string[] = [];
    for (let i = 0; i + 3 < values.length; i += 4) lines.push(`${1749362400000 + i}\t${values[i]}\t${values[i + 1]}\t${values[i + 2]}\n`);
    const fixes = parseFixBytes(Buffer.from(lines.join(''), 'latin1'));
    expect(fixes).toHaveLength(lines.length);
    for (let k = 0; k < fixes.length; k++) {
      const [ts, lat, lon, speed] = lines[k].slice(0, -1).split('\t').map(Number);
      const f = fixes[k];
      if (!(Object.is(f.ts, ts) && Object.is(f.lat, lat) && Object.is(f.lon, lon) && Object.is(f.speedKmh, speed))) expect([f.ts, f.lat, f.lon, f.speedKmh], lines[k]).toEqual([ts, lat, lon, speed]);
    }
  });

  test.each([
    ['two rows', '1749362400000\t41.3\t19.8\t50.5\n1749362401000\t41.30001\t19.80012\t0\n', [[1749362400000, 41.3, 19.8, 50.5], [1749362401000, 41.30001, 19.80012, 0]]],
    ['no final newline', '1\t-41.5\t-0.25\t7', [[1, -41.5, -0.25, 7]]],
    ['exponent, NaN and Infinity as Postgres prints them', '2\t1e-05\t-1.5e+20\tNaN\n3\tInfinity\t-Infinity\t0\n', [[2, 1e-5, -1.5e20, NaN], [3, Infinity, -Infinity, 0]]],
    ['a truncated last row is dropped', '1\t2\t3\t4\n5\t6', [[1, 2, 3, 4]]],
    ['empty', '', []],
  ])('%s', (_name, text, want) => {
    expect(parseFixes(text).map((f) => [f.ts, f.lat, f.lon, f.speedKmh])).toEqual(want);
    expect(parseFixes(text).every((f) => f.fix === true)).toBe(true);
  });
});
