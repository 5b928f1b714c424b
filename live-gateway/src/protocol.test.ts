import { describe, expect, test } from 'vitest';
import { encodeBatch, encodeError, parseClientMessage, parseStreamFields } from './protocol.ts';

describe('parseClientMessage', () => {
  test.each([
    ['{"type":"auth","access_token":"abc"}', { type: 'auth', token: 'abc' }],
    ['{"type":"subscribe","event":7}', { type: 'subscribe', event: 7 }],
    ['{"type":"subscribe","event":"7"}', { type: 'subscribe', event: 7 }],
    ['{"type":"unsubscribe","event":3}', { type: 'unsubscribe', event: 3 }],
    ['{"type":"ping"}', { type: 'ping' }],
  ])('%s', (raw, want) => {
    expect(parseClientMessage(raw)).toEqual(want);
  });

  test.each([
    ['not json', 'not JSON'],
    ['[1]', 'JSON object'],
    ['null', 'JSON object'],
    ['{"type":"subscribe"}', 'positive integer'],
    ['{"type":"subscribe","event":0}', 'positive integer'],
    ['{"type":"subscribe","event":1.5}', 'positive integer'],
    ['{"type":"subscribe","event":"1; drop"}', 'positive integer'],
    ['{"type":"auth"}', 'access_token'],
    ['{"type":"auth","access_token":""}', 'access_token'],
    ['{"type":"hello"}', 'unknown message type'],
    [`{"type":"ping","pad":"${'x'.repeat(20_000)}"}`, 'longer than'],
  ])('refuses %s', (raw, message) => {
    expect(() => parseClientMessage(raw)).toThrow(expect.objectContaining({ code: 'GW_ERR_BAD_REQUEST', wire: 'BAD_REQUEST', message: expect.stringContaining(message) }));
  });
});

describe('encoders', () => {
  test('error and batch frames are JSON', () => {
    expect(JSON.parse(encodeError('FORBIDDEN', 'no', { event: 4 }))).toEqual({ type: 'error', code: 'FORBIDDEN', message: 'no', event: 4 });
    expect(JSON.parse(encodeBatch(['{"a":1}', '{"b":2}']))).toEqual({ type: 'batch', messages: [{ a: 1 }, { b: 2 }] });
  });
});

describe('parseStreamFields', () => {
  const base = ['imei', '356307042441013', 'ts', '1763800000000', 'lat', '41.3275', 'lon', '19.8187', 'speed', '88', 'heading', '270', 'alt', '110', 'sats', '12', 'fix', '1', 'io', '{}'];
  test('decodes a full entry', () => {
    expect(parseStreamFields(base)).toEqual({ imei: '356307042441013', ts: 1763800000000, lat: 41.3275, lon: 19.8187, speed: 88, heading: 270, alt: 110, sats: 12, fix: true });
  });
  test('fix 0 is kept as fix false', () => {
    expect(parseStreamFields([...base.slice(0, 16), 'fix', '0'])?.fix).toBe(false);
  });
  test.each([
    ['no imei', base.slice(2)],
    ['bad lat', base.map((v) => (v === '41.3275' ? 'x' : v))],
    ['lat out of range', base.map((v) => (v === '41.3275' ? '91' : v))],
    ['no ts', base.filter((_, i) => i !== 2 && i !== 3)],
  ])('null on %s', (_name, flat) => {
    expect(parseStreamFields(flat)).toBeNull();
  });
});

describe('streamEntries (consumer.ts)', () => {
  test.each([
    ['RESP2 [[key, entries]]', [['k', [['1-0', ['imei', '1']]]]]],
    ['ioredis 6 flattened map [key, entries]', ['k', [['1-0', ['imei', '1']]]]],
  ])('%s', async (_name, reply) => {
    const { streamEntries } = await import('./consumer.ts');
    expect(streamEntries(reply)).toEqual([['1-0', ['imei', '1']]]);
  });
  test('null reply (BLOCK timed out) is empty', async () => {
    const { streamEntries } = await import('./consumer.ts');
    expect(streamEntries(null)).toEqual([]);
  });
});
