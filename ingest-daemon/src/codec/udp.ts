/**
 * The UDP variant (research §5): one datagram is one packet with no preamble, no data length and
 * no CRC; it carries the IMEI, so there is no session. The ACK echoes the packet id (the
 * documentation's rule; Traccar writes 0000) and the AVL packet id. Pure, like decode.ts.
 */
import { CodecError, IngestErrorCode } from '../errors.ts';
import { CODEC_16, CODEC_8, CODEC_8E, type CodecName } from './constants.ts';
import { decodeRecords, type AvlRecord, type DecodeContext, type RejectedRecord } from './decode.ts';

export interface DecodedDatagram {
  imei: string;
  packetId: number;
  avlPacketId: number;
  codec: CodecName;
  records: AvlRecord[];
  rejected: RejectedRecord[];
  replies: Buffer[];
}

export function decodeUdpDatagram(d: Buffer, ctx: DecodeContext): DecodedDatagram {
  const bad = (message: string) => new CodecError(IngestErrorCode.BAD_PACKET, message);
  if (d.length < 2 + 2 + 1 + 1 + 2 + 15 + 3) throw bad('datagram shorter than its header');
  if (d.readUInt16BE(0) !== d.length - 2) throw bad('datagram length field does not match its size');
  const packetId = d.readUInt16BE(2);
  const avlPacketId = d[5];
  const imeiLength = d.readUInt16BE(6);
  if (imeiLength !== 15) throw new CodecError(IngestErrorCode.BAD_IMEI, `IMEI length ${imeiLength}`);
  const imei = d.toString('latin1', 8, 23);
  if (!/^\d{15}$/.test(imei)) throw new CodecError(IngestErrorCode.BAD_IMEI, 'IMEI is not 15 digits');
  const codecId = d[23];
  if (codecId !== CODEC_8 && codecId !== CODEC_8E && codecId !== CODEC_16) throw new CodecError(IngestErrorCode.UNSUPPORTED_CODEC, `codec 0x${codecId.toString(16)} over UDP`);
  const n1 = d[24];
  const limit = d.length - 1;
  if (d[limit] !== n1) throw bad(`record count N1=${n1} differs from N2=${d[limit]}`);
  const records: AvlRecord[] = [];
  const rejected: RejectedRecord[] = [];
  const pos = decodeRecords(d, 25, limit, codecId, n1, ctx, records, rejected);
  if (pos !== limit) throw bad(`${limit - pos} bytes left after ${n1} records`);
  const ack = Buffer.from([0x00, 0x05, d[2], d[3], 0x01, avlPacketId, n1]);
  return { imei, packetId, avlPacketId, codec: codecId === CODEC_8 ? '8' : codecId === CODEC_8E ? '8E' : '16', records, rejected, replies: [ack] };
}
