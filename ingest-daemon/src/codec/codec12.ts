/**
 * GPRS messages (research §4): Codec 12 commands (server → device, type 0x05) and responses
 * (device → server, type 0x06), plus the device-originated Codec 13/14/15 variants, decoded
 * leniently. There is no correlation id: a response answers the oldest outstanding command.
 */
import { CodecError, IngestErrorCode } from '../errors.ts';
import { CODEC_12, CODEC_13, CODEC_14, CODEC_15, MSG_COMMAND, PACKET_HEADER_BYTES, PACKET_OVERHEAD_BYTES } from './constants.ts';
import { crc16Ibm } from './crc.ts';

export interface GprsMessage {
  codecId: number;
  /** 0x05 command, 0x06 response, 0x0D camera, 0x11 Codec 14 nACK, 0x0B Codec 15 */
  type: number;
  /** the payload as text when it is printable ASCII, else undefined */
  text?: string;
  payloadHex: string;
  /** Codec 13/15: the 4-byte seconds timestamp */
  timestampS?: number;
  /** Codec 14/15: the IMEI in the message */
  imei?: string;
}

/** Largest command payload we send: a Codec 12 frame must fit an FMB receive buffer. */
export const MAX_COMMAND_BYTES = 1024;

const HEX_PAIRS = /^(?:[0-9a-fA-F]{2})+$/;

/**
 * The bytes of a command. Like Traccar's encoder (vector "03030000000185E8"), text made only of
 * hex pairs is sent as raw bytes (Modbus and other binary commands); anything else as ASCII.
 */
export function commandPayload(text: string): Buffer {
  return HEX_PAIRS.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'latin1');
}

/** A Codec 12 frame of one message (type 0x05 command by default). */
export function encodeCodec12(payload: Buffer | string, type = MSG_COMMAND): Buffer {
  const bytes = typeof payload === 'string' ? commandPayload(payload) : payload;
  if (bytes.length > MAX_COMMAND_BYTES) throw new CodecError(IngestErrorCode.BAD_COMMAND, `command of ${bytes.length} bytes exceeds ${MAX_COMMAND_BYTES}`);
  const dataLength = 1 + 1 + 1 + 4 + bytes.length + 1; // codec, N1, type, size, payload, N2
  const frame = Buffer.alloc(dataLength + PACKET_OVERHEAD_BYTES);
  frame.writeUInt32BE(dataLength, 4);
  let p = PACKET_HEADER_BYTES;
  frame[p++] = CODEC_12;
  frame[p++] = 1;
  frame[p++] = type;
  frame.writeUInt32BE(bytes.length, p);
  p += 4;
  bytes.copy(frame, p);
  p += bytes.length;
  frame[p++] = 1;
  frame.writeUInt32BE(crc16Ibm(frame, PACKET_HEADER_BYTES, p), p);
  return frame;
}

/** True when every byte is printable ASCII or CR/LF/TAB (Traccar stores such responses as text, §7 gotcha 20). */
export function isPrintable(bytes: Uint8Array): boolean {
  for (const c of bytes) if (!((c >= 0x20 && c < 0x7f) || c === 0x0d || c === 0x0a || c === 0x09)) return false;
  return true;
}

function message(codecId: number, type: number, b: Buffer, from: number, to: number): GprsMessage {
  const payload = b.subarray(from, to);
  const m: GprsMessage = { codecId, type, payloadHex: payload.toString('hex') };
  if (payload.length > 0 && isPrintable(payload)) m.text = payload.toString('latin1');
  return m;
}

/**
 * Messages between `start` (after N1) and `limit` (N2). Codec 12/14 honour the size field;
 * Codec 13/15 take the payload from the outer data length, because real Codec 13 frames disagree
 * on whether `size` includes the timestamp (research §4).
 */
export function decodeMessages(b: Buffer, start: number, limit: number, codecId: number, count: number): GprsMessage[] {
  const out: GprsMessage[] = [];
  let p = start;
  for (let i = 0; i < count; i++) {
    if (p + 5 > limit) throw new CodecError(IngestErrorCode.BAD_PACKET, 'message header overruns the data field');
    const type = b[p];
    const size = b.readUInt32BE(p + 1);
    p += 5;
    if (codecId === CODEC_13 || codecId === CODEC_15) {
      if (count !== 1) throw new CodecError(IngestErrorCode.BAD_PACKET, `codec 0x${codecId.toString(16)} with ${count} messages`);
      const headBytes = codecId === CODEC_13 ? 4 : 12;
      if (p + headBytes > limit) throw new CodecError(IngestErrorCode.BAD_PACKET, 'message header overruns the data field');
      const m = message(codecId, type, b, p + headBytes, limit);
      m.timestampS = b.readUInt32BE(p);
      if (codecId === CODEC_15) m.imei = imeiFromBcd(b, p + 4);
      out.push(m);
      p = limit;
      continue;
    }
    if (p + size > limit) throw new CodecError(IngestErrorCode.BAD_PACKET, `message of ${size} bytes overruns the data field`, { size });
    if (codecId === CODEC_14 && size >= 8) {
      const m = message(codecId, type, b, p + 8, p + size);
      m.imei = imeiFromBcd(b, p);
      out.push(m);
    } else {
      out.push(message(codecId, type, b, p, p + size));
    }
    p += size;
  }
  if (p !== limit) throw new CodecError(IngestErrorCode.BAD_PACKET, `${limit - p} bytes left after ${count} messages`);
  return out;
}

/** Codec 14/15 write the IMEI as 8 bytes of hex digits with a leading 0 nibble. */
function imeiFromBcd(b: Buffer, p: number): string {
  return b.toString('hex', p, p + 8).replace(/^0/, '');
}
