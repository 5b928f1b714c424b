/**
 * Decodes one framed Teltonika TCP packet (research §1, §2, §4): Codec 8, 8 Extended and 16 AVL
 * data into records plus the ACK to send, and Codec 12/13/14/15 GPRS messages (never ACKed,
 * §7 gotcha 6). Pure: the caller passes `nowMs`, the bytes, and writes the replies itself.
 *
 * Policy, in order:
 *   1. CRC-16/IBM must match (Traccar does not check; we do, so a corrupted packet is resent).
 *   2. The records must fill the data field exactly and N1 must equal N2.
 *   3. A record that breaks an invariant (lat/lon out of range, heading > 360°, time beyond
 *      `nowMs + maxFutureMs`) is returned in `rejected`, not in `records`, and still counted in
 *      the ACK: resending it cannot make it valid.
 *   4. Records without a fix (0 satellites or position 0,0) are kept with `fix: false`.
 */
import { CodecError, IngestErrorCode } from '../errors.ts';
import { CODEC_12, CODEC_13, CODEC_14, CODEC_15, CODEC_16, CODEC_8, CODEC_8E, GPS_ELEMENT_BYTES, PACKET_HEADER_BYTES, type CodecName } from './constants.ts';
import { crc16Ibm } from './crc.ts';
import { decodeMessages, type GprsMessage } from './codec12.ts';

/** IO value: unsigned integer as a number when it is a safe integer, else its decimal string; NX and 16-byte values as `0x…` hex. */
export type IoValue = number | string;
export type IoValues = Record<number, IoValue>;

/**
 * One AVL record. IO elements are kept as two parallel arrays (ids, values) because that is
 * several times cheaper to build than an object with sparse integer keys; `io` materialises the
 * object on first use and `ioJson()` writes the stream's JSON without it.
 */
export class AvlRecord {
  /** device time, ms since the epoch (UTC) */
  timestampMs = 0;
  /** 0 low, 1 high, 2 panic */
  priority = 0;
  /** degrees, signed */
  lon = 0;
  lat = 0;
  /** metres, signed */
  altitudeM = 0;
  /** degrees from north, 0–360 */
  headingDeg = 0;
  satellites = 0;
  speedKmh = 0;
  /** IO id that triggered the record, 0 for periodic records */
  eventIoId = 0;
  /** Codec 16 only: 0 on exit … 7 periodical; -1 for other codecs */
  generationType = -1;
  /** false when satellites = 0 or the position is 0,0: kept, but timing ignores it */
  fix = false;
  ioIds: number[] = [];
  ioValues: IoValue[] = [];
  private ioObject: IoValues | undefined;

  /** id → value (a later duplicate id wins, as in JSON) */
  get io(): IoValues {
    if (!this.ioObject) {
      const o: IoValues = {};
      for (let i = 0; i < this.ioIds.length; i++) o[this.ioIds[i]] = this.ioValues[i];
      this.ioObject = o;
    }
    return this.ioObject;
  }

  /** The `io` field of the stream entry: a JSON object id → value, built without the object. */
  ioJson(): string {
    const ids = this.ioIds;
    if (ids.length === 0) return '{}';
    let s = '{';
    for (let i = 0; i < ids.length; i++) {
      const v = this.ioValues[i];
      s += `${i === 0 ? '' : ','}"${ids[i]}":${typeof v === 'number' ? v : `"${v}"`}`;
    }
    return `${s}}`;
  }
}

export interface RejectedRecord {
  index: number;
  reason: 'latitude' | 'longitude' | 'heading' | 'future' | 'time';
  timestampMs: number;
}

export interface DecodeContext {
  /** the server's clock, ms since the epoch, for the "not in the future" invariant */
  nowMs: number;
  /** tolerated device clock lead (ms); default 10 minutes */
  maxFutureMs?: number;
  /** Traccar's `teltonika.extended`: an extra 16-byte IO group after N8 (some firmware) */
  extended?: boolean;
}

export interface DecodedPacket {
  codec: CodecName | 'gprs';
  /** the codec id byte */
  codecId: number;
  records: AvlRecord[];
  rejected: RejectedRecord[];
  messages: GprsMessage[];
  /** bytes to write back to the device, in order (the 4-byte record count for AVL data; nothing for messages) */
  replies: Buffer[];
}

const DEFAULT_MAX_FUTURE_MS = 10 * 60_000;
const TWO_32 = 4294967296;

function bad(message: string, details?: Record<string, unknown>): CodecError {
  return new CodecError(IngestErrorCode.BAD_PACKET, message, details);
}

