/**
 * Stream entries → COPY lines for `positions`, straight from the bytes of the XREADGROUP reply.
 * Pure.
 *
 * The writer's own CPU per record was as large as Postgres's (about 8 µs each on the 2-core dev
 * machine): the reply was turned into thirty JS strings per entry, those into numbers, and those
 * back into text for COPY. Most values need no such round trip: an imei, a latitude or a JSON
 * `io` goes into the COPY line as the very bytes Redis sent. So an entry is decoded here in one
 * pass over the reply: each known field's value is checked in place against a strict shape
 * (digits, an optional sign and decimals, ranges checked on the integer part), copied into the
 * batch's output buffer (with COPY escapes for `io` and `src`), and only `ts` and `rx` are turned
 * into numbers, for their ISO-8601 text, the day's partition and the committed windows.
 *
 * Any value outside those shapes (an exponent, a NaN, a value at a range's edge, a long `src`, a
 * missing required field) sends the entry down the reference path instead: its fields as strings,
 * `decodeEntry` (record.ts) and `copyLineDirect` (copy-text.ts). That path defines the meaning;
 * this one is only faster, and copy-codec tests check that both store the same values.
 */
import { copyLineDirect, isoFormatter } from './copy-text.ts';
import { decodeEntry, MAX_TS_MS, MIN_TS_MS } from './record.ts';

/** One row to write: its COPY line is `buf[start, end)` (TARGET_COLUMNS order, ends with \n). */
export interface EncodedRow {
  imei: string;
  tsMs: number;
  buf: Buffer;
  start: number;
  end: number;
}

/**
 * One stream entry as read: when `ok`, it is itself the row to write (one object per record:
 * a batch's 5,000 entries live until their COMMIT, and every object more is garbage-collector
 * work); else `reason` says why it cannot be written.
 */
export class StreamEntry implements EncodedRow {
  readonly id: string;
  /** the id's time part: when Redis took the entry in (ms since epoch) */
  readonly idMs: number;
  ok = false;
  reason = '';
  imei = '';
  tsMs = 0;
  buf: Buffer = EMPTY;
  start = 0;
  end = 0;
  // the raw fields: strings already, or where they lie in the reply
  private strings: string[] | null;
  private readonly frame: Buffer | null;
  private readonly at: number;
  private readonly until: number;

  constructor(id: string, idMs: number, strings: string[] | null, frame: Buffer | null = null, at = 0, until = 0) {
    this.id = id;
    this.idMs = idMs;
    this.strings = strings;
    this.frame = frame;
    this.at = at;
    this.until = until;
  }

  /** the raw fields as received ([k1, v1, …]; null when trimmed or deleted), for a dead letter */
  fields(): string[] | null {
    if (this.strings === null && this.frame !== null) this.strings = stringsOf(this.frame, this.at, this.until);
    return this.strings;
  }

  reject(reason: string): this {
    this.reason = reason;
    return this;
  }

  accept(imei: string, tsMs: number, buf: Buffer, start: number, end: number): this {
    this.ok = true;
    this.imei = imei;
    this.tsMs = tsMs;
    this.buf = buf;
    this.start = start;
    this.end = end;
    return this;
  }
}

const EMPTY = Buffer.alloc(0);

const SMALLINT_MAX = 32_767;
const INT_MAX = 2_147_483_647;
const SRC_MAX_BYTES = 64; // ≤ 64 bytes is ≤ 64 characters: the reference path's limit holds
const MAX_DIGITS = 15; // a decimal of at most 15 digits reads exactly as a double

const TAB = 9;
const NL = 10;
const CR = 13;
const BACKSLASH = 92;
const MINUS = 45;
const DOT = 46;
const D0 = 48;
const D9 = 57;

/** The output of one reply: COPY lines appended to one buffer, grown when needed. */
class LineWriter {
  buf: Buffer;
  at = 0;
  constructor(capacity: number) {
    this.buf = Buffer.allocUnsafe(Math.max(1024, capacity));
  }
  ensure(n: number): void {
    if (this.at + n <= this.buf.length) return;
    // rows already made keep the old buffer (still valid): only their contiguity is lost
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(next, 0, 0, this.at);
    this.buf = next;
  }
}

