import { describe, expect, test } from 'vitest';
import { resolveOptions } from './options.ts';
import { T0, at, fix } from './test-fixtures.ts';
import { prepareTrack } from './track.ts';

const opts = resolveOptions();

describe('prepareTrack', () => {
  test('sorts out-of-order fixes, drops no-fix, malformed and same-ts records', () => {
    const track = prepareTrack(
      [
        fix(T0 + 2000, at(20, 0)),
        fix(T0, at(0, 0)),
        fix(T0 + 1000, at(10, 0), 50, { fix: false }),
        fix(T0 + 1000, at(10, 0)),
        fix(T0 + 1000, at(10, 0)), // exact duplicate
        fix(T0 + 3000, [Number.NaN, 41.3]),
        fix(T0 + 4000, at(40, 0), -1), // negative speed
      ],
      opts,
    );
    expect(track.fixes.map((f) => f.ts - T0)).toEqual([0, 1000, 2000]);
    expect(track.stats).toMatchObject({ received: 7, used: 3, droppedNoFix: 1, droppedInvalid: 2, droppedDuplicates: 1, gaps: 0, spikes: 0 });
  });

  test('two different records with the same ts: the survivor does not depend on input order', () => {
    const a = fix(T0, at(0, 0), 40);
    const b = fix(T0, at(5, 0), 60);
    expect(prepareTrack([a, b], opts).fixes).toEqual(prepareTrack([b, a], opts).fixes);
  });

  test.each([
    ['10 s, 250 m (90 km/h): ok', 10_000, 250, 'ok'],
    ['30 s exactly: ok (the limit is inclusive)', 30_000, 250, 'ok'],
    ['30.001 s: gap', 30_001, 250, 'gap'],
    ['1 s, 250 m (900 km/h): spike', 1000, 250, 'spike'],
    ['60 s, 5 km (300 km/h): spike wins over gap', 60_000, 5000, 'spike'],
  ] as const)('pair kind: %s', (_name, dt, dx, kind) => {
    const track = prepareTrack([fix(T0, at(0, 0)), fix(T0 + dt, at(dx, 0))], opts);
    expect(track.pairs).toEqual([kind]);
  });
});
