/**
 * Decoding of one `telemetry:positions` entry (ARCHITECTURE.md, "Streams and queues") into a
 * positions row. Pure. Required fields (imei, ts, lat, lon) missing or invalid → the entry is
 * rejected with a reason and goes to the dead-letter stream; optional fields that are missing
 * or invalid take the column's default, so a usable fix is never thrown away for a bad extra.
 * Unknown fields are ignored.
 */

export interface PositionRow {
  imei: string;
  /** device time, ms since epoch (UTC) */
  tsMs: number;
  lat: number;
  lon: number;
  /** metres */
  alt: number;
  speedKmh: number;
  /** degrees */
  heading: number;
  sats: number;
  priority: number;
  eventIo: number;
  /** JSON object text (validated by Postgres's jsonb input) */
  io: string;
  fix: boolean;
  /** server receive time, ms since epoch */
  rxMs: number | null;
  src: string | null;
}

export type Decoded = { ok: true; row: PositionRow } | { ok: false; reason: string };

// 2000-01-01 .. 2100-01-01: a tracker without GPS time reports 0 (1970); such a record has no
// place on a timing axis.
export const MIN_TS_MS = 946_684_800_000;
export const MAX_TS_MS = 4_102_444_800_000;
const IMEI = /^[0-9A-Za-z]{1,20}$/;
const SMALLINT_MAX = 32_767;
const INT_MAX = 2_147_483_647;
const SRC_MAX_CHARS = 64; // positions.src varchar(64)

function num(raw: string | undefined): number {
  return raw === undefined || raw === '' ? NaN : Number(raw);
}

function finiteOr(raw: string | undefined, fallback: number): number {
  const v = num(raw);
  return Number.isFinite(v) ? v : fallback;
}

function intIn(raw: string | undefined, min: number, max: number, fallback: number): number {
  const v = num(raw);
  return Number.isInteger(v) && v >= min && v <= max ? v : fallback;
}

/** `fields` is the flat [k1, v1, k2, v2, …] array Redis returns for a stream entry. */
export function decodeEntry(fields: readonly string[] | null): Decoded {
  if (!fields) return { ok: false, reason: 'entry has no fields (trimmed or deleted)' };
  let imei: string | undefined;
  let ts: string | undefined;
  let lat: string | undefined;
  let lon: string | undefined;
  let alt: string | undefined;
  let speed: string | undefined;
  let heading: string | undefined;
  let sats: string | undefined;
  let priority: string | undefined;
  let event: string | undefined;
  let io: string | undefined;
  let rx: string | undefined;
  let src: string | undefined;
  let fix: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const v = fields[i + 1];
    switch (fields[i]) {
      case 'imei': imei = v; break;
      case 'ts': ts = v; break;
      case 'lat': lat = v; break;
      case 'lon': lon = v; break;
      case 'alt': alt = v; break;
      case 'speed': speed = v; break;
      case 'heading': heading = v; break;
      case 'sats': sats = v; break;
      case 'priority': priority = v; break;
      case 'event': event = v; break;
      case 'io': io = v; break;
      case 'rx': rx = v; break;
      case 'src': src = v; break;
      case 'fix': fix = v; break;
      default: break; // unknown fields are ignored (forward compatibility)
    }
  }
  if (imei === undefined) return { ok: false, reason: 'missing imei' };
  if (!IMEI.test(imei)) return { ok: false, reason: 'invalid imei' };
  if (ts === undefined) return { ok: false, reason: 'missing ts' };
  const tsMs = num(ts);
  if (!Number.isSafeInteger(tsMs)) return { ok: false, reason: 'invalid ts (not an integer of ms)' };
  if (tsMs < MIN_TS_MS || tsMs >= MAX_TS_MS) return { ok: false, reason: 'ts out of range (2000..2100)' };
  if (lat === undefined) return { ok: false, reason: 'missing lat' };
  const latDeg = num(lat);
  if (!(latDeg >= -90 && latDeg <= 90)) return { ok: false, reason: 'invalid lat' };
  if (lon === undefined) return { ok: false, reason: 'missing lon' };
  const lonDeg = num(lon);
  if (!(lonDeg >= -180 && lonDeg <= 180)) return { ok: false, reason: 'invalid lon' };

  const satellites = intIn(sats, 0, SMALLINT_MAX, 0);
  const rxMs = num(rx);
  return {
    ok: true,
    row: {
      imei,
      tsMs,
      lat: latDeg,
      lon: lonDeg,
      alt: finiteOr(alt, 0),
      speedKmh: finiteOr(speed, 0),
      heading: finiteOr(heading, 0),
      sats: satellites,
      priority: intIn(priority, 0, SMALLINT_MAX, 0),
      eventIo: intIn(event, 0, INT_MAX, 0),
      io: io !== undefined && isJsonObjectText(io) ? io : '{}',
      fix: parseFix(fix, satellites, latDeg, lonDeg),
      // a receive time outside 2000..2100 is no time at all (and has no ISO-8601 text)
      rxMs: Number.isSafeInteger(rxMs) && rxMs >= MIN_TS_MS && rxMs < MAX_TS_MS ? rxMs : null,
      src: src === undefined || src === '' ? null : src.slice(0, SRC_MAX_CHARS),
    },
  };
}

// A cheap shape check only: full validation is Postgres's jsonb input, and a row it rejects is
// isolated and dead-lettered by the sink (see writer.ts, isolate()).
function isJsonObjectText(text: string): boolean {
  return text.length >= 2 && text.charCodeAt(0) === 123 /* { */ && text.charCodeAt(text.length - 1) === 125 /* } */;
}

function parseFix(raw: string | undefined, sats: number, lat: number, lon: number): boolean {
  if (raw === '1' || raw === 'true') return true;
  if (raw === '0' || raw === 'false') return false;
  // not given: a fix needs satellites and a position other than the 0,0 of a cold receiver
  return sats > 0 && !(lat === 0 && lon === 0);
}

/** UTC day number (days since epoch) of a timestamp, as partitions are cut. */
export function utcDay(tsMs: number): number {
  return Math.floor(tsMs / 86_400_000);
}
