/**
 * CRC-16/IBM (a.k.a. CRC-16/ARC): polynomial 0x8005 reflected (0xA001), initial value 0, no
 * final xor (research §1; wiki "CRC-16"). Teltonika sends it as the low 2 bytes of a 4-byte field.
 * Slicing-by-4 (four 256-entry tables, 2 KiB): a quarter of the table lookups' dependency chain
 * of the byte-at-a-time loop, which matters because every packet is checked.
 */

const T0 = new Uint16Array(256);
const T1 = new Uint16Array(256);
const T2 = new Uint16Array(256);
const T3 = new Uint16Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xa001 : c >>> 1;
  T0[n] = c;
}
for (let n = 0; n < 256; n++) {
  T1[n] = (T0[n] >>> 8) ^ T0[T0[n] & 0xff];
  T2[n] = (T1[n] >>> 8) ^ T0[T1[n] & 0xff];
  T3[n] = (T2[n] >>> 8) ^ T0[T2[n] & 0xff];
}

/** CRC over bytes [start, end) of `buf`. */
export function crc16Ibm(buf: Uint8Array, start = 0, end = buf.length): number {
  let crc = 0;
  let i = start;
  for (const stop = end - 3; i < stop; i += 4) {
    const x = crc ^ (buf[i] | (buf[i + 1] << 8));
    crc = T3[x & 0xff] ^ T2[x >>> 8] ^ T1[buf[i + 2]] ^ T0[buf[i + 3]];
  }
  for (; i < end; i++) crc = (crc >>> 8) ^ T0[(crc ^ buf[i]) & 0xff];
  return crc;
}

/** The byte-at-a-time reference, kept for the test that checks the sliced version against it. */
export function crc16IbmReference(buf: Uint8Array, start = 0, end = buf.length): number {
  let crc = 0;
  for (let i = start; i < end; i++) crc = (crc >>> 8) ^ T0[(crc ^ buf[i]) & 0xff];
  return crc;
}