/** ISO-8601 text of ms since epoch, bytes written into a buffer; the second's prefix cached. */
class IsoBytes {
  private second = NaN;
  private readonly prefix = new Uint8Array(20); // 2024-06-01T04:00:00.
  write(out: Buffer, at: number, ms: number): number {
    const s = Math.floor(ms / 1000);
    if (s !== this.second) {
      const iso = new Date(s * 1000).toISOString();
      for (let i = 0; i < 20; i++) this.prefix[i] = iso.charCodeAt(i);
      this.second = s;
    }
    for (let i = 0; i < 20; i++) out[at + i] = this.prefix[i];
    const frac = ms - s * 1000;
    out[at + 20] = D0 + Math.floor(frac / 100);
    out[at + 21] = D0 + (Math.floor(frac / 10) % 10);
    out[at + 22] = D0 + (frac % 10);
    out[at + 23] = 90; // Z
    return at + 24;
  }
}

/**
 * Small strings met again and again (the imeis of a fleet): one JS string per distinct bytes,
 * found by hash with linear probing over a flat byte table (a fleet of thousands fits; past the
 * probe limit the home slot is taken over, so the table is a cache, never a leak).
 */
const INTERN_SLOTS = 8192; // power of two
const INTERN_KEY_BYTES = 20; // imeis are at most 20 bytes
const INTERN_PROBES = 8;

class Interner {
  private readonly keys = new Uint8Array(INTERN_SLOTS * INTERN_KEY_BYTES);
  private readonly lengths = new Uint8Array(INTERN_SLOTS); // 0 = empty
  private readonly values: string[] = new Array<string>(INTERN_SLOTS).fill('');
  get(buf: Buffer, start: number, n: number): string {
    let h = n;
    for (let i = start; i < start + n; i++) h = Math.imul(h ^ buf[i], 0x01000193);
    const home = (h ^ (h >>> 13)) & (INTERN_SLOTS - 1);
    for (let probe = 0; probe < INTERN_PROBES; probe++) {
      const slot = (home + probe) & (INTERN_SLOTS - 1);
      const len = this.lengths[slot];
      if (len === 0) return this.put(slot, buf, start, n);
      if (len !== n) continue;
      const base = slot * INTERN_KEY_BYTES;
      let i = 0;
      while (i < n && this.keys[base + i] === buf[start + i]) i++;
      if (i === n) return this.values[slot];
    }
    return this.put(home, buf, start, n);
  }
  private put(slot: number, buf: Buffer, start: number, n: number): string {
    const value = buf.toString('latin1', start, start + n); // imeis are [0-9A-Za-z]
    this.keys.set(buf.subarray(start, start + n), slot * INTERN_KEY_BYTES);
    this.lengths[slot] = n;
    this.values[slot] = value;
    return value;
  }
}

/**
 * Decimal `-?d+(.d+)?` of at most MAX_DIGITS digits: its integer part (≥ 0), or -1 when the
 * bytes have another shape. `zero` says whether every digit is 0.
 */
let lastAllZero = false;
function decimalIntPart(b: Buffer, start: number, n: number): number {
  let i = start;
  const end = start + n;
  if (i < end && b[i] === MINUS) i++;
  let intPart = 0;
  let digits = 0;
  let allZero = true;
  const intStart = i;
  while (i < end && b[i] >= D0 && b[i] <= D9) {
    intPart = intPart * 10 + (b[i] - D0);
    if (b[i] !== D0) allZero = false;
    i++;
  }
  digits = i - intStart;
  if (digits === 0) return -1;
  if (i < end) {
    if (b[i] !== DOT) return -1;
    i++;
    const fracStart = i;
    while (i < end && b[i] >= D0 && b[i] <= D9) {
      if (b[i] !== D0) allZero = false;
      i++;
    }
    if (i === fracStart || i < end) return -1;
    digits += i - fracStart;
  }
  if (digits > MAX_DIGITS) return -1;
  lastAllZero = allZero;
  return intPart;
}

/** Unsigned integer of 1..maxDigits digits, or -1. */
function digitsValue(b: Buffer, start: number, n: number, maxDigits: number): number {
  if (n < 1 || n > maxDigits) return -1;
  let v = 0;
  for (let i = start; i < start + n; i++) {
    const c = b[i];
    if (c < D0 || c > D9) return -1;
    v = v * 10 + (c - D0);
  }
  return v;
}

function isAlnum(b: Buffer, start: number, n: number): boolean {
  for (let i = start; i < start + n; i++) {
    const c = b[i];
    if (!((c >= D0 && c <= D9) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122))) return false;
  }
  return true;
}

function copyRaw(out: Buffer, at: number, b: Buffer, start: number, n: number): number {
  if (n < 16) {
    for (let i = 0; i < n; i++) out[at + i] = b[start + i];
    return at + n;
  }
  return at + b.copy(out, at, start, start + n);
}