/** Checks the CRC of a framed packet; returns [given, computed]. */
export function packetCrc(frame: Buffer): [given: number, computed: number] {
  const end = frame.length;
  const given = frame[end - 4] !== 0 || frame[end - 3] !== 0 ? -1 : (frame[end - 2] << 8) | frame[end - 1];
  return [given, crc16Ibm(frame, PACKET_HEADER_BYTES, end - 4)];
}

/** The 4-byte big-endian record count a device expects after an AVL packet (§1). */
export function encodeAck(count: number): Buffer {
  const ack = Buffer.allocUnsafe(4);
  ack.writeUInt32BE(count >>> 0, 0);
  return ack;
}

/** Decodes one whole packet as cut by the Framer (preamble through CRC). Throws CodecError. */
export function decodePacket(frame: Buffer, ctx: DecodeContext): DecodedPacket {
  const end = frame.length;
  if (end < PACKET_HEADER_BYTES + 3 + 4) throw bad('packet shorter than its fixed fields');
  const [given, computed] = packetCrc(frame);
  if (given !== computed) {
    throw new CodecError(IngestErrorCode.BAD_CRC, `CRC mismatch: packet says ${given < 0 ? 'non-zero high bytes' : hex4(given)}, computed ${hex4(computed)}`, {
      crcGiven: given,
      crcComputed: computed,
    });
  }
  const codecId = frame[PACKET_HEADER_BYTES];
  const n1 = frame[PACKET_HEADER_BYTES + 1];
  const n2 = frame[end - 5];
  if (n1 !== n2) throw bad(`record count N1=${n1} differs from N2=${n2}`, { n1, n2 });
  const limit = end - 5; // first byte after the records: N2
  const start = PACKET_HEADER_BYTES + 2;
  switch (codecId) {
    case CODEC_8:
    case CODEC_8E:
    case CODEC_16: {
      const records: AvlRecord[] = [];
      const rejected: RejectedRecord[] = [];
      const pos = decodeRecords(frame, start, limit, codecId, n1, ctx, records, rejected);
      if (pos !== limit) throw bad(`${limit - pos} bytes left after ${n1} records`, { trailing: limit - pos });
      const codec: CodecName = codecId === CODEC_8 ? '8' : codecId === CODEC_8E ? '8E' : '16';
      return { codec, codecId, records, rejected, messages: [], replies: [encodeAck(n1)] };
    }
    case CODEC_12:
    case CODEC_13:
    case CODEC_14:
    case CODEC_15:
      return { codec: 'gprs', codecId, records: [], rejected: [], messages: decodeMessages(frame, start, limit, codecId, n1), replies: [] };
    default:
      throw new CodecError(IngestErrorCode.UNSUPPORTED_CODEC, `codec 0x${codecId.toString(16).padStart(2, '0')} is not supported`, { codecId });
  }
}

