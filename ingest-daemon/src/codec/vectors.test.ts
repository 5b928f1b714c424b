/**
 * Every frame of ../shared/vectors/teltonika-traccar.json as a table row with its expected
 * outcome: decoded fields against the vector's `derived` values, the ACK against
 * `expect.server_ack_hex`, and the coded error for the frames that are broken on purpose.
 */
import { describe, expect, test } from 'vitest';
import { IngestErrorCode } from '../errors.ts';
import { decodePacket, type DecodedPacket } from './decode.ts';
import { encodeCodec12 } from './codec12.ts';
import { Framer, type Frame } from './framer.ts';
import { decodeImei } from './imei.ts';
import { decodeUdpDatagram } from './udp.ts';
import { isWellFramed, loadVectors, type Vector } from './test-vectors.ts';

const vectors = loadVectors();
const NOW = Date.parse('2026-01-01T00:00:00Z');

function frameAll(v: Vector): { frames: Frame[]; pending: number } {
  const framer = new Framer();
  const frames = framer.push(Buffer.from(v.hex, 'hex'));
  return { frames, pending: framer.pendingBytes };
}

function decodeOne(v: Vector): DecodedPacket {
  const { frames } = frameAll(v);
  expect(frames).toHaveLength(1);
  const f = frames[0];
  if (f.kind !== 'packet') throw new Error(`expected a packet, got ${f.kind}`);
  return decodePacket(f.bytes, { nowMs: NOW, extended: v.decoder_config?.extended });
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

test('the vector file is the one this suite was written for', () => {
  expect(vectors).toHaveLength(56);
});

const avl = vectors.filter((v) => v.transport === 'tcp' && v.kind === 'avl' && v.derived.crc_ok && v.derived.data_length_ok && v.codec !== '0x07');
describe('AVL frames decode to the derived fields and are ACKed with N1', () => {
  test.each(avl.map((v) => [v.index, v.codec, v] as const))('vector %i (codec %s)', (_i, _codec, v) => {
    const d = decodeOne(v);
    expect(d.rejected).toEqual([]);
    expect(d.records).toHaveLength(v.derived.record_count!);
    d.records.forEach((r, k) => {
      const e = v.derived.records![k];
      expect({
        timestampMs: r.timestampMs,
        priority: r.priority,
        lat: r.lat,
        lon: r.lon,
        altitudeM: r.altitudeM,
        headingDeg: r.headingDeg,
        satellites: r.satellites,
        speedKmh: r.speedKmh,
        eventIoId: r.eventIoId,
        io: { ...r.io },
      }).toEqual({
        timestampMs: e.timestamp_ms,
        priority: e.priority,
        lat: e.latitude,
        lon: e.longitude,
        altitudeM: e.altitude,
        headingDeg: e.angle,
        satellites: e.satellites,
        speedKmh: e.speed_kmh,
        eventIoId: e.event_io_id,
        io: e.io,
      });
      expect(r.fix).toBe(e.satellites > 0 && (e.latitude !== 0 || e.longitude !== 0));
    });
    expect(Buffer.concat(d.replies).toString('hex')).toBe(v.expect.server_ack_hex);
  });
});

test('signed altitude: the vectors with negative altitudes read as negative metres', () => {
  const altitudes = avl.flatMap((v) => decodeOne(v).records.map((r) => r.altitudeM));
  expect(altitudes.filter((a) => a < 0).length).toBeGreaterThan(0);
  expect(Math.min(...altitudes)).toBeGreaterThanOrEqual(-32768);
});

const badCrc = vectors.filter((v) => v.transport === 'tcp' && v.derived.crc_ok === false && v.derived.data_length_ok && v.derived.trailing_bytes === 0);
test.each(badCrc.map((v) => [v.index, v] as const))('vector %i has a bad CRC: INGEST_ERR_BAD_CRC, no ACK', (_i, v) => {
  const { frames } = frameAll(v);
  const f = frames[0];
  expect(f.kind).toBe('packet');
  expect(codeOf(() => decodePacket((f as { bytes: Buffer }).bytes, { nowMs: NOW }))).toBe(IngestErrorCode.BAD_CRC);
});

test.each([[28, IngestErrorCode.BAD_FRAME]] as const)('vector %i (data length 0) is refused by the framer: %s', (i, code) => {
  expect(codeOf(() => frameAll(vectors[i]))).toBe(code);
});

test.each(vectors.filter((v) => v.transport === 'tcp' && ((v.derived.trailing_bytes ?? 0) < 0 || (v.derived.data_length_ok === false && v.index !== 28))).map((v) => [v.index, v] as const))(
  'vector %i is shorter than its declared length: the framer waits, nothing is decoded or ACKed',
  (_i, v) => {
    const { frames, pending } = frameAll(v);
    expect(frames).toEqual([]);
    expect(pending).toBe(v.hex.length / 2);
  },
);

test.each(vectors.filter((v) => v.codec === '0x07' && v.derived.data_length_ok && v.derived.trailing_bytes === 0).map((v) => [v.index, v] as const))(
  'vector %i is Codec 7 (GH3000): INGEST_ERR_UNSUPPORTED_CODEC, no ACK',
  (_i, v) => {
    expect(codeOf(() => decodeOne(v))).toBe(IngestErrorCode.UNSUPPORTED_CODEC);
  },
);

const gprs = vectors.filter((v) => v.transport === 'tcp' && (v.codec === '0x0C' || v.codec === '0x0D') && v.derived.crc_ok);
test.each(gprs.map((v) => [v.index, v.codec, v] as const))('vector %i (codec %s) decodes to its message and is never ACKed', (_i, _c, v) => {
  const d = decodeOne(v);
  expect(d.replies).toEqual([]);
  expect(d.records).toEqual([]);
  expect(d.messages).toHaveLength(1);
  const m = d.messages[0];
  const e = v.derived.records![0];
  expect(`0x${m.type.toString(16).toUpperCase().padStart(2, '0')}`).toBe(e.type);
  if (e.text !== undefined) expect(m.text).toBe(e.text);
  else expect(m.payloadHex.endsWith(e.payload_hex!)).toBe(true);
});

test.each(vectors.filter((v) => v.kind === 'imei' && v.expect.assertion === 'verifyNull').map((v) => [v.index, v] as const))('vector %i is an IMEI handshake', (_i, v) => {
  const { frames } = frameAll(v);
  expect(frames).toHaveLength(1);
  expect(frames[0].kind).toBe('imei');
  expect(decodeImei((frames[0] as { bytes: Buffer }).bytes)).toBe(v.derived.imei);
});

test.each(vectors.filter((v) => v.expect.assertion === 'verifyFrame').map((v) => [v.index, v] as const))('vector %i: the framer cuts the expected first frame', (_i, v) => {
  const { frames } = frameAll(v);
  const first = frames[0];
  expect(first.kind === 'keepalive' ? 'ff' : first.bytes.toString('hex')).toBe(v.expect.first_frame_hex);
});

test('a lone 0xFF is a keep-alive frame', () => {
  expect(frameAll(vectors[43]).frames).toEqual([{ kind: 'keepalive' }]);
});

test.each(vectors.filter((v) => v.expect.assertion === 'verifyCommand').map((v) => [v.index, v] as const))('vector %i: encoding the command reproduces the encoder vector', (_i, v) => {
  expect(encodeCodec12(v.expect.command_data!).toString('hex')).toBe(v.expect.encoded_hex);
});

test('vector 51 (UDP) decodes and its ACK echoes the packet id', () => {
  const v = vectors[51];
  const d = decodeUdpDatagram(Buffer.from(v.hex, 'hex'), { nowMs: NOW });
  expect(d.imei).toBe('357454072713975');
  expect(d.records).toHaveLength(1);
  expect(d.records[0]).toMatchObject({ lat: 51.630115, lon: 0.4124566, speedKmh: 49, io: { 24: 50, 66: 14364 } });
  expect(Buffer.concat(d.replies).toString('hex')).toBe(v.expect.server_ack_hex);
});

test('every vector in the file is a row of one of the tables above', () => {
  const rows = new Set<number>([
    ...avl,
    ...badCrc,
    ...gprs,
    ...vectors.filter((v) => v.kind === 'imei' || v.expect.assertion === 'verifyFrame' || v.expect.assertion === 'verifyCommand' || v.hex === 'ff'),
    ...vectors.filter((v) => v.codec === '0x07' || (v.derived.trailing_bytes ?? 0) < 0 || v.derived.data_length_ok === false),
    vectors[51],
  ].map((v) => v.index));
  expect([...rows].sort((a, b) => a - b)).toEqual(vectors.map((v) => v.index));
});