/** A numeric column and its tab: the value's bytes (start ≥ 0) or 0. */
function numberOrZero(out: Buffer, at: number, b: Buffer, start: number, n: number): number {
  if (start >= 0) at = copyRaw(out, at, b, start, n);
  else out[at++] = D0;
  out[at++] = TAB;
  return at;
}

/** Copies bytes with COPY text escapes for backslash, tab, newline and carriage return. */
function copyEscaped(out: Buffer, at: number, b: Buffer, start: number, n: number): number {
  for (let i = start; i < start + n; i++) {
    const c = b[i];
    if (c === BACKSLASH || c === TAB || c === NL || c === CR) {
      out[at++] = BACKSLASH;
      out[at++] = c === BACKSLASH ? BACKSLASH : c === TAB ? 116 /* t */ : c === NL ? 110 /* n */ : 114 /* r */;
    } else out[at++] = c;
  }
  return at;
}

const word = (w: string) => Uint8Array.from(w, (c) => c.charCodeAt(0));
const IMEI = word('imei');
const SATS = word('sats');
const SPEED = word('speed');
const EVENT = word('event');
const HEADING = word('heading');
const PRIORITY = word('priority');
const TRUE = word('true');
const FALSE = word('false');

/** Whether `b` holds `w` at `at` (the caller has checked the length). */
function is(b: Buffer, at: number, w: Uint8Array): boolean {
  for (let i = 0; i < w.length; i++) if (b[at + i] !== w[i]) return false;
  return true;
}

const EMPTY_OBJECT = Buffer.from('{}');

/**
 * Decodes the stream entries of one RESP2 reply: XREADGROUP's `*1 *2 $key *N entries`, or a nil
 * (a BLOCK that timed out). Each entry is `*2 $id (*2k fields | *-1)`.
 */
export class EntryDecoder {
  private readonly tsIso = new IsoBytes();
  private readonly rxIso = new IsoBytes();
  private readonly tsIsoText = isoFormatter();
  private readonly rxIsoText = isoFormatter();
  private readonly imeis = new Interner();
  // the reply being read
  private b: Buffer = Buffer.alloc(0);
  private p = 0;

  /** The entries of an XREADGROUP reply frame (resp-client.ts RespFramer). */
  decodeReadReply(frame: Buffer): StreamEntry[] {
    this.b = frame;
    this.p = 0;
    const streams = this.arrayHeader();
    if (streams <= 0) return [];
    if (streams !== 1 || this.arrayHeader() !== 2) throw new Error('XREADGROUP reply: expected one [key, entries] pair');
    this.bulk(); // the stream's key
    const n = this.arrayHeader();
    if (n <= 0) return [];
    const out = new LineWriter(frame.length + n * 48);
    const entries = new Array<StreamEntry>(n);
    for (let i = 0; i < n; i++) entries[i] = this.entry(out);
    return entries;
  }

  /** Entries already parsed into strings (ioredis replies: XAUTOCLAIM, a TLS connection). */
  decodeStrings(raw: readonly (readonly [string, string[] | null])[]): StreamEntry[] {
    const out = new LineWriter(raw.length * 256);
    return raw.map(([id, fields]) => this.viaStrings(out, new StreamEntry(id, Number(id.slice(0, id.indexOf('-'))), fields), fields));
  }

  private entry(out: LineWriter): StreamEntry {
    const b = this.b;
    if (this.arrayHeader() !== 2) throw new Error('stream entry: expected [id, fields]');
    const idStart = this.bulk();
    const idEnd = idStart + this.len;
    const id = b.toString('latin1', idStart, idEnd);
    let idMs = 0;
    for (let i = idStart; i < idEnd && b[i] !== MINUS; i++) idMs = idMs * 10 + (b[i] - D0);
    const fieldsAt = this.p;
    const count = this.arrayHeader();
    if (count < 0) return new StreamEntry(id, idMs, null).reject('entry has no fields (trimmed or deleted)');
    // fast() reads every field, leaving this.p at the entry's end
    const fast = this.fast(out, count);
    const entry = new StreamEntry(id, idMs, null, b, fieldsAt, this.p);
    if (fast) return entry.accept(this.imei, this.tsMs, out.buf, this.start, this.end);
    return this.viaStrings(out, entry, entry.fields());
  }

  /** The reference path: strings → decodeEntry → copyLineDirect, appended to `out`. */
  private viaStrings(out: LineWriter, entry: StreamEntry, fields: string[] | null): StreamEntry {
    const d = decodeEntry(fields);
    if (!d.ok) return entry.reject(d.reason);
    const line = copyLineDirect(d.row, this.tsIsoText, this.rxIsoText);
    const bytes = Buffer.byteLength(line);
    out.ensure(bytes);
    const start = out.at;
    out.at += out.buf.write(line, start, bytes, 'utf8');
    return entry.accept(d.row.imei, d.row.tsMs, out.buf, start, out.at);
  }

