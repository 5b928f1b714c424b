import { expect, test } from 'vitest';
import { parseFixes } from './fixes.ts';
import { overlaps, stageSpan, sqlInstant } from './span.ts';
import type { StageRow } from './course.ts';
import type { EventBounds } from './span.ts';

const stage = (extra: Partial<StageRow> = {}): StageRow => ({ id: 1, event: 1, code: 'SS1', sequence: 1, planned_start: '2025-06-08T06:00:00Z', start_interval_s: 60, max_time_s: 4 * 3600, closes_at: null, status: 'planned', ...extra });
const event: EventBounds = { starts_at: '2025-06-07T00:00:00Z', ends_at: '2025-06-14T00:00:00Z' };
const T = Date.parse('2025-06-08T06:00:00Z');

test.each([
  ['planned start, 10 entries, max time', stage(), 10, { fromMs: T - 1_800_000, toMs: T + 600_000 + 4 * 3_600_000 }],
  ['closes_at wins', stage({ closes_at: '2025-06-08T14:00:00Z' }), 10, { fromMs: T - 1_800_000, toMs: Date.parse('2025-06-08T14:00:00Z') }],
  ['no max time: 12 h', stage({ max_time_s: null }), 0, { fromMs: T - 1_800_000, toMs: T + 12 * 3_600_000 }],
  ['no planned start: the event', stage({ planned_start: null }), 10, { fromMs: Date.parse(event.starts_at!), toMs: Date.parse(event.ends_at!) }],
  ['nothing known: unbounded', stage({ planned_start: null }), 10, { fromMs: -Infinity, toMs: Infinity }, { starts_at: null, ends_at: null } as EventBounds],
] as [string, StageRow, number, { fromMs: number; toMs: number }, EventBounds?][])('stage span: %s', (_name, s, entries, span, ev = event) => {
  expect(stageSpan(s, ev, entries)).toEqual(span);
});

test.each([
  [undefined, undefined, true],
  ['2025-06-08T05:00:00Z', '2025-06-08T05:30:00Z', true],
  ['2025-06-08T04:00:00Z', '2025-06-08T05:29:59Z', false],
  ['2025-06-08T10:10:00.001Z', undefined, false],
  [undefined, '2025-06-08T05:30:00Z', true],
])('window %s..%s overlaps: %s', (from, to, expected) => {
  expect(overlaps({ fromMs: T - 1_800_000, toMs: T + 4 * 3_600_000 + 600_000 }, from, to)).toBe(expected);
});

test('unbounded instants in SQL', () => {
  expect([sqlInstant(-Infinity), sqlInstant(Infinity), sqlInstant(T)]).toEqual(['-infinity', 'infinity', '2025-06-08T06:00:00.000Z']);
});

test('COPY text rows parse to fixes', () => {
  expect(parseFixes('1749362400000\t41.3\t19.8\t50.5\n1749362401000\t41.30001\t19.80012\t0\n')).toEqual([
    { ts: 1749362400000, lat: 41.3, lon: 19.8, speedKmh: 50.5, fix: true },
    { ts: 1749362401000, lat: 41.30001, lon: 19.80012, speedKmh: 0, fix: true },
  ]);
  expect(parseFixes('')).toEqual([]);
});
