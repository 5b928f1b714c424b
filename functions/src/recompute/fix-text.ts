/**
 * COPY text rows of `positions` (`ts\tlat\tlon\tspeed\n`, fixes.ts's query) → fixes, from bytes,
 * without a string per field. Pure; runs in the compute workers (compute-worker.ts).
 */
import type { Fix } from '../core/timing/index.ts';

const TAB = 9;
const LF = 10;
const TWO_53 = 2 ** 53;
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i); // 1e0 … 1e22, all exact doubles

/**
 * One number of a COPY text field starting at `from`; sets `end` to the byte after it (a tab, a
 * newline or the end). Fast path for `-?digits[.digits]` whose digits, read as an integer m, stay
 * below 2^53 with at most 22 decimals: m and 10^d are then exact doubles and m / 10^d is one
 * correctly rounded division, i.e. exactly what `Number(text)` gives (Clinger's fast path).
 * Anything else (17 significant digits, exponents, NaN, `\N`) goes through `Number(text)`.
 * `number(from, to)` reads exactly the bytes [from, to) (a binary COPY text field).
 */
export class FieldReader {
  end = 0;
  private readonly bytes: Uint8Array;
  private readonly text: Buffer;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  number(from: number, to = this.bytes.length): number {
    const b = this.bytes;
    const n = to;
    let i = from;
    const negative = b[i] === 45; // '-'
    if (negative) i++;
    const digitsFrom = i;
    let m = 0;
    let decimals = -1;
    let c = 0;
    for (; i < n; i++) {
      c = b[i];
      if (c >= 48 && c <= 57) {
        m = m * 10 + (c - 48);
        if (decimals >= 0) decimals++;
      } else if (c === 46 && decimals < 0) decimals = 0; // '.'
      else break;
    }
    if (i < n && c !== TAB && c !== LF) {
      while (i < n && b[i] !== TAB && b[i] !== LF) i++;
      this.end = i;
      return Number(this.text.toString('latin1', from, i));
    }
    this.end = i;
    if (i === digitsFrom || !(m < TWO_53) || decimals > 22) return Number(this.text.toString('latin1', from, i));
    const v = decimals > 0 ? m / POW10[decimals] : m;
    return negative ? -v : v;
  }
}

/** Parses COPY text rows `ts\tlat\tlon\tspeed\n` (bytes); a truncated last row is dropped. */
export function parseFixBytes(bytes: Uint8Array): Fix[] {
  const out: Fix[] = [];
  const r = new FieldReader(bytes);
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const ts = r.number(i);
    if (bytes[r.end] !== TAB) break;
    const lat = r.number(r.end + 1);
    if (bytes[r.end] !== TAB) break;
    const lon = r.number(r.end + 1);
    if (bytes[r.end] !== TAB) break;
    const speedKmh = r.number(r.end + 1);
    out.push({ ts, lat, lon, speedKmh, fix: true });
    i = r.end + 1;
  }
  return out;
}

/** Parses COPY text rows `ts\tlat\tlon\tspeed\n`. */
export function parseFixes(text: string): Fix[] {
  return parseFixBytes(Buffer.from(text, 'latin1'));
}