  /** The fast path; undefined = this entry takes the reference path. */
  // what fast() found, when it answers true
  private imei = '';
  private tsMs = 0;
  private start = 0;
  private end = 0;

  private fast(out: LineWriter, count: number): boolean {
    const b = this.b;
    let imeiS = -1, imeiN = 0, tsS = -1, tsN = 0, latS = -1, latN = 0, lonS = -1, lonN = 0;
    let altS = -1, altN = 0, spdS = -1, spdN = 0, hdgS = -1, hdgN = 0, satS = -1, satN = 0;
    let priS = -1, priN = 0, evtS = -1, evtN = 0, ioS = -1, ioN = 0, rxS = -1, rxN = 0;
    let srcS = -1, srcN = 0, fixS = -1, fixN = 0;
    for (let f = 0; f + 1 < count; f += 2) {
      const k = this.bulk();
      const kn = this.len;
      const v = this.bulk();
      const vn = this.len;
      const c0 = b[k];
      switch (kn) {
        case 2:
          if (c0 === 116 && b[k + 1] === 115) { tsS = v; tsN = vn; } // ts
          else if (c0 === 105 && b[k + 1] === 111) { ioS = v; ioN = vn; } // io
          else if (c0 === 114 && b[k + 1] === 120) { rxS = v; rxN = vn; } // rx
          break;
        case 3:
          if (c0 === 108 && b[k + 1] === 97 && b[k + 2] === 116) { latS = v; latN = vn; } // lat
          else if (c0 === 108 && b[k + 1] === 111 && b[k + 2] === 110) { lonS = v; lonN = vn; } // lon
          else if (c0 === 97 && b[k + 1] === 108 && b[k + 2] === 116) { altS = v; altN = vn; } // alt
          else if (c0 === 115 && b[k + 1] === 114 && b[k + 2] === 99) { srcS = v; srcN = vn; } // src
          else if (c0 === 102 && b[k + 1] === 105 && b[k + 2] === 120) { fixS = v; fixN = vn; } // fix
          break;
        case 4:
          if (is(b, k, IMEI)) { imeiS = v; imeiN = vn; }
          else if (is(b, k, SATS)) { satS = v; satN = vn; }
          break;
        case 5:
          if (is(b, k, SPEED)) { spdS = v; spdN = vn; }
          else if (is(b, k, EVENT)) { evtS = v; evtN = vn; }
          break;
        case 7:
          if (is(b, k, HEADING)) { hdgS = v; hdgN = vn; }
          break;
        case 8:
          if (is(b, k, PRIORITY)) { priS = v; priN = vn; }
          break;
        default:
          break; // unknown fields are ignored
      }
    }
    if (count % 2 === 1) this.bulk(); // a field without a value: ignored, as decodeEntry does
    // required: imei, ts, lat, lon, in the shapes this path knows
    if (imeiS < 0 || imeiN < 1 || imeiN > 20 || !isAlnum(b, imeiS, imeiN)) return false;
    const tsMs = digitsValue(b, tsS, tsN, 16);
    if (tsS < 0 || tsMs < MIN_TS_MS || tsMs >= MAX_TS_MS) return false;
    if (latS < 0 || lonS < 0) return false;
    const latInt = decimalIntPart(b, latS, latN);
    if (latInt < 0 || latInt > 89) return false;
    const latZero = lastAllZero;
    const lonInt = decimalIntPart(b, lonS, lonN);
    if (lonInt < 0 || lonInt > 179) return false;
    const lonZero = lastAllZero;
    // optional: absent → the column default; present, in a known shape or the reference path
    if (altS >= 0 && decimalIntPart(b, altS, altN) < 0) return false;
    if (spdS >= 0 && decimalIntPart(b, spdS, spdN) < 0) return false;
    if (hdgS >= 0 && decimalIntPart(b, hdgS, hdgN) < 0) return false;
    let sats = 0;
    if (satS >= 0) {
      sats = digitsValue(b, satS, satN, 5);
      if (sats < 0 || sats > SMALLINT_MAX) return false;
    }
    if (priS >= 0) {
      const v = digitsValue(b, priS, priN, 5);
      if (v < 0 || v > SMALLINT_MAX) return false;
    }
    if (evtS >= 0) {
      const v = digitsValue(b, evtS, evtN, 10);
      if (v < 0 || v > INT_MAX) return false;
    }
    let rxMs = -1;
    if (rxS >= 0 && rxN > 0) {
      rxMs = digitsValue(b, rxS, rxN, 16);
      if (rxMs < 0) return false;
      if (rxMs < MIN_TS_MS || rxMs >= MAX_TS_MS) rxMs = -1; // as decodeEntry: an impossible receive time is NULL
    }
    if (srcS >= 0 && srcN > SRC_MAX_BYTES) return false;
    const io = ioS >= 0 && ioN >= 2 && b[ioS] === 123 && b[ioS + ioN - 1] === 125;
    let fix: boolean;
    if (fixS >= 0 && fixN === 1 && b[fixS] === 49) fix = true; // '1'
    else if (fixS >= 0 && fixN === 1 && b[fixS] === D0) fix = false; // '0'
    else if (fixS >= 0 && fixN === 4 && is(b, fixS, TRUE)) fix = true;
    else if (fixS >= 0 && fixN === 5 && is(b, fixS, FALSE)) fix = false;
    else fix = sats > 0 && !(latZero && lonZero);

    // worst case: every escaped byte doubles, plus two ISO times and the separators
    out.ensure(imeiN + latN + lonN + altN + spdN + hdgN + satN + priN + evtN + 2 * (ioN + srcN) + 96);
    const o = out.buf;
    const start = out.at;
    let at = copyRaw(o, start, b, imeiS, imeiN);
    o[at++] = TAB;
    at = this.tsIso.write(o, at, tsMs);
    o[at++] = TAB;
    at = copyRaw(o, at, b, latS, latN);
    o[at++] = TAB;
    at = copyRaw(o, at, b, lonS, lonN);
    o[at++] = TAB;
    // alt, speed, heading, sats, priority, event: the bytes sent, or the column default 0
    at = numberOrZero(o, at, b, altS, altN);
    at = numberOrZero(o, at, b, spdS, spdN);
    at = numberOrZero(o, at, b, hdgS, hdgN);
    at = numberOrZero(o, at, b, satS, satN);
    at = numberOrZero(o, at, b, priS, priN);
    at = numberOrZero(o, at, b, evtS, evtN);
    at = io ? copyEscaped(o, at, b, ioS, ioN) : copyRaw(o, at, EMPTY_OBJECT, 0, 2);
    o[at++] = TAB;
    o[at++] = fix ? 116 : 102; // t | f
    o[at++] = TAB;
    if (rxMs >= 0) at = this.rxIso.write(o, at, rxMs);
    else {
      o[at++] = BACKSLASH;
      o[at++] = 78; // N
    }
    o[at++] = TAB;
    if (srcS >= 0 && srcN > 0) at = copyEscaped(o, at, b, srcS, srcN);
    else {
      o[at++] = BACKSLASH;
      o[at++] = 78;
    }
    o[at++] = NL;
    out.at = at;
    this.imei = this.imeis.get(b, imeiS, imeiN);
    this.tsMs = tsMs;
    this.start = start;
    this.end = at;
    return true;
  }

