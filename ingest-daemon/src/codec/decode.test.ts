import { describe, expect, test } from 'vitest';
import { encodeAvlPacket, fixCrc, type RecordInput } from '../../../simulator/src/avl-encoder.ts';
import { IngestErrorCode } from '../errors.ts';
import { decodePacket } from './decode.ts';
import { Framer } from './framer.ts';
import { checkInvariants, loadVectors } from './test-vectors.ts';

const NOW = Date.parse('2026-01-01T00:00:00Z');

test('invariants hold on every record of every vector', () => {
  let n = 0;
  for (const v of loadVectors().filter((x) => x.transport === 'tcp')) {
    const framer = new Framer();
    let frames;
    try {
      frames = framer.push(Buffer.from(v.hex, 'hex'));
    } catch {
      continue;
    }
    for (const f of frames) {
      if (f.kind !== 'packet') continue;
      try {
        for (const r of decodePacket(f.bytes, { nowMs: NOW, extended: v.decoder_config?.extended }).records) {
          checkInvariants(r, NOW);
          n++;
        }
      } catch (error) {
        expect((error as { code?: string }).code).toMatch(/^INGEST_ERR_/);
      }
    }
  }
  expect(n).toBeGreaterThan(90);
});

const base: RecordInput = { timestampMs: NOW - 1000, lat: 41.3275, lon: 19.8187, altitudeM: 110, headingDeg: 90, satellites: 9, speedKmh: 80, io: { 239: 1, 66: 12800 } };

describe('round trip through the simulator encoder', () => {
  test.each(['8', '8E', '16'] as const)('codec %s', (codec) => {
    const records: RecordInput[] = [base, { ...base, timestampMs: NOW - 500, lat: -33.9, lon: -70.7, altitudeM: -6, io: { 16: 2 ** 40, 78: 2n ** 63n } }];
    const d = decodePacket(encodeAvlPacket(codec, records), { nowMs: NOW });
    expect(d.codec).toBe(codec);
    expect(d.records.map((r) => [r.lat, r.lon, r.altitudeM, r.io[16] ?? null, r.io[78] ?? null])).toEqual([
      [41.3275, 19.8187, 110, null, null],
      [-33.9, -70.7, -6, 2 ** 40, (2n ** 63n).toString()],
    ]);
    expect(d.replies[0].readUInt32BE(0)).toBe(2);
  });

  test('8E variable-length values come back as 0x hex and 2-byte ids survive', () => {
    const d = decodePacket(encodeAvlPacket('8E', [{ ...base, eventIoId: 385, io: { 385: '0x0102ff', 1000: 7 } }]), { nowMs: NOW });
    expect(d.records[0].io).toEqual({ 385: '0x0102ff', 1000: 7 });
    expect(d.records[0].eventIoId).toBe(385);
  });
});

describe('fix flag', () => {
  test.each([
    ['0 satellites', { satellites: 0 }, false],
    ['position 0,0', { lat: 0, lon: 0 }, false],
    ['a real fix', {}, true],
  ] as const)('%s → fix %s, record kept', (_name, patch, fix) => {
    const d = decodePacket(encodeAvlPacket('8', [{ ...base, ...patch }]), { nowMs: NOW });
    expect(d.records).toHaveLength(1);
    expect(d.records[0].fix).toBe(fix);
  });
});

describe('records breaking an invariant are rejected one by one but still ACKed', () => {
  test.each([
    ['latitude', { lat: 91 }],
    ['longitude', { lon: -180.5 }],
    ['future', { timestampMs: NOW + 11 * 60_000 }],
  ] as const)('%s', (reason, patch) => {
    const d = decodePacket(encodeAvlPacket('8', [base, { ...base, ...patch }]), { nowMs: NOW });
    expect(d.records).toHaveLength(1);
    expect(d.rejected).toEqual([expect.objectContaining({ index: 1, reason })]);
    expect(d.replies[0].readUInt32BE(0)).toBe(2);
  });

  test('heading above 360', () => {
    const packet = encodeAvlPacket('8', [base]);
    packet.writeUInt16BE(400, 10 + 19); // angle of record 0 (§2: ts 8, pri 1, lon 4, lat 4, alt 2)
    const d = decodePacket(fixCrc(packet), { nowMs: NOW });
    expect(d.rejected).toEqual([expect.objectContaining({ reason: 'heading' })]);
  });
});

describe('structural errors', () => {
  test.each([
    ['N1 ≠ N2', (p: Buffer) => p.writeUInt8(2, p.length - 5), IngestErrorCode.BAD_PACKET],
    ['N1 larger than the records present', (p: Buffer) => (p.writeUInt8(2, 9), p.writeUInt8(2, p.length - 5)), IngestErrorCode.BAD_PACKET],
    ['IO count overrunning the data field', (p: Buffer) => p.writeUInt8(200, 10 + 24 + 2), IngestErrorCode.BAD_PACKET],
    ['unknown codec id', (p: Buffer) => p.writeUInt8(0x42, 8), IngestErrorCode.UNSUPPORTED_CODEC],
  ])('%s → %s', (_name, mutate, code) => {
    const p = encodeAvlPacket('8', [base]);
    mutate(p);
    expect(() => decodePacket(fixCrc(p), { nowMs: NOW })).toThrow(expect.objectContaining({ code }));
  });

  test('a wrong CRC → INGEST_ERR_BAD_CRC with both values in the details', () => {
    const p = encodeAvlPacket('8', [base]);
    p[p.length - 1] ^= 0xff;
    expect(() => decodePacket(p, { nowMs: NOW })).toThrow(expect.objectContaining({ code: IngestErrorCode.BAD_CRC, details: expect.objectContaining({ crcComputed: expect.any(Number) }) }));
  });
});
