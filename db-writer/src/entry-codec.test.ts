import { expect, test } from 'vitest';
import { rng } from '../../common/src/testing/random.ts';
import { copyLineDirect, TARGET_COLUMNS } from './copy-text.ts';
import { EntryDecoder, type StreamEntry } from './entry-codec.ts';
import { decodeEntry } from './record.ts';
import { RespFramer } from './resp-client.ts';
import { copyPayload } from './sink.ts';

const base: Record<string, string> = { imei: '356307042441013', ts: '1717243200123', lat: '41.327500', lon: '19.818700', alt: '110', speed: '87', heading: '270', sats: '11', priority: '1', event: '0', io: '{"239":1,"66":12800}', rx: '1717243200450', src: 'ingest-a', fix: '1', codec: '8E' };
const flat = (o: Record<string, string | undefined>) => Object.entries(o).flatMap(([k, v]) => (v === undefined ? [] : [k, v]));

const bulk = (s: string) => `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
/** The bytes Redis sends for XREADGROUP … STREAMS key >: entries as [id, fields | null]. */
function xreadgroupReply(entries: [string, string[] | null][]): Buffer {
  let out = `*1\r\n*2\r\n${bulk('telemetry:positions')}*${entries.length}\r\n`;
  for (const [id, fields] of entries) out += `*2\r\n${bulk(id)}${fields === null ? '*-1\r\n' : `*${fields.length}\r\n${fields.map(bulk).join('')}`}`;
  return Buffer.from(out);
}

const line = (e: StreamEntry) => (e.ok ? e.buf.toString('utf8', e.start, e.end) : undefined);

/** The stored value of each column, as Postgres would read the line (float4 columns rounded to float4). */
function columns(text: string): unknown[] {
  const cols = text.replace(/\n$/, '').split('\t');
  return cols.map((c, i) => {
    const name = TARGET_COLUMNS[i];
    if (['lat', 'lon'].includes(name)) return Number(c) === 0 ? 0 : Number(c); // -0 and 0 compare equal
    if (['alt', 'speed', 'heading'].includes(name)) return Math.fround(Number(c)) === 0 ? 0 : Math.fround(Number(c));
    if (['sats', 'priority', 'event_io'].includes(name)) return Number(c);
    return c;
  });
}

/** The reference path's line for the same fields (record.ts + copy-text.ts). */
function reference(fields: string[] | null): unknown[] | string {
  const d = decodeEntry(fields);
  return d.ok ? columns(copyLineDirect(d.row)) : d.reason;
}

function decodeOne(fields: string[] | null): StreamEntry {
  const [entry] = new EntryDecoder().decodeReadReply(xreadgroupReply([['1-0', fields]]));
  return entry;
}

test('a well-formed entry becomes its COPY line with the bytes Redis sent (no number round trip)', () => {
  const e = decodeOne(flat(base));
  expect([e.id, e.idMs]).toEqual(['1-0', 1]);
  expect(line(e)).toBe('356307042441013\t2024-06-01T12:00:00.123Z\t41.327500\t19.818700\t110\t87\t270\t11\t1\t0\t{"239":1,"66":12800}\tt\t2024-06-01T12:00:00.450Z\tingest-a\n');
  expect(e.ok && [e.imei, e.tsMs]).toEqual(['356307042441013', 1717243200123]);
  expect(e.fields()).toEqual(flat(base));
});

test.each([
  ['every optional field absent', { alt: undefined, speed: undefined, heading: undefined, sats: undefined, priority: undefined, event: undefined, io: undefined, rx: undefined, src: undefined, fix: undefined }],
  ['escapes in io and src', { io: '{"a":"x\\\\y\\tz"}', src: 'a\tb\\c\nd\re' }],
  ['io not an object', { io: '[1,2]' }],
  ['io UTF-8', { io: '{"n":"Gjirokastër"}' }],
  ['fix from satellites and position', { fix: undefined, lat: '0.000', lon: '-0', sats: '5' }],
  ['fix true/false words', { fix: 'false' }],
  ['fix unknown word', { fix: 'maybe', sats: '0' }],
  ['lat at the edge (90)', { lat: '90' }],
  ['lat beyond', { lat: '90.0000001' }],
  ['lat with exponent', { lat: '4.1e1' }],
  ['lat with plus sign', { lat: '+41.5' }],
  ['lat ending in a dot', { lat: '41.' }],
  ['lon -180', { lon: '-180' }],
  ['lon 179.999999', { lon: '179.999999' }],
  ['lon empty', { lon: '' }],
  ['alt NaN', { alt: 'NaN' }],
  ['alt negative decimal', { alt: '-12.75' }],
  ['speed too many digits', { speed: '1234567890.1234567' }],
  ['sats beyond smallint', { sats: '40000' }],
  ['sats with leading zeros', { sats: '011' }],
  ['priority fractional', { priority: '1.5' }],
  ['event at INT_MAX', { event: '2147483647' }],
  ['event beyond INT_MAX', { event: '2147483648' }],
  ['rx empty', { rx: '' }],
  ['rx before 2000', { rx: '12' }],
  ['rx beyond any date', { rx: '9999999999999999' }],
  ['rx negative', { rx: '-5' }],
  ['src 64 bytes', { src: 's'.repeat(64) }],
  ['src 65 bytes (cut)', { src: 's'.repeat(65) }],
  ['src multi-byte, long', { src: 'ë'.repeat(40) }],
  ['imei lowercase letters', { imei: 'abc123' }],
  ['imei too long', { imei: '1'.repeat(21) }],
  ['imei with a dash', { imei: '35630-7042' }],
  ['imei missing', { imei: undefined }],
  ['ts in seconds', { ts: '1717243200' }],
  ['ts with leading zeros', { ts: '0001717243200123' }],
  ['ts fractional', { ts: '1717243200000.5' }],
  ['ts missing', { ts: undefined }],
])('%s: the same stored values, or the same reason, as the reference path', (_name, patch) => {
  const fields = flat({ ...base, ...patch });
  const e = decodeOne(fields);
  const got = e.ok ? columns(line(e)!) : e.reason;
  expect(got).toEqual(reference(fields));
  expect(e.fields()).toEqual(fields);
});

test('a field without a value (an odd count) is ignored, and the next entry still reads right', () => {
  const odd = [...flat(base), 'dangling'];
  const [a, b] = new EntryDecoder().decodeReadReply(xreadgroupReply([['1-0', odd], ['2-0', flat(base)]]));
  expect(columns(line(a)!)).toEqual(reference(odd));
  expect(columns(line(b)!)).toEqual(reference(flat(base)));
  expect(a.fields()).toEqual(odd);
});

test('a repeated field: the last value wins, as on the reference path', () => {
  const fields = [...flat(base), 'lat', '42.5'];
  expect(columns(line(decodeOne(fields))!)).toEqual(reference(fields));
});

test('a nil entry (trimmed while pending) is rejected with no fields', () => {
  const e = decodeOne(null);
  expect([e.ok, e.reason]).toEqual([false, 'entry has no fields (trimmed or deleted)']);
  expect(e.fields()).toBeNull();
});

test('a BLOCK that timed out (nil reply) is no entries', () => {
  expect(new EntryDecoder().decodeReadReply(Buffer.from('*-1\r\n'))).toEqual([]);
});

test('10,000 random entries, good and bad mixed, decode as the reference path does, and their lines lie back to back', () => {
  const random = rng(42);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)];
  const numbers = ['0', '-0', '1', '41.5', '-19.123456', '89.999999', '90', '-90.1', '179.5', '180', '1e3', 'NaN', '', ' 1', '007', '3.', '.5', '-', '32767', '32768', '2147483647', '99999999999999999'];
  const entries: [string, string[] | null][] = [];
  for (let i = 0; i < 10_000; i++) {
    const o: Record<string, string | undefined> = { ...base, imei: String(356307040000000 + (i % 700)), ts: String(1717243200000 + i * 137) };
    for (const k of ['lat', 'lon', 'alt', 'speed', 'heading', 'sats', 'priority', 'event', 'rx']) if (random() < 0.08) o[k] = random() < 0.15 ? undefined : pick(numbers);
    if (random() < 0.05) o.io = pick(['{}', '[]', '{"a":"\\\\"}', 'x', undefined, '{"t":"a\tb"}']);
    if (random() < 0.05) o.fix = pick(['0', '1', 'true', 'false', 'x', undefined]);
    if (random() < 0.01) o.imei = pick(['', 'bad imei', undefined]);
    entries.push([`${i + 1}-0`, i % 997 === 0 ? null : flat(o)]);
  }
  const decoded = new EntryDecoder().decodeReadReply(xreadgroupReply(entries));
  expect(decoded.map((e) => e.id)).toEqual(entries.map(([id]) => id));
  for (let i = 0; i < entries.length; i++) {
    const e = decoded[i];
    expect(e.ok ? columns(line(e)!) : e.reason, entries[i][0]).toEqual(reference(entries[i][1]));
    expect(e.fields(), entries[i][0]).toEqual(entries[i][1]);
  }
  const rows = decoded.filter((e) => e.ok);
  expect(rows.length).toBeGreaterThan(9000);
  // one buffer, one slice: what the sink sends as the batch's COPY payload
  expect(copyPayload(rows).toString('utf8')).toBe(rows.map((r) => r.buf.toString('utf8', r.start, r.end)).join(''));
  expect(new Set(rows.map((r) => r.buf)).size).toBe(1);
});

test('entries parsed into strings elsewhere (XAUTOCLAIM through ioredis) take the reference path', () => {
  const [e] = new EntryDecoder().decodeStrings([['1717243200999-3', flat(base)]]);
  expect(e.idMs).toBe(1717243200999);
  expect(columns(line(e)!)).toEqual(reference(flat(base)));
  expect(e.fields()).toEqual(flat(base));
});

test('RespFramer: a reply split at every byte offset comes out once, whole; replies glued in one chunk come out in order', () => {
  const reply = xreadgroupReply([['1-0', flat(base)], ['2-0', null], ['3-0', flat({ ...base, src: 'é' })]]);
  const wire = Buffer.concat([Buffer.from('+OK\r\n'), reply, Buffer.from('-NOGROUP x\r\n:7\r\n$-1\r\n*0\r\n')]);
  const expected = ['+OK\r\n', reply.toString('latin1'), '-NOGROUP x\r\n', ':7\r\n', '$-1\r\n', '*0\r\n'];
  for (let cut = 0; cut <= wire.length; cut++) {
    const framer = new RespFramer();
    const frames = [...framer.feed(wire.subarray(0, cut)), ...framer.feed(wire.subarray(cut))];
    expect(frames.map((f) => f.toString('latin1')), `cut at ${cut}`).toEqual(expected);
  }
  // byte by byte, with frames kept while later bytes arrive: none is written over
  const framer = new RespFramer();
  const frames: Buffer[] = [];
  for (let i = 0; i < wire.length; i++) frames.push(...framer.feed(wire.subarray(i, i + 1)));
  expect(frames.map((f) => f.toString('latin1'))).toEqual(expected);
});

test('RespFramer: a reply far larger than its buffer grows it and stays intact', () => {
  const entries: [string, string[] | null][] = Array.from({ length: 3000 }, (_, i) => [`${i}-1`, flat({ ...base, ts: String(1717243200000 + i) })]);
  const reply = xreadgroupReply(entries);
  const framer = new RespFramer();
  const frames: Buffer[] = [];
  for (let i = 0; i < reply.length; i += 1000) frames.push(...framer.feed(reply.subarray(i, i + 1000)));
  expect(frames).toHaveLength(1);
  expect(frames[0].equals(reply)).toBe(true);
  expect(new EntryDecoder().decodeReadReply(frames[0])).toHaveLength(3000);
});

test('RespFramer: a byte that starts no RESP type is a protocol error', () => {
  expect(() => new RespFramer().feed(Buffer.from('?\r\n'))).toThrow(/protocol error/);
});

test('imeis come out right whatever the fleet size (the intern table overflows and is taken over)', () => {
  const decoder = new EntryDecoder();
  for (let pass = 0; pass < 2; pass++) {
    const entries: [string, string[] | null][] = Array.from({ length: 20_000 }, (_, i) => [`${i + 1}-0`, flat({ ...base, imei: String(356307040000000 + ((i * 7919) % 20_000)) })]);
    const decoded = decoder.decodeReadReply(xreadgroupReply(entries));
    expect(decoded.map((e) => e.ok && e.imei)).toEqual(entries.map(([, f]) => f![1]));
  }
});