  // --- RESP2 reading over this.b; `len` is the length of the last bulk string read

  private len = 0;

  /** `*n\r\n` → n (-1 for a nil array); advances past the header. */
  private arrayHeader(): number {
    const b = this.b;
    if (b[this.p] !== 42) throw new Error(`RESP: expected an array at byte ${this.p}`);
    return this.header();
  }

  /** `$n\r\n<n bytes>\r\n` → the offset of the bytes (len = n); advances past it. */
  private bulk(): number {
    const b = this.b;
    if (b[this.p] !== 36) throw new Error(`RESP: expected a bulk string at byte ${this.p}`);
    const n = this.header();
    const start = this.p;
    this.len = n < 0 ? 0 : n;
    this.p += n < 0 ? 0 : n + 2;
    return start;
  }

  private header(): number {
    const b = this.b;
    let i = this.p + 1;
    let negative = false;
    if (b[i] === MINUS) {
      negative = true;
      i++;
    }
    let n = 0;
    while (b[i] !== CR) n = n * 10 + (b[i++] - D0);
    this.p = i + 2;
    return negative ? -n : n;
  }

}

/** The fields of one entry as strings: the array at `from` (its header included) up to `to`. */
function stringsOf(frame: Buffer, from: number, to: number): string[] {
  const out: string[] = [];
  let p = from;
  // *count\r\n
  while (frame[p] !== CR) p++;
  p += 2;
  while (p < to) {
    let n = 0;
    p++; // $
    while (frame[p] !== CR) n = n * 10 + (frame[p++] - D0);
    p += 2;
    out.push(frame.toString('utf8', p, p + n));
    p += n + 2;
  }
  return out;
}
