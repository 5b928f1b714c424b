/**
 * The Postgres side of the safety service (reads only; alerts are written through Directus):
 * the course of the events live around now (with each stage's neutralisation-zone geofences),
 * the operators' flags of their devices, the alerts not closed yet, and the last record of each
 * device (silence survives a restart). Directus owns these tables; reading them directly is what the live-gateway and the functions do too.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { Course, type CourseInput, type EntryDef, type StageKind } from './course.ts';
import type { Evidence } from './detector.ts';
import type { Fix } from './fix.ts';
import { FlagIndex } from './flags.ts';
import type { AlertKind, AlertStatus } from './kinds.ts';

/** Events whose window reaches this close to now are loaded, ms. */
const EVENT_MARGIN_MS = 86_400_000;
/** How far back the last record of a device is looked for at start, ms. */
const LAST_HEARD_WINDOW_MS = 3_600_000;

export interface OpenAlert {
  id: number;
  key: string | null;
  kind: AlertKind;
  entry: number | null;
  device: string | null;
  status: AlertStatus;
  evidence: Evidence | null;
}

export interface Snapshot {
  course: Course;
  flags: FlagIndex;
  openAlerts: OpenAlert[];
  devices: string[];
}

const ms = (v: Date | string | null): number | null => (v === null ? null : new Date(v).getTime());

function lines(geojson: string | null): number[][][] {
  if (!geojson) return [];
  const g = JSON.parse(geojson) as { type: string; coordinates: unknown };
  if (g.type === 'LineString') return [g.coordinates as number[][]];
  if (g.type === 'MultiLineString') return g.coordinates as number[][][];
  return [];
}

/** A neutralisation zone's rings ([lon, lat]); a MultiPolygon gives one per part, anything else none. */
function polygons(geojson: string | null): number[][][][] {
  if (!geojson) return [];
  const g = JSON.parse(geojson) as { type: string; coordinates: unknown };
  if (g.type === 'Polygon') return [g.coordinates as number[][][]];
  if (g.type === 'MultiPolygon') return g.coordinates as number[][][][];
  return [];
}

