/** Pure parts of the alert workflow and contracts: transitions, the stream shape, flags, the corridor, decoding. */
import { describe, expect, test } from 'vitest';
import { at } from '../../functions/src/core/timing/test-fixtures.ts';
import { parseStreamFields, toStreamFields, type AlertMessage } from './alert-stream.ts';
import { Corridor } from './corridor.ts';
import { stageRuns } from './course.ts';
import { decodeFix } from './fix.ts';
import { FlagIndex } from './flags.ts';
import type { AlertStatus } from './kinds.ts';
import { routeLonLat } from './testing/tracks.ts';
import { stampsFor, transitionError } from './transitions.ts';

describe('transitions', () => {
  test.each<[AlertStatus, AlertStatus, boolean]>([
    ['open', 'acknowledged', true],
    ['open', 'closed', true],
    ['acknowledged', 'closed', true],
    ['open', 'open', true],
    ['acknowledged', 'acknowledged', true],
    ['closed', 'closed', true],
    ['acknowledged', 'open', false],
    ['closed', 'open', false],
    ['closed', 'acknowledged', false],
  ])('%s → %s allowed: %s', (from, to, ok) => {
    expect(transitionError(from, to) === null).toBe(ok);
  });

  test.each<[AlertStatus, AlertStatus, Record<string, unknown>]>([
    ['open', 'acknowledged', { acknowledged_at: 'T', acknowledged_by: 'u' }],
    ['open', 'closed', { closed_at: 'T', closed_by: 'u' }],
    ['acknowledged', 'closed', { closed_at: 'T', closed_by: 'u' }],
    ['acknowledged', 'acknowledged', {}],
  ])('stamps of %s → %s', (from, to, stamps) => {
    expect(stampsFor(from, to, 'u', 'T')).toEqual(stamps);
  });
});

describe('safety:alerts entries', () => {
  const message: AlertMessage = { change: 'opened', id: 7, key: '3:sos', event: 1, stage: 2, entry: 3, number: 42, device: '350000000000001', kind: 'sos', severity: 'critical', status: 'open', position: { type: 'Point', coordinates: [19.8, 41.3] }, at: '2025-06-08T06:02:15.000Z', by: 'uuid', opened_at: '2025-06-08T06:02:15.000Z', note: null };

  test('round trip through the flat XADD fields', () => {
    const fields = toStreamFields(message);
    expect(fields.filter((_, i) => i % 2 === 0)).toEqual(['change', 'id', 'key', 'event', 'stage', 'entry', 'number', 'device', 'kind', 'severity', 'status', 'position', 'at', 'by', 'opened_at', 'note']);
    expect(fields.every((f) => typeof f === 'string')).toBe(true);
    expect(parseStreamFields(fields)).toEqual(message);
  });

  test.each([
    ['no id', ['change', 'opened', 'event', '1']],
    ['no event', ['change', 'opened', 'id', '1']],
    ['unknown change', ['change', 'exploded', 'id', '1', 'event', '1']],
  ])('%s → not an alert message', (_name, fields) => {
    expect(parseStreamFields(fields)).toBeNull();
  });

  test('empty optional fields read back as null', () => {
    const parsed = parseStreamFields(toStreamFields({ ...message, stage: null, entry: null, number: null, key: null, position: null, by: null }));
    expect(parsed).toMatchObject({ stage: null, entry: null, number: null, key: null, position: null, by: null });
  });
});

describe('flags (trm-timing rule: the most recent covering flag decides)', () => {
  const flags = new FlagIndex([
    { id: 1, device: 'A', fromMs: 100, toMs: 200, faulty: true },
    { id: 2, device: 'A', fromMs: 150, toMs: 160, faulty: false },
    { id: 3, device: 'B', fromMs: 500, toMs: 500, faulty: true },
  ]);
  test.each([
    ['A', 99, false], ['A', 100, true], ['A', 149, true], ['A', 155, false], ['A', 161, true], ['A', 200, true], ['A', 201, false],
    ['B', 500, true], ['B', 501, false], ['C', 150, false],
  ] as const)('%s at %d faulty: %s', (device, ts, faulty) => {
    expect(flags.isFaulty(device, ts)).toBe(faulty);
  });
});

describe('corridor distance', () => {
  const corridor = new Corridor([routeLonLat()]);
  test.each([
    ['on the line', 5000, 0, 0],
    ['500 m north', 5000, 500, 500],
    ['1 km south', 12_345, -1000, 1000],
    ['300 m before the start', -300, 0, 300],
    ['400 m past the finish, 300 m north', 20_400, 300, 500],
  ])('%s', (_name, x, y, metres) => {
    const [lon, lat] = at(x, y);
    expect(corridor.distanceM(lon, lat)).toBeCloseTo(metres, 0);
  });
  test('no route: infinitely far, no control points', () => {
    const none = new Corridor([]);
    expect([none.empty, none.distanceM(19.8, 41.3), none.start, none.finish]).toEqual([true, Infinity, null, null]);
  });
});

describe('stage window', () => {
  test.each([
    ['running, inside', { status: 'running', plannedStartMs: 100, closesAtMs: 200 }, 150, true],
    ['planned but its start passed', { status: 'planned', plannedStartMs: 100, closesAtMs: 200 }, 150, true],
    ['before the planned start', { status: 'running', plannedStartMs: 100, closesAtMs: 200 }, 99, false],
    ['after closing', { status: 'running', plannedStartMs: 100, closesAtMs: 200 }, 201, false],
    ['finished', { status: 'finished', plannedStartMs: 100, closesAtMs: 200 }, 150, false],
    ['running without times', { status: 'running', plannedStartMs: null, closesAtMs: null }, 150, true],
    ['planned without a start', { status: 'planned', plannedStartMs: null, closesAtMs: null }, 150, false],
  ])('%s', (_name, stage, t, runs) => {
    expect(stageRuns(stage, t)).toBe(runs);
  });
});

describe('stream entry → fix', () => {
  const base = ['imei', '350000000000001', 'ts', '1749362400000', 'lat', '41.3', 'lon', '19.8', 'speed', '0', 'sats', '9', 'priority', '2', 'event', '247', 'io', '{"247":1,"239":"1","x":"no"}', 'rx', '1749362400500', 'fix', '1'];
  test('fields of the telemetry contract', () => {
    const d = decodeFix(base);
    expect(d.ok && d.fix).toMatchObject({ imei: '350000000000001', tsMs: 1749362400000, rxMs: 1749362400500, priority: 2, eventIo: 247, io: { 247: 1, 239: 1 }, valid: true, faulty: false });
  });
  test('no rx: the device time stands in; bad io: empty', () => {
    const d = decodeFix(base.map((v, i) => (base[i - 1] === 'rx' ? '' : base[i - 1] === 'io' ? '{broken}' : v)));
    expect(d.ok && d.fix).toMatchObject({ rxMs: 1749362400000, io: {} });
  });
  test('missing imei: rejected with the reason', () => {
    expect(decodeFix(base.slice(2))).toEqual({ ok: false, reason: 'missing imei' });
  });
});
