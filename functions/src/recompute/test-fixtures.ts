/** Test helpers of the recompute's pure modules: binary COPY bytes as Postgres writes them. */

export interface CopyRow {
  /** microseconds since the Unix epoch (Postgres keeps µs) */
  us: number;
  lat: number;
  lon: number;
  /** `speed::text` as Postgres prints the real, e.g. `72.3` */
  speed: string;
}

/** `COPY (SELECT ts, lat, lon, speed::text …) TO STDOUT (FORMAT binary)` of these rows. */
export function encodeFixCopyBinary(rows: readonly CopyRow[]): Uint8Array {
  const parts: Buffer[] = [Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)];
  for (const r of rows) {
    const speed = Buffer.from(r.speed, 'latin1');
    const b = Buffer.alloc(2 + 12 * 3 + 4 + speed.length);
    b.writeInt16BE(4, 0);
    b.writeInt32BE(8, 2);
    b.writeBigInt64BE(BigInt(r.us) - 946_684_800_000_000n, 6);
    b.writeInt32BE(8, 14);
    b.writeDoubleBE(r.lat, 18);
    b.writeInt32BE(8, 26);
    b.writeDoubleBE(r.lon, 30);
    b.writeInt32BE(speed.length, 38);
    speed.copy(b, 42);
    parts.push(b);
  }
  parts.push(Buffer.from([0xff, 0xff]));
  return new Uint8Array(Buffer.concat(parts));
}