function hex4(n: number): string {
  return `0x${n.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * Record layout per codec (§2): event id 1/2/2 bytes, generation type only in 16, counts 1/2/1,
 * IO ids 1/2/2, NX group only in 8E. Returns the position after the last record.
 */
export function decodeRecords(b: Buffer, p: number, limit: number, codecId: number, count: number, ctx: DecodeContext, out: AvlRecord[], rejected: RejectedRecord[]): number {
  const wide = codecId !== CODEC_8; // 2-byte event id and IO ids
  const wideCounts = codecId === CODEC_8E;
  const maxTs = ctx.nowMs + (ctx.maxFutureMs ?? DEFAULT_MAX_FUTURE_MS);
  for (let r = 0; r < count; r++) {
    if (p + GPS_ELEMENT_BYTES + 2 > limit) throw bad(`record ${r} overruns the data field`);
    const tsHi = ((b[p] << 24) >>> 0) + ((b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]);
    const tsLo = ((b[p + 4] << 24) >>> 0) + ((b[p + 5] << 16) | (b[p + 6] << 8) | b[p + 7]);
    const timestampMs = tsHi * TWO_32 + tsLo;
    const priority = b[p + 8];
    const lonE7 = (b[p + 9] << 24) | (b[p + 10] << 16) | (b[p + 11] << 8) | b[p + 12];
    const latE7 = (b[p + 13] << 24) | (b[p + 14] << 16) | (b[p + 15] << 8) | b[p + 16];
    const altitudeM = ((b[p + 17] << 24) | (b[p + 18] << 16)) >> 16; // int16 (§2)
    const headingDeg = (b[p + 19] << 8) | b[p + 20];
    const satellites = b[p + 21];
    const speedKmh = (b[p + 22] << 8) | b[p + 23];
    p += GPS_ELEMENT_BYTES;
    let eventIoId: number;
    let generationType: number | undefined;
    if (wide) {
      eventIoId = (b[p] << 8) | b[p + 1];
      p += 2;
      if (codecId === CODEC_16) {
        if (p + 1 > limit) throw bad(`record ${r} overruns the data field`);
        generationType = b[p++];
      }
    } else {
      eventIoId = b[p++];
    }
    p += wideCounts ? 2 : 1; // N total: parse by the group counts, never trust N (§2)
    const ioIds: number[] = [];
    const ioValues: IoValue[] = [];
    for (let width = 1; width <= 8; width <<= 1) p = readGroup(b, p, limit, ioIds, ioValues, width, wideCounts, wide);
    if (ctx.extended) p = readGroup(b, p, limit, ioIds, ioValues, 16, wideCounts, wide);
    if (wideCounts) p = readNx(b, p, limit, ioIds, ioValues);
    if (p > limit) throw bad(`record ${r} overruns the data field`);
    const lat = latE7 / 1e7;
    const lon = lonE7 / 1e7;
    let reason: RejectedRecord['reason'] | undefined;
    if (lat < -90 || lat > 90) reason = 'latitude';
    else if (lon < -180 || lon > 180) reason = 'longitude';
    else if (headingDeg > 360) reason = 'heading';
    else if (timestampMs > maxTs) reason = 'future';
    else if (!Number.isSafeInteger(timestampMs)) reason = 'time';
    if (reason) {
      rejected.push({ index: r, reason, timestampMs });
      continue;
    }
    const record = new AvlRecord();
    record.timestampMs = timestampMs;
    record.priority = priority;
    record.lon = lon;
    record.lat = lat;
    record.altitudeM = altitudeM;
    record.headingDeg = headingDeg;
    record.satellites = satellites;
    record.speedKmh = speedKmh;
    record.eventIoId = eventIoId;
    if (generationType !== undefined) record.generationType = generationType;
    record.fix = satellites > 0 && (latE7 !== 0 || lonE7 !== 0);
    record.ioIds = ioIds;
    record.ioValues = ioValues;
    out.push(record);
  }
  return p;
}

/** One fixed-width IO group: count, then count × (id, value). Values unsigned (§7 gotcha 11). */
function readGroup(b: Buffer, p: number, limit: number, ids: number[], values: IoValue[], width: number, wideCounts: boolean, wideIds: boolean): number {
  let n: number;
  if (wideCounts) {
    if (p + 2 > limit) throw bad('IO group count overruns the data field');
    n = (b[p] << 8) | b[p + 1];
    p += 2;
  } else {
    if (p + 1 > limit) throw bad('IO group count overruns the data field');
    n = b[p++];
  }
  if (n === 0) return p;
  const idBytes = wideIds ? 2 : 1;
  if (p + n * (idBytes + width) > limit) throw bad(`IO group of ${n} × ${width}-byte values overruns the data field`);
  // one loop per width keeps each loop monomorphic
  for (let i = 0; i < n; i++) {
    ids.push(wideIds ? (b[p] << 8) | b[p + 1] : b[p]);
    p += idBytes;
    if (width === 1) values.push(b[p]);
    else if (width === 2) values.push((b[p] << 8) | b[p + 1]);
    else if (width === 4) values.push(((b[p] << 24) >>> 0) + ((b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]));
    else if (width === 8) {
      const hi = ((b[p] << 24) >>> 0) + ((b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]);
      const lo = ((b[p + 4] << 24) >>> 0) + ((b[p + 5] << 16) | (b[p + 6] << 8) | b[p + 7]);
      values.push(hi < 0x200000 ? hi * TWO_32 + lo : ((BigInt(hi) << 32n) + BigInt(lo)).toString());
    } else values.push(`0x${b.toString('hex', p, p + width)}`);
    p += width;
  }
  return p;
}

/** Codec 8E variable-length group: u16 count, then count × (u16 id, u16 length, bytes) (§2). */
function readNx(b: Buffer, p: number, limit: number, ids: number[], values: IoValue[]): number {
  if (p + 2 > limit) throw bad('NX count overruns the data field');
  const n = (b[p] << 8) | b[p + 1];
  p += 2;
  for (let i = 0; i < n; i++) {
    if (p + 4 > limit) throw bad('NX element overruns the data field');
    const id = (b[p] << 8) | b[p + 1];
    const len = (b[p + 2] << 8) | b[p + 3];
    p += 4;
    if (p + len > limit) throw bad(`NX value of ${len} bytes overruns the data field`);
    ids.push(id);
    values.push(`0x${b.toString('hex', p, p + len)}`);
    p += len;
  }
  return p;
}
