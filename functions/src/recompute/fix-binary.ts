/**
 * Binary COPY of `positions` (fixes.ts's query: `ts, lat, lon, speed::text … (FORMAT binary)`)
 * → fixes. Pure; runs in the compute workers (compute-worker.ts).
 *
 * Binary, because Postgres then sends the timestamp and the float8 coordinates as they are
 * stored instead of formatting each as decimal text (and computing a numeric epoch): about half
 * the server's work per row. The values are exactly those of the text path: float8 text is the
 * shortest round-trip form, so parsing it gives back the stored double, which binary gives
 * directly; the epoch ms is the rounding of the stored microseconds the text path's
 * `(extract(epoch FROM ts) * 1000)::int8` does (half away from zero). `speed` is `real`, whose
 * text (shortest float4 form, e.g. `72.3`) is not the float4's double value (72.30000305…), so
 * it comes as text and is read like the text path reads it.
 *
 * Layout (PostgreSQL docs, "COPY", Binary Format): an 11-byte signature `PGCOPY\n\377\r\n\0`,
 * int32 flags, int32 header-extension length and the extension; per tuple an int16 field count
 * (−1 = trailer), then per field an int32 length (−1 = NULL) and the bytes. timestamptz is an
 * int64 of microseconds since 2000-01-01T00:00:00Z; float8 is an IEEE double, big-endian.
 */
import type { Fix } from '../core/timing/index.ts';
import { RECOMPUTE_ERR, RecomputeError } from './errors.ts';
import { FieldReader } from './fix-text.ts';

const SIGNATURE = [0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00]; // "PGCOPY\n\377\r\n\0"
const PG_EPOCH_US = 946_684_800_000_000; // 2000-01-01T00:00:00Z in µs since the Unix epoch
const FIELDS = 4;

function bad(message: string): RecomputeError {
  return new RecomputeError(RECOMPUTE_ERR.FIXES, `binary COPY of fixes: ${message}`);
}

/**
 * int64 µs since 2000 (big-endian) → ms since 1970, rounded half away from zero in the 1970
 * frame as the text path's numeric epoch is. Exact while |µs since 1970| < 2^53 (±285 years).
 */
function epochMs(view: DataView, at: number): number {
  const us = view.getInt32(at) * 4_294_967_296 + view.getUint32(at + 4) + PG_EPOCH_US;
  const rest = us % 1000;
  return (us - rest) / 1000 + (rest >= 500 ? 1 : rest <= -500 ? -1 : 0);
}

/** Parses a whole binary COPY of `ts, lat, lon, speed::text`; empty input (no COPY at all) is no fixes. */
export function parseFixCopyBinary(bytes: Uint8Array): Fix[] {
  const out: Fix[] = [];
  const n = bytes.length;
  if (n === 0) return out;
  if (n < 19) throw bad(`${n} bytes, shorter than a header`);
  for (let i = 0; i < SIGNATURE.length; i++) if (bytes[i] !== SIGNATURE[i]) throw bad('no PGCOPY signature');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = new FieldReader(bytes);
  let i = 19 + view.getInt32(15); // signature, flags, extension length, extension
  for (;;) {
    if (i + 2 > n) throw bad('truncated (no trailer)');
    const count = view.getInt16(i);
    i += 2;
    if (count === -1) return out;
    if (count !== FIELDS) throw bad(`a tuple of ${count} fields, ${FIELDS} expected`);
    if (i + 4 + 8 + 4 + 8 + 4 + 8 + 4 > n) throw bad('truncated tuple');
    if (view.getInt32(i) !== 8 || view.getInt32(i + 12) !== 8 || view.getInt32(i + 24) !== 8) throw bad('ts, lat and lon must be 8-byte values (NOT NULL)');
    const ts = epochMs(view, i + 4);
    const lat = view.getFloat64(i + 16);
    const lon = view.getFloat64(i + 28);
    const speedLength = view.getInt32(i + 36);
    i += 40;
    if (speedLength < 0 || i + speedLength > n) throw bad('speed must be a text value');
    const speedKmh = text.number(i, i + speedLength);
    i += speedLength;
    out.push({ ts, lat, lon, speedKmh, fix: true });
  }
}
