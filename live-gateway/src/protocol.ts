/**
 * The /live wire protocol (ARCHITECTURE.md, "Live channel"; docs/live.md). Pure: parses client
 * messages, encodes server messages. Every server message is one JSON object with a `type`.
 */
import { gwError, type WireCode } from './errors.ts';

export type ClientMessage =
  | { type: 'auth'; token: string }
  | { type: 'subscribe'; event: number }
  | { type: 'unsubscribe'; event: number }
  | { type: 'ping' };

/** One live position as pushed to clients. Times are ms since epoch (UTC). */
export interface LivePosition {
  event: number;
  entry: number;
  number: number | null;
  crew: string | null;
  imei: string;
  ts: number;
  lat: number;
  lon: number;
  /** km/h */
  speed: number;
  /** degrees, 0-360 */
  heading: number;
  /** metres */
  alt: number;
  sats: number;
}

export const MAX_CLIENT_MESSAGE_BYTES = 16 * 1024;

function eventId(value: unknown): number {
  const n = typeof value === 'string' && /^[0-9]+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n <= 0) throw gwError('BAD_REQUEST', '"event" must be a positive integer event id');
  return n;
}

/** Parses one text frame from a client; throws a BAD_REQUEST GatewayError on anything else. */
export function parseClientMessage(raw: string): ClientMessage {
  if (raw.length > MAX_CLIENT_MESSAGE_BYTES) throw gwError('BAD_REQUEST', `message longer than ${MAX_CLIENT_MESSAGE_BYTES} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw gwError('BAD_REQUEST', 'message is not JSON');
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw gwError('BAD_REQUEST', 'message must be a JSON object');
  const m = value as Record<string, unknown>;
  switch (m.type) {
    case 'auth':
      if (typeof m.access_token !== 'string' || m.access_token.length === 0 || m.access_token.length > 8192) {
        throw gwError('BAD_REQUEST', '"auth" needs a non-empty "access_token" string');
      }
      return { type: 'auth', token: m.access_token };
    case 'subscribe':
      return { type: 'subscribe', event: eventId(m.event) };
    case 'unsubscribe':
      return { type: 'unsubscribe', event: eventId(m.event) };
    case 'ping':
      return { type: 'ping' };
    default:
      throw gwError('BAD_REQUEST', `unknown message type ${JSON.stringify(m.type ?? null)}`);
  }
}

export function encodeError(code: WireCode, message: string, extra: { event?: number } = {}): string {
  return JSON.stringify({ type: 'error', code, message, ...extra });
}

export function encodePosition(p: LivePosition): string {
  return JSON.stringify({ type: 'position', ...p });
}

export function encodeSnapshot(event: number, positions: LivePosition[]): string {
  return JSON.stringify({ type: 'snapshot', event, positions });
}

/** Several already-encoded messages in one frame: `{"type":"batch","messages":[…]}`. */
export function encodeBatch(encoded: readonly string[]): string {
  return `{"type":"batch","messages":[${encoded.join(',')}]}`;
}

/** A `telemetry:positions` entry's fields (ARCHITECTURE.md, "Streams and queues"), decoded. */
export interface StreamPosition {
  imei: string;
  ts: number;
  lat: number;
  lon: number;
  speed: number;
  heading: number;
  alt: number;
  sats: number;
  fix: boolean;
}

function num(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  return Number.isFinite(n) ? n : fallback;
}

/** Decodes a stream entry's flat field list; null when imei, ts, lat or lon is unusable. */
export function parseStreamFields(flat: readonly string[]): StreamPosition | null {
  let imei: string | undefined, ts: string | undefined, lat: string | undefined, lon: string | undefined;
  let speed: string | undefined, heading: string | undefined, alt: string | undefined, sats: string | undefined, fix: string | undefined;
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const v = flat[i + 1];
    switch (flat[i]) {
      case 'imei': imei = v; break;
      case 'ts': ts = v; break;
      case 'lat': lat = v; break;
      case 'lon': lon = v; break;
      case 'speed': speed = v; break;
      case 'heading': heading = v; break;
      case 'alt': alt = v; break;
      case 'sats': sats = v; break;
      case 'fix': fix = v; break;
    }
  }
  const tsMs = Number(ts);
  const latDeg = Number(lat);
  const lonDeg = Number(lon);
  if (!imei || !Number.isFinite(tsMs) || lat === undefined || lon === undefined || !Number.isFinite(latDeg) || !Number.isFinite(lonDeg)) return null;
  if (Math.abs(latDeg) > 90 || Math.abs(lonDeg) > 180) return null;
  return {
    imei,
    ts: tsMs,
    lat: latDeg,
    lon: lonDeg,
    speed: num(speed, 0),
    heading: num(heading, 0),
    alt: num(alt, 0),
    sats: num(sats, 0),
    fix: fix !== '0',
  };
}
