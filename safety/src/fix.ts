/**
 * One `telemetry:positions` entry as the detector sees it. Pure. The field rules are the
 * db-writer's (db-writer/src/record.ts, the stream contract): required imei, ts, lat, lon;
 * optional fields take defaults; `io` is parsed into id → number.
 */
import { decodeEntry } from '../../db-writer/src/record.ts';

export interface Fix {
  imei: string;
  /** device time, ms since epoch */
  tsMs: number;
  /** server receive time (ingest), ms since epoch; the device time when absent */
  rxMs: number;
  lat: number;
  lon: number;
  speedKmh: number;
  heading: number;
  sats: number;
  /** 0 low, 1 high, 2 panic */
  priority: number;
  /** event IO id (0 = periodic record) */
  eventIo: number;
  io: Record<string, number>;
  /** the device had a GPS fix (fix flag, else satellites and not 0,0) */
  valid: boolean;
  /** an operator flagged this instant of the device as faulty (position_flags) */
  faulty: boolean;
}

export type DecodedFix = { ok: true; fix: Fix } | { ok: false; reason: string };

export function decodeFix(fields: readonly string[] | null): DecodedFix {
  const decoded = decodeEntry(fields);
  if (!decoded.ok) return decoded;
  const r = decoded.row;
  return {
    ok: true,
    fix: {
      imei: r.imei,
      tsMs: r.tsMs,
      rxMs: r.rxMs ?? r.tsMs,
      lat: r.lat,
      lon: r.lon,
      speedKmh: r.speedKmh,
      heading: r.heading,
      sats: r.sats,
      priority: r.priority,
      eventIo: r.eventIo,
      io: parseIo(r.io),
      valid: r.fix,
      faulty: false,
    },
  };
}

function parseIo(text: string): Record<string, number> {
  if (text === '{}') return {};
  try {
    const raw = JSON.parse(text) as Record<string, unknown>;
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(raw)) {
      const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : NaN;
      if (Number.isFinite(n)) out[k] = n;
    }
    return out;
  } catch {
    return {};
  }
}
