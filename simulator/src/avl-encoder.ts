/**
 * Encodes AVL packets the way a Teltonika device does (research §1, §2): Codec 8, 8 Extended or
 * 16, big-endian, CRC-16/IBM. Pure. Used by the simulator, the codec tests and the benchmarks.
 */
import { crc16Ibm } from '../../ingest-daemon/src/codec/crc.ts';
import { CODEC_16, CODEC_8, CODEC_8E, PACKET_HEADER_BYTES, type CodecName } from '../../ingest-daemon/src/codec/constants.ts';

export interface RecordInput {
  timestampMs: number;
  priority?: number;
  /** degrees */
  lat: number;
  lon: number;
  altitudeM?: number;
  headingDeg?: number;
  satellites?: number;
  speedKmh?: number;
  eventIoId?: number;
  /** Codec 16 generation type */
  generationType?: number;
  /** id → unsigned integer (width chosen by magnitude), or `0x…` hex for an 8E NX value */
  io?: Record<number, number | bigint | string>;
}

const CODECS: Record<CodecName, number> = { '8': CODEC_8, '8E': CODEC_8E, '16': CODEC_16 };

function width(v: number | bigint): 1 | 2 | 4 | 8 {
  if (typeof v === 'bigint') return 8;
  return v < 0x100 ? 1 : v < 0x10000 ? 2 : v < 0x100000000 ? 4 : 8;
}

/** Bytes of one record (without packet framing). */
export function encodeRecord(codec: CodecName, r: RecordInput): Buffer {
  const wide = codec !== '8';
  const wideCounts = codec === '8E';
  const groups: Record<1 | 2 | 4 | 8, [number, number | bigint][]> = { 1: [], 2: [], 4: [], 8: [] };
  const nx: [number, Buffer][] = [];
  for (const [key, value] of Object.entries(r.io ?? {})) {
    const id = Number(key);
    if (typeof value === 'string') {
      if (!wideCounts) throw new RangeError('variable-length IO values need Codec 8E');
      nx.push([id, Buffer.from(value.replace(/^0x/, ''), 'hex')]);
    } else groups[width(value)].push([id, value]);
  }
  const idBytes = wide ? 2 : 1;
  const countBytes = wideCounts ? 2 : 1;
  let size = 24 + (wide ? 2 : 1) + (codec === '16' ? 1 : 0) + countBytes;
  for (const w of [1, 2, 4, 8] as const) size += countBytes + groups[w].length * (idBytes + w);
  if (wideCounts) size += 2 + nx.reduce((s, [, b]) => s + 4 + b.length, 0);
  const b = Buffer.alloc(size);
  let p = 0;
  b.writeBigUInt64BE(BigInt(Math.round(r.timestampMs)), p);
  p += 8;
  b[p++] = r.priority ?? 0;
  b.writeInt32BE(Math.round(r.lon * 1e7), p);
  b.writeInt32BE(Math.round(r.lat * 1e7), p + 4);
  b.writeInt16BE(Math.round(r.altitudeM ?? 0), p + 8);
  b.writeUInt16BE(Math.round(r.headingDeg ?? 0) % 361, p + 10);
  b[p + 12] = r.satellites ?? 0;
  b.writeUInt16BE(Math.round(r.speedKmh ?? 0), p + 13);
  p += 15;
  const put = (n: number, bytes: number) => {
    if (bytes === 1) b[p] = n;
    else b.writeUInt16BE(n, p);
    p += bytes;
  };
  put(r.eventIoId ?? 0, wide ? 2 : 1);
  if (codec === '16') b[p++] = r.generationType ?? 7;
  const total = groups[1].length + groups[2].length + groups[4].length + groups[8].length + nx.length;
  put(total, countBytes);
  for (const w of [1, 2, 4, 8] as const) {
    put(groups[w].length, countBytes);
    for (const [id, v] of groups[w]) {
      put(id, idBytes);
      if (w === 1) b[p] = Number(v);
      else if (w === 2) b.writeUInt16BE(Number(v), p);
      else if (w === 4) b.writeUInt32BE(Number(v), p);
      else b.writeBigUInt64BE(BigInt(v), p);
      p += w;
    }
  }
  if (wideCounts) {
    put(nx.length, 2);
    for (const [id, bytes] of nx) {
      put(id, 2);
      put(bytes.length, 2);
      bytes.copy(b, p);
      p += bytes.length;
    }
  }
  return b;
}

/** A whole TCP AVL packet: preamble, data length, codec, N1, records, N2, CRC (research §1). */
export function encodeAvlPacket(codec: CodecName, records: RecordInput[]): Buffer {
  if (records.length === 0 || records.length > 255) throw new RangeError('a packet holds 1 to 255 records');
  const bodies = records.map((r) => encodeRecord(codec, r));
  const bodyBytes = bodies.reduce((s, x) => s + x.length, 0);
  const dataLength = 1 + 1 + bodyBytes + 1;
  const frame = Buffer.alloc(dataLength + 12);
  frame.writeUInt32BE(dataLength, 4);
  let p = PACKET_HEADER_BYTES;
  frame[p++] = CODECS[codec];
  frame[p++] = records.length;
  for (const body of bodies) {
    body.copy(frame, p);
    p += body.length;
  }
  frame[p++] = records.length;
  frame.writeUInt32BE(crc16Ibm(frame, PACKET_HEADER_BYTES, p), p);
  return frame;
}

/** Recomputes the CRC of a packet in place (fuzzing and tests that craft packets). */
export function fixCrc(frame: Buffer): Buffer {
  frame.writeUInt32BE(crc16Ibm(frame, PACKET_HEADER_BYTES, frame.length - 4), frame.length - 4);
  return frame;
}
