/** The IMEI handshake frame (research §1): u16 length, then the IMEI in ASCII digits. */
import { CodecError, IngestErrorCode } from '../errors.ts';

const IMEI = /^\d{15}$/;

/** The IMEI in an IMEI frame as cut by the Framer. Throws CodecError unless it is 15 digits. */
export function decodeImei(frame: Buffer): string {
  const length = frame.readUInt16BE(0);
  const imei = frame.toString('latin1', 2, 2 + length);
  if (length !== frame.length - 2 || !IMEI.test(imei)) throw new CodecError(IngestErrorCode.BAD_IMEI, 'IMEI frame does not hold 15 digits', { hex: frame.toString('hex').slice(0, 80) });
  return imei;
}

export function encodeImei(imei: string): Buffer {
  const frame = Buffer.alloc(2 + imei.length);
  frame.writeUInt16BE(imei.length, 0);
  frame.write(imei, 2, 'latin1');
  return frame;
}
