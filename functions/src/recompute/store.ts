/**
 * What the recompute reads from Directus: the scope (event, stages, entries), a stage's course
 * and start order, and the stored result rows of a stage; all with the service token.
 */
import type { RecomputeRequest } from '../../../common/src/triggers.ts';
import type { CourseRows, GeofenceRow, SpeedZoneRow, StageRow, WaypointRow } from './course.ts';
import { SPEED_INFRINGEMENT_FIELDS, STAGE_TIME_FIELDS, WAYPOINT_PASS_FIELDS, type StoredRow } from './diff.ts';
import type { DirectusApi } from '../directus-io/directus-api.ts';
import { notFound } from './errors.ts';

export interface EventRow {
  id: number;
  organization: string;
  starts_at: string | null;
  ends_at: string | null;
}

export interface EntryRow {
  id: number;
  event: number;
  number: number;
  device: string | null;
  status: string | null;
}

/** One event of the scope: its stages and entries, and the entries to recompute. */
export interface ScopeEvent {
  event: EventRow;
  stages: StageRow[];
  /** every entry of the event (the stage span depends on their number, not on the scope) */
  entries: EntryRow[];
  /** the entries to recompute (all, or those of the entry / device) */
  targets: EntryRow[];
}

const EVENT_FIELDS = ['id', 'organization', 'starts_at', 'ends_at'];
const STAGE_FIELDS = ['id', 'event', 'code', 'sequence', 'planned_start', 'start_interval_s', 'max_time_s', 'closes_at', 'status'];
const ENTRY_FIELDS = ['id', 'event', 'number', 'device', 'status'];
const GEOFENCE_FIELDS = ['id', 'stage', 'code', 'kind', 'sequence', 'geometry', 'radius_m', 'due_offset_s', 'nominal_s', 'params'];
const WAYPOINT_FIELDS = ['id', 'stage', 'code', 'type', 'sequence', 'point', 'radius_m', 'open_radius_m'];
const ZONE_FIELDS = ['id', 'stage', 'code', 'geometry', 'start_line', 'end_line', 'limit_kmh', 'tolerance_kmh', 'nominal_distance_m'];

export const RESULT_COLLECTIONS = {
  stage_times: STAGE_TIME_FIELDS,
  waypoint_passes: WAYPOINT_PASS_FIELDS,
  speed_infringements: SPEED_INFRINGEMENT_FIELDS,
} as const;
export type ResultCollection = keyof typeof RESULT_COLLECTIONS;

const byId = (a: { id: number }, b: { id: number }) => a.id - b.id;
const num = (id: string) => (/^\d+$/.test(id) ? Number(id) : NaN);

async function eventScope(api: DirectusApi, eventId: number, targets: (entries: EntryRow[]) => EntryRow[]): Promise<ScopeEvent> {
  const event = await api.get<EventRow>('events', eventId, EVENT_FIELDS);
  if (!event) throw notFound(`event ${eventId} not found`, { event: eventId });
  const [stages, entries] = await Promise.all([
    api.list<StageRow>('stages', { event: { _eq: eventId } }, STAGE_FIELDS, ['sequence', 'id']),
    api.list<EntryRow>('entries', { event: { _eq: eventId } }, ENTRY_FIELDS, ['id']),
  ]);
  entries.sort(byId);
  return { event, stages, entries, targets: targets(entries) };
}

/** The events, stages and entries a request covers (before the window selects stages). */
export async function loadScope(api: DirectusApi, request: RecomputeRequest): Promise<ScopeEvent[]> {
  const id = num(request.id);
  switch (request.scope) {
    case 'event':
      if (Number.isNaN(id)) throw notFound(`event "${request.id}" not found`);
      return [await eventScope(api, id, (all) => all)];
    case 'stage': {
      const stage = Number.isNaN(id) ? undefined : await api.get<StageRow>('stages', id, STAGE_FIELDS);
      if (!stage) throw notFound(`stage ${request.id} not found`, { stage: request.id });
      const scope = await eventScope(api, stage.event, (all) => all);
      return [{ ...scope, stages: scope.stages.filter((s) => s.id === stage.id) }];
    }
    case 'entry': {
      const entry = Number.isNaN(id) ? undefined : await api.get<EntryRow>('entries', id, ENTRY_FIELDS);
      if (!entry) throw notFound(`entry ${request.id} not found`, { entry: request.id });
      return [await eventScope(api, entry.event, (all) => all.filter((e) => e.id === entry.id))];
    }
    case 'device': {
      const entries = await api.list<EntryRow>('entries', { device: { _eq: request.id } }, ENTRY_FIELDS, ['id']);
      const events = [...new Set(entries.map((e) => e.event))].sort((a, b) => a - b);
      const out: ScopeEvent[] = [];
      for (const eventId of events) out.push(await eventScope(api, eventId, (all) => all.filter((e) => e.device === request.id)));
      return out;
    }
  }
}

export async function loadCourseRows(api: DirectusApi, stageId: number): Promise<CourseRows> {
  const filter = { stage: { _eq: stageId } };
  const [geofences, waypoints, speedZones] = await Promise.all([
    api.list<GeofenceRow>('geofences', filter, GEOFENCE_FIELDS),
    api.list<WaypointRow>('waypoints', filter, WAYPOINT_FIELDS),
    api.list<SpeedZoneRow>('speed_limit_zones', filter, ZONE_FIELDS),
  ]);
  return { geofences, waypoints, speedZones };
}

/** Scheduled start per entry, from start_orders.start_at. */
export async function loadStartTimes(api: DirectusApi, stageId: number): Promise<Map<number, number>> {
  const rows = await api.list<{ entry: number; start_at: string | null }>('start_orders', { stage: { _eq: stageId } }, ['entry', 'start_at']);
  const out = new Map<number, number>();
  for (const r of rows) if (r.start_at) out.set(r.entry, Date.parse(r.start_at));
  return out;
}

/** The stored rows of one collection for a stage, limited to the entries recomputed. */
export async function loadStored(api: DirectusApi, collection: ResultCollection, stageId: number, entryIds: readonly number[]): Promise<StoredRow[]> {
  if (entryIds.length === 0) return [];
  const fields = ['id', 'key', ...Object.keys(RESULT_COLLECTIONS[collection])];
  const out: StoredRow[] = [];
  for (let i = 0; i < entryIds.length; i += 400) {
    out.push(...(await api.list<StoredRow>(collection, { _and: [{ stage: { _eq: stageId } }, { entry: { _in: entryIds.slice(i, i + 400) } }] }, fields)));
  }
  return out;
}
