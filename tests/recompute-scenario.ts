/**
 * A stage near Tirana built through Directus REST, and fixes written straight into `positions`,
 * for the recompute tests and benchmark. Geometry in metres east (x) / north (y) of 19.8°E
 * 41.3°N (functions/src/core/timing/test-fixtures.ts); the course runs east along y = 0:
 *
 *   start line x = 0 · waypoint WPV (3050, 30) r 40 m · speed zone x 4000–5000 (50 km/h)
 *   · finish line x = 6007        (lines drawn north → south: left → right going east)
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { at, rectM } from '../functions/src/core/timing/test-fixtures.ts';
import type { Rest } from '../directus/src/rest.ts';

export const START_X = 0;
export const FINISH_X = 6007;
export const WAYPOINT = { x: 3050, y: 30, radiusM: 40 };
export const ZONE = { x0: 4000, x1: 5000, limitKmh: 50 };

export interface Scenario {
  event: number;
  stage: number;
  waypoint: number;
  zone: number;
  devices: string[];
  entries: number[];
}

const line = (x: number) => ({ type: 'LineString', coordinates: [at(x, 150), at(x, -150)] });

export function newImei(): string {
  // 15 digits, unique enough per run: 35 + 13 random digits
  return `35${BigInt(`0x${randomBytes(7).toString('hex')}`).toString().padStart(13, '0').slice(-13)}`;
}

/** An event with one special stage and `entryCount` entries, each with its own device. */
export async function createScenario(api: Rest, o: { organization: string; plannedStartMs: number; entryCount: number; maxTimeS?: number; closesAtMs?: number }): Promise<Scenario> {
  const event = (await api.request<{ id: number }>('POST', '/items/events', { organization: o.organization, name: `Recompute ${randomBytes(3).toString('hex')}`, starts_at: new Date(o.plannedStartMs - 86_400_000).toISOString(), ends_at: new Date(o.plannedStartMs + 86_400_000).toISOString() })).id;
  const stage = (await api.request<{ id: number }>('POST', '/items/stages', { event, code: 'SS1', sequence: 1, kind: 'special', planned_start: new Date(o.plannedStartMs).toISOString(), start_interval_s: 60, max_time_s: o.maxTimeS ?? 7200, closes_at: o.closesAtMs ? new Date(o.closesAtMs).toISOString() : null, status: 'running' })).id;
  await api.request('POST', '/items/geofences', [
    { stage, code: 'DSS', kind: 'start', sequence: 0, geometry: line(START_X) },
    { stage, code: 'ASS', kind: 'finish', sequence: 9, geometry: line(FINISH_X) },
  ]);
  const waypoint = (await api.request<{ id: number }>('POST', '/items/waypoints', { stage, code: 'WP1', type: 'WPV', sequence: 1, point: { type: 'Point', coordinates: at(WAYPOINT.x, WAYPOINT.y) }, radius_m: WAYPOINT.radiusM })).id;
  const zone = (await api.request<{ id: number }>('POST', '/items/speed_limit_zones', { stage, code: 'SLZ1', geometry: { type: 'Polygon', coordinates: rectM(ZONE.x0, -100, ZONE.x1, 100) }, limit_kmh: ZONE.limitKmh, tolerance_kmh: 0 })).id;
  const devices = Array.from({ length: o.entryCount }, newImei);
  for (let i = 0; i < devices.length; i += 500) await api.request('POST', '/items/devices', devices.slice(i, i + 500).map((imei) => ({ imei, organization: o.organization, model: 'FMB920' })));
  const entries: number[] = [];
  for (let i = 0; i < devices.length; i += 500) {
    const rows = await api.request<{ id: number }[]>('POST', '/items/entries?fields=id', devices.slice(i, i + 500).map((device, j) => ({ event, number: i + j + 1, device, status: 'started' })));
    entries.push(...rows.map((r) => r.id));
  }
  return { event, stage, waypoint, zone, devices, entries };
}

export interface TrackFix {
  ts: number;
  x: number;
  y: number;
  speedKmh: number;
}

/** Eastbound along y at a constant speed: fixes every `periodMs`, the first at x0 at t0. */
export function straightTrack(o: { t0: number; x0: number; x1: number; speedMs: number; periodMs: number; y?: number }): TrackFix[] {
  const out: TrackFix[] = [];
  for (let k = 0; ; k++) {
    const x = o.x0 + (o.speedMs * k * o.periodMs) / 1000;
    if (x > o.x1) break;
    out.push({ ts: o.t0 + k * o.periodMs, x, y: o.y ?? 0, speedKmh: o.speedMs * 3.6 });
  }
  return out;
}

/** INSERT … SELECT unnest into positions (the parent routes rows to their day partition). */
export async function insertFixes(db: pg.Pool | pg.Client, imei: string, track: readonly TrackFix[]): Promise<void> {
  for (let i = 0; i < track.length; i += 5000) {
    const part = track.slice(i, i + 5000);
    const lonLat = part.map((f) => at(f.x, f.y));
    await db.query(
      `INSERT INTO positions (imei, ts, lat, lon, speed, heading, sats, fix)
       SELECT $1, 'epoch'::timestamptz + t * interval '1 millisecond', lat, lon, speed, 90, 12, true
       FROM unnest($2::int8[], $3::float8[], $4::float8[], $5::float4[]) AS u(t, lat, lon, speed)
       ON CONFLICT (imei, ts) DO NOTHING`,
      [imei, part.map((f) => f.ts), lonLat.map((p) => p[1]), lonLat.map((p) => p[0]), part.map((f) => f.speedKmh)],
    );
  }
}
