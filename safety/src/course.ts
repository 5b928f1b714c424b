/**
 * What the detector knows of the rallies being run: events (window, thresholds), their stages
 * (kind, status, planned start, closing time, route corridor, neutralisation zones), entries
 * (device, start time and finish per stage). Pure: built from rows the adapter loads (loader.ts) and replaced on every
 * refresh; corridors are reused across refreshes while a stage's route is unchanged.
 *
 * Rules (docs/safety.md, "Context"):
 *  - an event is live at t when starts_at ≤ t ≤ ends_at (a missing bound is open);
 *  - a stage runs at t when its status is not finished/confirmed, and planned_start ≤ t ≤
 *    closes_at (a missing closes_at is open; a missing planned_start only for status running);
 *  - an entry is in a stage at t when the stage runs, the entry's start time for it (start
 *    order) is not after t, and its finish (stage_times.finish_at) is not before t.
 */
import { bboxCentre, localProjection, pointInPolygon, type LocalProjection, type LonLat, type PlanarPolygon } from '../../functions/src/core/geo/index.ts';
import { Corridor } from './corridor.ts';
import { DEFAULT_THRESHOLDS, type Thresholds } from './kinds.ts';

export type StageKind = 'special' | 'liaison' | 'prologue';

export interface EventDef {
  id: number;
  startsAtMs: number | null;
  endsAtMs: number | null;
  thresholds: Thresholds;
}

export interface StageDef {
  id: number;
  event: number;
  kind: StageKind;
  status: string;
  plannedStartMs: number | null;
  closesAtMs: number | null;
  /** the stage's segments' routes in sequence order, [lon, lat] */
  routes: (readonly (readonly number[])[])[];
  /** a text that changes when the routes change (reuse of the corridor) */
  routeVersion: string;
  /**
   * the stage's neutralisation-zone geofences (kind neutralisation_zone): each a GeoJSON
   * Polygon's rings (outer, then holes), [lon, lat]; a stop inside one is not an incident
   */
  neutralZones: (readonly (readonly LonLat[])[])[];
}

export interface EntryDef {
  id: number;
  event: number;
  number: number | null;
  imei: string;
  /** stage id → start time (start_orders.start_at), ms */
  startAtMs: Map<number, number>;
  /** stage id → finish time (stage_times.finish_at), ms */
  finishAtMs: Map<number, number>;
}

export interface CourseInput {
  events: EventDef[];
  stages: StageDef[];
  entries: EntryDef[];
}

export interface StageContext {
  stage: StageDef;
  corridor: Corridor;
  neutralZones: NeutralZones;
}

interface PlanarZone {
  projection: LocalProjection;
  polygon: PlanarPolygon;
  /** bounding box of the outer ring, degrees: most fixes are rejected on it */
  minLon: number;
  maxLon: number;
  minLat: number;
  maxLat: number;
}

/**
 * A stage's neutralisation zones in local planar frames (one projection per zone, centred on
 * it: a zone is a few hundred metres across). Rings with fewer than 3 points are left out.
 */
export class NeutralZones {
  private readonly zones: PlanarZone[] = [];

  constructor(polygons: readonly (readonly (readonly LonLat[])[])[]) {
    for (const rings of polygons) {
      const outer = rings[0];
      if (!outer || outer.length < 3) continue;
      const projection = localProjection(bboxCentre(outer));
      this.zones.push({
        projection,
        polygon: rings.filter((r) => r.length >= 3).map((r) => r.map((p) => projection.toXy(p[0], p[1]))),
        minLon: Math.min(...outer.map((p) => p[0])),
        maxLon: Math.max(...outer.map((p) => p[0])),
        minLat: Math.min(...outer.map((p) => p[1])),
        maxLat: Math.max(...outer.map((p) => p[1])),
      });
    }
  }

  get size(): number {
    return this.zones.length;
  }

