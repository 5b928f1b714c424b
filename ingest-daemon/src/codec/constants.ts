/**
 * Teltonika protocol constants. Section references are to the Teltonika wiki page "Teltonika
 * Data Sending Protocols" and to ../shared/research/teltonika.md (§ numbers of that file).
 */

/** Codec ids carried in byte 8 of a TCP packet (research §4, wiki "Codec"). */
export const CODEC_8 = 0x08; // AVL, 1-byte ids (§2)
export const CODEC_8E = 0x8e; // AVL "extended": 2-byte ids and counts, NX group (§2)
export const CODEC_16 = 0x10; // AVL, 2-byte ids, generation type (§2)
export const CODEC_12 = 0x0c; // GPRS commands and responses, both ways (§4)
export const CODEC_13 = 0x0d; // GPRS messages with a 4-byte seconds timestamp, device → server (§4)
export const CODEC_14 = 0x0e; // GPRS commands with IMEI check (§4)
export const CODEC_15 = 0x0f; // RS232 messages with timestamp and IMEI (§4)
export const CODEC_7 = 0x07; // GH3000 bit-masked layout: not sent by FMB/FMC/FMM, not supported (§2)

/** Codec 12/14 message types (§4). */
export const MSG_COMMAND = 0x05; // server → device
export const MSG_RESPONSE = 0x06; // device → server
export const MSG_NACK = 0x11; // Codec 14: IMEI does not match

/** IMEI handshake replies (§1): a binary byte, never the text "01". */
export const IMEI_ACCEPT = 0x01;
export const IMEI_REJECT = 0x00;

/** A lone 0xFF on the TCP stream is a keep-alive (§7 gotcha 1). */
export const KEEPALIVE_BYTE = 0xff;

/** preamble(4) + data length(4) before the codec id, CRC(4) after N2 (§1). */
export const PACKET_HEADER_BYTES = 8;
export const PACKET_OVERHEAD_BYTES = 12;
/** codec id + N1 + N2: the smallest data field that can be framed at all. */
export const MIN_DATA_FIELD_BYTES = 3;
/** FMB devices send at most 1280-byte AVL packets, Codec 12 camera chunks reach ~2 KiB; Traccar caps at 32 KiB (§1). */
export const DEFAULT_MAX_FRAME_BYTES = 32 * 1024;
/** An IMEI is 15 ASCII digits (§1); anything much longer is not a handshake. */
export const MAX_IMEI_FRAME_BYTES = 2 + 32;

/** AVL record field sizes common to 8/8E/16 (§2): ts 8, priority 1, lon 4, lat 4, alt 2, angle 2, sats 1, speed 2. */
export const GPS_ELEMENT_BYTES = 24;

/** Codec names as written to the stream's `codec` field. */
export type CodecName = '8' | '8E' | '16';
