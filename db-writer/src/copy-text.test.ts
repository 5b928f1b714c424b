import { expect, test } from 'vitest';
import { copyLineDirect, escapeCopyText, isoFormatter, TARGET_COLUMNS } from './copy-text.ts';
import type { PositionRow } from './record.ts';

const row: PositionRow = { imei: '356307042441013', tsMs: 1717243200000, lat: 41.3275, lon: -19.5, alt: 110.5, speedKmh: 0, heading: 359, sats: 9, priority: 2, eventIo: 240, io: '{"a":"x\\\\y"}', fix: false, rxMs: null, src: null };

test.each([
  ['plain', 'plain'],
  ['back\\slash', 'back\\\\slash'],
  ['tab\there', 'tab\\there'],
  ['new\nline\r', 'new\\nline\\r'],
  ['{"k":"a\\"b"}', '{"k":"a\\\\"b"}'],
])('escapeCopyText(%j) = %j', (input, output) => {
  expect(escapeCopyText(input)).toBe(output);
});

test('a row is one line, one column per target column, NULL as \\N', () => {
  const line = copyLineDirect(row);
  expect(line.endsWith('\n')).toBe(true);
  const cols = line.slice(0, -1).split('\t');
  expect(cols).toHaveLength(TARGET_COLUMNS.length);
  expect(cols).toEqual(['356307042441013', '2024-06-01T12:00:00.000Z', '41.3275', '-19.5', '110.5', '0', '359', '9', '2', '240', '{"a":"x\\\\\\\\y"}', 'f', '\\N', '\\N']);
});

test('src with a tab cannot split the line into more columns', () => {
  const cols = copyLineDirect({ ...row, src: 'a\tb', rxMs: 1717243200005 }).slice(0, -1).split('\t');
  expect(cols).toHaveLength(TARGET_COLUMNS.length);
  expect(cols.slice(-2)).toEqual(['2024-06-01T12:00:00.005Z', 'a\\tb']);
});

test('a direct row carries times as ISO-8601 UTC for a COPY straight into positions', () => {
  const cols = copyLineDirect({ ...row, rxMs: 1717243200450, src: 'ingest-a' }).slice(0, -1).split('\t');
  expect(cols).toHaveLength(TARGET_COLUMNS.length);
  expect(cols[1]).toBe('2024-06-01T12:00:00.000Z');
  expect(cols.slice(-2)).toEqual(['2024-06-01T12:00:00.450Z', 'ingest-a']);
});

test('isoFormatter writes what Date#toISOString writes, across seconds, days and before 1970', () => {
  const iso = isoFormatter();
  const times = [0, 1, 9, 10, 99, 100, 999, 1000, 1001, -1, -999, -1000, -1001, 946_684_799_999, 946_684_800_000, 1717243200450, 1717243200450, 1717243201005, 4_102_444_799_999];
  for (let t = 1717200000000; t < 1717200000000 + 5000; t += 37) times.push(t);
  for (const t of times) expect(iso(t), String(t)).toBe(new Date(t).toISOString());
});
