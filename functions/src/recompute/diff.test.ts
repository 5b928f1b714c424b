import { describe, expect, test } from 'vitest';
import { diffRows, sameValue, STAGE_TIME_FIELDS, WAYPOINT_PASS_FIELDS } from './diff.ts';

const st = (entry: number, extra: Record<string, unknown> = {}) => ({ key: `1:${entry}`, stage: 1, entry, status: 'finished', start_at: '2025-06-08T06:00:00.000Z', finish_at: '2025-06-08T07:00:00.250Z', raw_ms: 3_600_250, neutralised_ms: 0, net_ms: 3_600_250, splits: [{ geofence: 3, crossed_at: null, elapsed_ms: null, net_elapsed_ms: null }], ...extra });

describe('sameValue: values as the database gives them back', () => {
  test.each([
    ['instant, Directus format', 'instant', '2025-06-08T06:00:00.000Z', '2025-06-08T06:00:00Z', true],
    ['instant, other offset', 'instant', '2025-06-08T08:00:00.001+02:00', '2025-06-08T06:00:00.001Z', true],
    ['instant, a millisecond off', 'instant', '2025-06-08T06:00:00.001Z', '2025-06-08T06:00:00.000Z', false],
    ['real at single precision', 'real', 12.34, Math.fround(12.34), true],
    ['real, different', 'real', 12.34, 12.35, false],
    ['json with keys in another order', 'json', { a: 1, b: [1, { c: 2, d: 3 }] }, { b: [1, { d: 3, c: 2 }], a: 1 }, true],
    ['json from a string', 'json', { a: 1 }, '{"a":1}', true],
    ['null and undefined', 'int', null, undefined, true],
    ['int from a string', 'int', 5, '5', true],
    ['null vs 0', 'int', null, 0, false],
  ] as const)('%s', (_name, kind, a, b, same) => {
    expect(sameValue(kind, a, b)).toBe(same);
  });
});

describe('diffRows', () => {
  test('creates the new, updates only the changed fields, deletes the vanished, leaves the equal', () => {
    const stored = [
      { id: 10, ...st(1) },
      { id: 11, ...st(2, { finish_at: '2025-06-08T07:00:01.000Z', raw_ms: 3_601_000, net_ms: 3_601_000 }) },
      { id: 12, ...st(3) },
    ];
    const wanted = [st(1), st(2, { finish_at: '2025-06-08T07:00:00.500Z', raw_ms: 3_600_500, net_ms: 3_600_500 }), st(4)];
    const d = diffRows(wanted, stored, STAGE_TIME_FIELDS);
    expect(d.create.map((r) => r.key)).toEqual(['1:4']);
    expect(d.update).toEqual([{ id: 11, finish_at: '2025-06-08T07:00:00.500Z', raw_ms: 3_600_500, net_ms: 3_600_500 }]);
    expect(d.delete).toEqual([12]);
    expect(d.unchanged).toBe(1);
  });

  test('a second diff of the same rows changes nothing', () => {
    const wanted = [{ key: '1:1:5', stage: 1, entry: 1, waypoint: 5, validated: true, passed_at: '2025-06-08T06:10:00.123Z', distance_m: 43.21, method: 'segment' }];
    const stored = wanted.map((w, i) => ({ id: i + 1, ...w, distance_m: Math.fround(w.distance_m), passed_at: '2025-06-08T06:10:00.123Z' }));
    expect(diffRows(wanted, stored, WAYPOINT_PASS_FIELDS)).toEqual({ create: [], update: [], delete: [], unchanged: 1 });
  });
});
