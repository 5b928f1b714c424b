export * from './constants.ts';
export { crc16Ibm } from './crc.ts';
export { Framer, type Frame, type FramerOptions } from './framer.ts';
export { AvlRecord, decodePacket, encodeAck, packetCrc, type DecodeContext, type DecodedPacket, type IoValue, type IoValues, type RejectedRecord } from './decode.ts';
export { commandPayload, decodeMessages, encodeCodec12, isPrintable, MAX_COMMAND_BYTES, type GprsMessage } from './codec12.ts';
export { decodeImei, encodeImei } from './imei.ts';
export { decodeUdpDatagram, type DecodedDatagram } from './udp.ts';
