/**
 * What evaluate-penalties reads from Directus (service token): the scope, the event's rules,
 * stages, entries, facts of the evaluated entries, every stage_times row of the event (positions
 * depend on everyone), stored penalties and standings.
 */
import type { PenaltyEvaluationRequest } from '../../../common/src/triggers.ts';
import type { DirectusApi } from '../directus-io/directus-api.ts';
import { notFound } from './errors.ts';
import type { EntryRow, InfringementRow, PenaltyRow, RuleRow, StageRow, StageTimeRow, WaypointPassRow, WaypointRow, ZoneRow } from './facts.ts';

const STAGE_FIELDS = ['id', 'event', 'code', 'kind', 'sequence', 'max_time_s', 'status'];
const ENTRY_FIELDS = ['id', 'event', 'number', 'category', 'status'];
const RULE_FIELDS = ['id', 'event', 'stage', 'category', 'name', 'evaluator', 'params', 'active'];
const INFRINGEMENT_FIELDS = ['id', 'key', 'stage', 'entry', 'zone', 'entered_at', 'exited_at', 'limit_kmh', 'max_speed_kmh', 'avg_speed_kmh', 'nominal_avg_speed_kmh', 'over_ms', 'over_distance_m', 'evidence'];
const PASS_FIELDS = ['id', 'key', 'stage', 'entry', 'waypoint', 'validated'];
const STAGE_TIME_FIELDS = ['id', 'key', 'stage', 'entry', 'status', 'raw_ms', 'net_ms', 'penalty_ms', 'total_ms', 'excluded', 'position', 'category_position', 'time_controls'];
export const PENALTY_ROW_FIELDS = ['id', 'key', 'event', 'stage', 'entry', 'rule', 'source_kind', 'source_id', 'amount_ms', 'exclusion', 'explanation', 'override', 'override_amount_ms', 'override_reason', 'effective_ms'];
export const STANDING_ROW_FIELDS = ['id', 'key', 'event', 'stage', 'entry', 'category', 'scope', 'position', 'total_ms', 'gap_ms', 'penalty_ms', 'status'];

const numeric = (id: string) => (/^\d+$/.test(id) ? Number(id) : NaN);

export interface Scope {
  eventId: number;
  /** null = every entry of the event */
  entryId: number | null;
}

/** event → itself; stage → its event, every entry (escalation crosses stages); entry → its event, that entry. */
export async function resolveScope(api: DirectusApi, request: PenaltyEvaluationRequest): Promise<Scope> {
  const id = numeric(request.id);
  switch (request.scope) {
    case 'event': {
      const event = Number.isNaN(id) ? undefined : await api.get<{ id: number }>('events', id, ['id']);
      if (!event) throw notFound(`event ${request.id} not found`, { event: request.id });
      return { eventId: event.id, entryId: null };
    }
    case 'stage': {
      const stage = Number.isNaN(id) ? undefined : await api.get<{ id: number; event: number }>('stages', id, ['id', 'event']);
      if (!stage) throw notFound(`stage ${request.id} not found`, { stage: request.id });
      return { eventId: stage.event, entryId: null };
    }
    case 'entry': {
      const entry = Number.isNaN(id) ? undefined : await api.get<{ id: number; event: number }>('entries', id, ['id', 'event']);
      if (!entry) throw notFound(`entry ${request.id} not found`, { entry: request.id });
      return { eventId: entry.event, entryId: entry.id };
    }
  }
}

export interface EventRows {
  stages: StageRow[];
  entries: EntryRow[];
  rules: RuleRow[];
  stageTimes: StageTimeRow[];
}

export async function loadEvent(api: DirectusApi, eventId: number): Promise<EventRows> {
  const [stages, entries, rules, stageTimes] = await Promise.all([
    api.list<StageRow>('stages', { event: { _eq: eventId } }, STAGE_FIELDS, ['sequence', 'id']),
    api.list<EntryRow>('entries', { event: { _eq: eventId } }, ENTRY_FIELDS, ['id']),
    api.list<RuleRow>('penalty_rules', { event: { _eq: eventId } }, RULE_FIELDS, ['id']),
    api.list<StageTimeRow>('stage_times', { stage: { event: { _eq: eventId } } }, STAGE_TIME_FIELDS, ['id']),
  ]);
  return { stages, entries, rules, stageTimes };
}

export interface TargetRows {
  infringements: InfringementRow[];
  zones: ZoneRow[];
  waypointPasses: WaypointPassRow[];
  waypoints: WaypointRow[];
  /** every stored penalty of the evaluated entries */
  penalties: PenaltyRow[];
  /** event-level penalties (no stage) of the other entries, for the standings */
  otherEventPenalties: PenaltyRow[];
}

export async function loadTargets(api: DirectusApi, scope: Scope): Promise<TargetRows> {
  const ofTargets = scope.entryId === null ? { entry: { event: { _eq: scope.eventId } } } : { entry: { _eq: scope.entryId } };
  const ofEvent = { stage: { event: { _eq: scope.eventId } } };
  const [infringements, zones, waypointPasses, waypoints, penalties, otherEventPenalties] = await Promise.all([
    api.list<InfringementRow>('speed_infringements', ofTargets, INFRINGEMENT_FIELDS, ['id']),
    api.list<ZoneRow>('speed_limit_zones', ofEvent, ['id', 'code']),
    api.list<WaypointPassRow>('waypoint_passes', ofTargets, PASS_FIELDS, ['id']),
    api.list<WaypointRow>('waypoints', ofEvent, ['id', 'code', 'type', 'sequence']),
    api.list<PenaltyRow>('penalties', ofTargets, PENALTY_ROW_FIELDS, ['id']),
    scope.entryId === null
      ? Promise.resolve([])
      : api.list<PenaltyRow>('penalties', { _and: [{ entry: { event: { _eq: scope.eventId } } }, { entry: { _neq: scope.entryId } }, { stage: { _null: true } }] }, PENALTY_ROW_FIELDS, ['id']),
  ]);
  return { infringements, zones, waypointPasses, waypoints, penalties, otherEventPenalties };
}
