/**
 * The snapshot sent on subscribe: the last known fix of every entry of the event with a device,
 * read from `positions` (one index scan per device on the unique (imei, ts) index). Faulty and
 * no-fix records are skipped, as on the live path.
 */
import type pg from 'pg';
import type { LivePosition } from './protocol.ts';

const SQL = `
SELECT en.id AS entry, en.event, en.number, en.crew, en.device AS imei,
       floor(extract(epoch FROM p.ts) * 1000)::float8 AS ts, p.lat, p.lon,
       p.speed::float8 AS speed, p.heading::float8 AS heading, p.alt::float8 AS alt, p.sats::int AS sats
FROM entries en
CROSS JOIN LATERAL (
  SELECT ts, lat, lon, speed, heading, alt, sats FROM positions
  WHERE imei = en.device AND fix AND NOT faulty
  ORDER BY ts DESC LIMIT 1
) p
WHERE en.event = $1 AND en.device IS NOT NULL
ORDER BY en.number NULLS LAST, en.id`;

export async function loadSnapshot(pool: pg.Pool, event: number): Promise<LivePosition[]> {
  const { rows } = await pool.query<LivePosition>({ name: 'live-gateway-snapshot', text: SQL, values: [event] });
  return rows;
}
