import { describe, expect, test } from 'vitest';
import { decodeEntry, utcDay } from './record.ts';

const base = { imei: '356307042441013', ts: '1717243200000', lat: '41.3275', lon: '19.8187', alt: '110', speed: '87.5', heading: '270', sats: '11', priority: '1', event: '0', io: '{"239":1,"66":12800}', rx: '1717243200450', src: 'ingest-a', fix: '1', codec: '8E' };
const flat = (o: Record<string, string | undefined>) => Object.entries(o).flatMap(([k, v]) => (v === undefined ? [] : [k, v]));

describe('decodeEntry', () => {
  test('a complete entry becomes a row with every field typed', () => {
    expect(decodeEntry(flat(base))).toEqual({
      ok: true,
      row: { imei: '356307042441013', tsMs: 1717243200000, lat: 41.3275, lon: 19.8187, alt: 110, speedKmh: 87.5, heading: 270, sats: 11, priority: 1, eventIo: 0, io: '{"239":1,"66":12800}', fix: true, rxMs: 1717243200450, src: 'ingest-a' },
    });
  });

  test.each([
    ['imei missing', { imei: undefined }, 'missing imei'],
    ['imei with a space', { imei: '3563 0704' }, 'invalid imei'],
    ['imei longer than 20', { imei: '1'.repeat(21) }, 'invalid imei'],
    ['ts missing', { ts: undefined }, 'missing ts'],
    ['ts not a number', { ts: 'yesterday' }, 'invalid ts (not an integer of ms)'],
    ['ts fractional', { ts: '1717243200000.5' }, 'invalid ts (not an integer of ms)'],
    ['ts empty', { ts: '' }, 'invalid ts (not an integer of ms)'],
    ['ts 1970 (no GPS time)', { ts: '0' }, 'ts out of range (2000..2100)'],
    ['ts in seconds, not ms', { ts: '1717243200' }, 'ts out of range (2000..2100)'],
    ['lat missing', { lat: undefined }, 'missing lat'],
    ['lat > 90', { lat: '91' }, 'invalid lat'],
    ['lat NaN', { lat: 'NaN' }, 'invalid lat'],
    ['lat empty', { lat: '' }, 'invalid lat'],
    ['lon missing', { lon: undefined }, 'missing lon'],
    ['lon < -180', { lon: '-180.5' }, 'invalid lon'],
    ['lon Infinity', { lon: 'Infinity' }, 'invalid lon'],
  ])('%s → dead letter', (_name, patch, reason) => {
    expect(decodeEntry(flat({ ...base, ...patch }))).toEqual({ ok: false, reason });
  });

  test('an entry without fields (trimmed while pending) is rejected', () => {
    expect(decodeEntry(null)).toEqual({ ok: false, reason: 'entry has no fields (trimmed or deleted)' });
  });

  test.each([
    ['alt', { alt: 'high' }, 'alt', 0],
    ['speed', { speed: '' }, 'speedKmh', 0],
    ['heading', { heading: undefined }, 'heading', 0],
    ['sats beyond smallint', { sats: '40000' }, 'sats', 0],
    ['priority fractional', { priority: '1.5' }, 'priority', 0],
    ['event negative', { event: '-3' }, 'eventIo', 0],
    ['io not an object', { io: '[1,2]' }, 'io', '{}'],
    ['io missing', { io: undefined }, 'io', '{}'],
    ['rx garbage', { rx: 'x' }, 'rxMs', null],
    ['rx before 2000', { rx: '5' }, 'rxMs', null],
    ['rx beyond any date', { rx: '9007199254740991' }, 'rxMs', null],
    ['src empty', { src: '' }, 'src', null],
  ])('invalid optional %s takes the default', (_name, patch, key, value) => {
    const d = decodeEntry(flat({ ...base, ...patch }));
    expect(d.ok).toBe(true);
    if (d.ok) expect(d.row[key as keyof typeof d.row]).toEqual(value);
  });

  test('unknown fields are ignored', () => {
    const d = decodeEntry([...flat(base), 'future_field', 'x', 'another', '{"a":1}']);
    expect(d).toEqual(decodeEntry(flat(base)));
  });

  test('src is cut to the column width (64)', () => {
    const d = decodeEntry(flat({ ...base, src: 's'.repeat(100) }));
    expect(d.ok && d.row.src).toBe('s'.repeat(64));
  });

  test.each([
    ['given 1', { fix: '1' }, true],
    ['given 0', { fix: '0' }, false],
    ['given true', { fix: 'true' }, true],
    ['absent, satellites and a position', { fix: undefined }, true],
    ['absent, 0 satellites', { fix: undefined, sats: '0' }, false],
    ['absent, 0,0', { fix: undefined, lat: '0', lon: '0' }, false],
  ])('fix %s → %s', (_name, patch, fix) => {
    const d = decodeEntry(flat({ ...base, ...patch }));
    expect(d.ok && d.row.fix).toBe(fix);
  });

  test('the last value wins when a field repeats (XADD allows it)', () => {
    const d = decodeEntry([...flat(base), 'lat', '42']);
    expect(d.ok && d.row.lat).toBe(42);
  });
});

test.each([
  [Date.UTC(2024, 5, 1, 0, 0, 0), 19875],
  [Date.UTC(2024, 5, 1, 23, 59, 59, 999), 19875],
  [Date.UTC(2024, 5, 2), 19876],
])('utcDay(%i) = %i', (ts, day) => {
  expect(utcDay(ts)).toBe(day);
});
