import { describe, expect, test } from 'vitest';
import type { StageStatus, TimeControlRow } from '../core/timing/index.ts';
import { timeControlArrivals } from './rows.ts';

const T = Date.UTC(2025, 5, 8, 10, 15, 0);
const late: TimeControlRow = { controlId: '7', code: 'TC1', arrivedAtMs: T + 180_500, interpolated: true, dueMs: T, deltaMs: 180_500 };
const early: TimeControlRow = { controlId: '8', code: 'TC2', arrivedAtMs: T - 61_000, interpolated: false, dueMs: T, deltaMs: -61_000 };
const notReached: TimeControlRow = { controlId: '9', code: null, arrivedAtMs: null, interpolated: false, dueMs: T, deltaMs: null };
const noDue: TimeControlRow = { controlId: '10', code: 'TC4', arrivedAtMs: T, interpolated: true, dueMs: null, deltaMs: null };

describe('stage_times.time_controls', () => {
  test('late, early and unknown deltas in the stored form', () => {
    expect(timeControlArrivals('finished', [late, early, noDue])).toEqual([
      { control: 7, code: 'TC1', due_at: '2025-06-08T10:15:00.000Z', arrived_at: '2025-06-08T10:18:00.500Z', interpolated: true, late_ms: 180_500, early_ms: 0 },
      { control: 8, code: 'TC2', due_at: '2025-06-08T10:15:00.000Z', arrived_at: '2025-06-08T10:13:59.000Z', interpolated: false, late_ms: 0, early_ms: 61_000 },
      { control: 10, code: 'TC4', due_at: null, arrived_at: '2025-06-08T10:15:00.000Z', interpolated: true, late_ms: null, early_ms: null },
    ]);
  });

  // a control not reached yet is listed only once the entry can no longer reach it
  test.each<[StageStatus, number[] | null]>([
    ['running', [7]],
    ['dns', [7]],
    ['finished', [7, 9]],
    ['dnf', [7, 9]],
  ])('%s: controls listed %j', (status, controls) => {
    expect(timeControlArrivals(status, [late, notReached])?.map((c) => c.control)).toEqual(controls);
  });

  test('null when the course has no time control (rows stored before the field existed stay as they are)', () => {
    expect(timeControlArrivals('finished', [])).toBeNull();
  });
});