export async function loadSnapshot(pool: pg.Pool, nowMs: number, previous?: Course): Promise<Snapshot> {
  const from = new Date(nowMs - EVENT_MARGIN_MS).toISOString();
  const to = new Date(nowMs + EVENT_MARGIN_MS).toISOString();
  const { rows: events } = await pool.query<{ id: number; starts_at: Date | null; ends_at: Date | null; alert_stop_s: number | null; alert_silence_s: number | null; alert_corridor_m: number | null }>({
    name: 'safety-events',
    text: `SELECT id, starts_at, ends_at, alert_stop_s, alert_silence_s, alert_corridor_m FROM events
           WHERE (ends_at IS NULL OR ends_at > $1) AND (starts_at IS NULL OR starts_at < $2)`,
    values: [from, to],
  });
  const ids = events.map((e) => e.id);
  const [stages, segments, zones, entries, starts, finishes, openAlerts] = await Promise.all([
    pool.query<{ id: number; event: number; kind: string | null; status: string | null; planned_start: Date | null; closes_at: Date | null }>({ name: 'safety-stages', text: 'SELECT id, event, kind, status, planned_start, closes_at FROM stages WHERE event = ANY($1)', values: [ids] }),
    pool.query<{ stage: number; route: string | null }>({
      name: 'safety-segments',
      text: `SELECT s.stage, ST_AsGeoJSON(s.route) AS route FROM segments s JOIN stages st ON st.id = s.stage
             WHERE st.event = ANY($1) AND s.route IS NOT NULL ORDER BY s.stage, s.sequence NULLS LAST, s.id`,
      values: [ids],
    }),
    // the same geofences the recompute reads as polygon neutralisations (functions/src/recompute/course.ts)
    pool.query<{ stage: number; geometry: string | null }>({
      name: 'safety-neutral-zones',
      text: `SELECT g.stage, ST_AsGeoJSON(g.geometry) AS geometry FROM geofences g JOIN stages st ON st.id = g.stage
             WHERE st.event = ANY($1) AND g.kind = 'neutralisation_zone' AND g.geometry IS NOT NULL ORDER BY g.stage, g.id`,
      values: [ids],
    }),
    pool.query<{ id: number; event: number; number: number | null; device: string }>({ name: 'safety-entries', text: 'SELECT id, event, number, device FROM entries WHERE event = ANY($1) AND device IS NOT NULL', values: [ids] }),
    pool.query<{ stage: number; entry: number; start_at: Date }>({
      name: 'safety-starts',
      text: 'SELECT so.stage, so.entry, so.start_at FROM start_orders so JOIN stages st ON st.id = so.stage WHERE st.event = ANY($1) AND so.start_at IS NOT NULL AND so.entry IS NOT NULL',
      values: [ids],
    }),
    pool.query<{ stage: number; entry: number; finish_at: Date }>({
      name: 'safety-finishes',
      text: 'SELECT t.stage, t.entry, t.finish_at FROM stage_times t JOIN stages st ON st.id = t.stage WHERE st.event = ANY($1) AND t.finish_at IS NOT NULL AND t.entry IS NOT NULL',
      values: [ids],
    }),
    pool.query<OpenAlert>({ name: 'safety-open-alerts', text: "SELECT id, key, kind, entry, device, status, evidence FROM alerts WHERE event = ANY($1) AND status <> 'closed'", values: [ids] }),
  ]);
  const devices = [...new Set(entries.rows.map((e) => e.device))];
  const { rows: flags } = await pool.query<{ id: number; device: string; from: Date; to: Date; faulty: boolean }>({
    name: 'safety-flags',
    text: 'SELECT id, device, "from", coalesce("to", "from") AS "to", faulty FROM position_flags WHERE device = ANY($1)',
    values: [devices],
  });

  const routes = new Map<number, string[]>();
  for (const s of segments.rows) routes.set(s.stage, [...(routes.get(s.stage) ?? []), s.route ?? '']);
  const neutralZones = new Map<number, number[][][][]>();
  for (const z of zones.rows) neutralZones.set(z.stage, [...(neutralZones.get(z.stage) ?? []), ...polygons(z.geometry)]);
  const byEntry = new Map<number, EntryDef>();
  const input: CourseInput = {
    events: events.map((e) => ({ id: e.id, startsAtMs: ms(e.starts_at), endsAtMs: ms(e.ends_at), thresholds: { stopS: e.alert_stop_s ?? 180, silenceS: e.alert_silence_s ?? 120, corridorM: e.alert_corridor_m ?? 500 } })),
    stages: stages.rows.map((s) => {
      const texts = routes.get(s.id) ?? [];
      return {
        id: s.id,
        event: s.event,
        kind: (s.kind ?? 'special') as StageKind,
        status: s.status ?? 'planned',
        plannedStartMs: ms(s.planned_start),
        closesAtMs: ms(s.closes_at),
        routes: texts.flatMap(lines),
        routeVersion: createHash('sha1').update(texts.join('\n')).digest('hex'),
        neutralZones: neutralZones.get(s.id) ?? [],
      };
    }),
    entries: entries.rows.map((e) => {
      const def: EntryDef = { id: e.id, event: e.event, number: e.number, imei: e.device, startAtMs: new Map(), finishAtMs: new Map() };
      byEntry.set(e.id, def);
      return def;
    }),
  };
  for (const s of starts.rows) byEntry.get(s.entry)?.startAtMs.set(s.stage, s.start_at.getTime());
  for (const f of finishes.rows) byEntry.get(f.entry)?.finishAtMs.set(f.stage, f.finish_at.getTime());
  return {
    course: new Course(input, previous),
    flags: new FlagIndex(flags.map((f) => ({ id: f.id, device: f.device, fromMs: f.from.getTime(), toMs: f.to.getTime(), faulty: f.faulty }))),
    openAlerts: openAlerts.rows,
    devices,
  };
}

/** The alert with this dedup key that is not closed, if any (the database decides dedup). */
export async function findOpenAlert(pool: pg.Pool, key: string): Promise<{ id: number; status: AlertStatus } | undefined> {
  const { rows } = await pool.query<{ id: number; status: AlertStatus }>({ name: 'safety-find-open', text: "SELECT id, status FROM alerts WHERE key = $1 AND status <> 'closed' ORDER BY id LIMIT 1", values: [key] });
  return rows[0];
}

/** The last non-faulty record of each device within the last hour (receive time when known). */
export async function loadLastHeard(pool: pg.Pool, devices: readonly string[], nowMs: number): Promise<Fix[]> {
  if (!devices.length) return [];
  const { rows } = await pool.query<{ imei: string; ts: Date; rx: Date | null; lat: number; lon: number; speed: number; heading: number; sats: number; priority: number; event_io: number; fix: boolean }>({
    name: 'safety-last-heard',
    text: `SELECT DISTINCT ON (imei) imei, ts, rx, lat, lon, speed, heading, sats, priority, event_io, fix
           FROM positions WHERE imei = ANY($1) AND ts > $2 AND NOT faulty ORDER BY imei, ts DESC`,
    values: [devices, new Date(nowMs - LAST_HEARD_WINDOW_MS).toISOString()],
  });
  return rows.map((r) => ({
    imei: r.imei,
    tsMs: r.ts.getTime(),
    rxMs: (r.rx ?? r.ts).getTime(),
    lat: r.lat,
    lon: r.lon,
    speedKmh: r.speed,
    heading: r.heading,
    sats: r.sats,
    priority: r.priority,
    eventIo: r.event_io,
    io: {},
    valid: r.fix,
    faulty: false,
  }));
}
