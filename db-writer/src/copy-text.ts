/**
 * A row → one line of PostgreSQL's COPY text format (https://www.postgresql.org/docs/15/sql-copy.html,
 * "Text Format"): tab-separated columns, `\N` for NULL, backslash escapes for backslash, tab,
 * newline and carriage return. Pure. Column order is TARGET_COLUMNS. The reference path of the
 * entry decoder (entry-codec.ts), which makes most lines straight from the reply's bytes.
 */
import type { PositionRow } from './record.ts';

const NEEDS_ESCAPE = /[\\\t\n\r]/;

export function escapeCopyText(value: string): string {
  if (!NEEDS_ESCAPE.test(value)) return value;
  return value.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

/** A row for a COPY straight into positions (or a child): column order TARGET_COLUMNS, times as ISO-8601 UTC. */
export const TARGET_COLUMNS = ['imei', 'ts', 'lat', 'lon', 'alt', 'speed', 'heading', 'sats', 'priority', 'event_io', 'io', 'fix', 'rx', 'src'] as const;

/**
 * ms since epoch → ISO-8601 UTC, as Date#toISOString, formatting each second once: a batch holds
 * many fixes of the same second (every device reports each second), so most rows only append
 * their milliseconds. One cache per column (ts, rx).
 */
export function isoFormatter(): (ms: number) => string {
  let second = NaN;
  let prefix = '';
  return (ms) => {
    const s = Math.floor(ms / 1000);
    if (s !== second) {
      const iso = new Date(s * 1000).toISOString(); // …T12:34:56.000Z (throws on an invalid time, as before)
      prefix = iso.slice(0, iso.length - 4);
      second = s;
    }
    const frac = ms - s * 1000;
    return `${prefix}${frac < 10 ? '00' : frac < 100 ? '0' : ''}${frac}Z`;
  };
}

export function copyLineDirect(r: PositionRow, tsIso: (ms: number) => string = isoFormatter(), rxIso: (ms: number) => string = isoFormatter()): string {
  return `${r.imei}\t${tsIso(r.tsMs)}\t${r.lat}\t${r.lon}\t${r.alt}\t${r.speedKmh}\t${r.heading}\t${r.sats}\t${r.priority}\t${r.eventIo}\t${escapeCopyText(r.io)}\t${r.fix ? 't' : 'f'}\t${r.rxMs === null ? '\\N' : rxIso(r.rxMs)}\t${r.src === null ? '\\N' : escapeCopyText(r.src)}\n`;
}