  /** Whether (lon, lat) lies inside one of the zones (holes excluded). */
  contains(lon: number, lat: number): boolean {
    for (const z of this.zones) {
      if (lon < z.minLon || lon > z.maxLon || lat < z.minLat || lat > z.maxLat) continue;
      if (pointInPolygon(z.projection.toXy(lon, lat), z.polygon)) return true;
    }
    return false;
  }
}

const CLOSED_STAGE_STATUSES = new Set(['finished', 'confirmed']);

export class Course {
  private readonly events = new Map<number, EventDef>();
  private readonly stagesByEvent = new Map<number, StageDef[]>();
  private readonly corridors = new Map<number, { version: string; corridor: Corridor }>();
  private readonly neutralZones = new Map<number, NeutralZones>();
  private readonly entriesByImei = new Map<string, EntryDef[]>();
  private readonly entriesById = new Map<number, EntryDef>();

  constructor(input: CourseInput, previous?: Course) {
    for (const e of input.events) this.events.set(e.id, e);
    for (const s of input.stages) {
      const list = this.stagesByEvent.get(s.event) ?? [];
      list.push(s);
      this.stagesByEvent.set(s.event, list);
      const old = previous?.corridors.get(s.id);
      this.corridors.set(s.id, old && old.version === s.routeVersion ? old : { version: s.routeVersion, corridor: new Corridor(s.routes) });
      this.neutralZones.set(s.id, new NeutralZones(s.neutralZones));
    }
    for (const list of this.stagesByEvent.values()) list.sort((a, b) => (b.plannedStartMs ?? 0) - (a.plannedStartMs ?? 0));
    for (const en of input.entries) {
      if (!this.events.has(en.event)) continue;
      const list = this.entriesByImei.get(en.imei) ?? [];
      list.push(en);
      this.entriesByImei.set(en.imei, list);
      this.entriesById.set(en.id, en);
    }
  }

  static empty(): Course {
    return new Course({ events: [], stages: [], entries: [] });
  }

  get entryCount(): number {
    return this.entriesById.size;
  }

  entry(id: number): EntryDef | undefined {
    return this.entriesById.get(id);
  }

  allEntries(): IterableIterator<EntryDef> {
    return this.entriesById.values();
  }

  /** Entries of live events the device is assigned to at t (several events may share it). */
  entriesOf(imei: string, tMs: number): EntryDef[] {
    const list = this.entriesByImei.get(imei);
    if (!list) return [];
    return list.filter((en) => this.eventLive(en.event, tMs));
  }

  thresholds(event: number): Thresholds {
    return this.events.get(event)?.thresholds ?? DEFAULT_THRESHOLDS;
  }

  eventLive(event: number, tMs: number): boolean {
    const e = this.events.get(event);
    if (!e) return false;
    return (e.startsAtMs === null || e.startsAtMs <= tMs) && (e.endsAtMs === null || tMs <= e.endsAtMs);
  }

  /** The stage the entry is riding at t (the latest-starting one when windows overlap), or null. */
  stageAt(entry: EntryDef, tMs: number): StageContext | null {
    for (const stage of this.stagesByEvent.get(entry.event) ?? []) {
      if (!stageRuns(stage, tMs)) continue;
      const startAt = entry.startAtMs.get(stage.id);
      if (startAt !== undefined && startAt > tMs) continue;
      const finishAt = entry.finishAtMs.get(stage.id);
      if (finishAt !== undefined && finishAt <= tMs) continue;
      return { stage, corridor: this.corridors.get(stage.id)!.corridor, neutralZones: this.neutralZones.get(stage.id)! };
    }
    return null;
  }
}

export function stageRuns(stage: Pick<StageDef, 'status' | 'plannedStartMs' | 'closesAtMs'>, tMs: number): boolean {
  if (CLOSED_STAGE_STATUSES.has(stage.status)) return false;
  if (stage.plannedStartMs === null) {
    if (stage.status !== 'running') return false;
  } else if (tMs < stage.plannedStartMs) return false;
  return stage.closesAtMs === null || tMs <= stage.closesAtMs;
}
