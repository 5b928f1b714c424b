/**
 * An event for the results tests (penalties, standings, start orders) built through Directus
 * REST: categories, stages and entries by code and race number, and result rows written as
 * the recompute would write them (stage_times, speed_infringements), without any fixes.
 */
import { randomBytes } from 'node:crypto';
import type { Rest } from '../directus/src/rest.ts';
import { presetPenaltyRules, type Preset } from '../functions/src/presets/index.ts';

export interface StageSpec {
  code: string;
  kind?: 'special' | 'prologue' | 'liaison';
  sequence: number;
  plannedStartMs?: number;
  startIntervalS?: number;
  maxTimeS?: number;
  status?: 'planned' | 'running' | 'finished' | 'confirmed';
  strategy?: string;
  params?: Record<string, unknown>;
}

export interface ResultsEvent {
  event: number;
  /** category id by code */
  categories: Record<string, number>;
  /** stage id by code */
  stages: Record<string, number>;
  /** entry id by race number */
  entries: Record<number, number>;
}

export async function createResultsEvent(api: Rest, o: { organization: string; categories: string[]; stages: StageSpec[]; entries: { number: number; category: string; status?: string }[] }): Promise<ResultsEvent> {
  const event = (await api.request<{ id: number }>('POST', '/items/events', { organization: o.organization, name: `Results ${randomBytes(3).toString('hex')}`, starts_at: '2025-06-07T00:00:00Z', ends_at: '2025-06-14T00:00:00Z' })).id;
  const categories: Record<string, number> = {};
  for (const [i, code] of o.categories.entries()) categories[code] = (await api.request<{ id: number }>('POST', '/items/categories', { event, code, name: code, sort: i })).id;
  const stages: Record<string, number> = {};
  for (const s of o.stages) {
    stages[s.code] = (
      await api.request<{ id: number }>('POST', '/items/stages', {
        event,
        code: s.code,
        kind: s.kind ?? 'special',
        sequence: s.sequence,
        planned_start: s.plannedStartMs === undefined ? null : new Date(s.plannedStartMs).toISOString(),
        start_interval_s: s.startIntervalS ?? 60,
        max_time_s: s.maxTimeS ?? null,
        status: s.status ?? 'planned',
        start_order_strategy: s.strategy ?? 'manual',
        start_order_params: s.params ?? null,
      })
    ).id;
  }
  const rows = await api.request<{ id: number; number: number }[]>('POST', '/items/entries?fields=id,number', o.entries.map((e) => ({ event, number: e.number, category: categories[e.category], crew: `Crew ${e.number}`, status: e.status ?? 'started' })));
  const entries: Record<number, number> = {};
  for (const r of rows) entries[r.number] = r.id;
  return { event, categories, stages, entries };
}

/** The preset's penalty rules as `penalty_rules` rows of the event. */
export async function createPresetRules(api: Rest, ev: ResultsEvent, preset: Preset): Promise<Record<string, number>> {
  const rules = presetPenaltyRules(preset, { stage: (code) => String(ev.stages[code]), category: (code) => String(ev.categories[code]) });
  const rows = await api.request<{ id: number; name: string }[]>(
    'POST',
    '/items/penalty_rules?fields=id,name',
    rules.map((r) => ({ event: ev.event, stage: r.stageId === null ? null : Number(r.stageId), category: r.categoryId === null ? null : Number(r.categoryId), name: r.id, evaluator: r.evaluator, params: r.params, active: r.enabled !== false, source: preset.id })),
  );
  return Object.fromEntries(rows.map((r) => [r.name, r.id]));
}

export interface StageTimeSpec {
  stage: number;
  entry: number;
  status: 'finished' | 'dnf' | 'dns' | 'running';
  netMs?: number;
  startMs?: number;
}

/** stage_times rows as the recompute writes them (its owned fields only). */
export async function createStageTimes(api: Rest, rows: StageTimeSpec[]): Promise<void> {
  await api.request(
    'POST',
    '/items/stage_times',
    rows.map((r) => ({
      key: `${r.stage}:${r.entry}`,
      stage: r.stage,
      entry: r.entry,
      status: r.status,
      start_at: r.startMs === undefined ? null : new Date(r.startMs).toISOString(),
      finish_at: r.startMs === undefined || r.netMs === undefined ? null : new Date(r.startMs + r.netMs).toISOString(),
      raw_ms: r.netMs ?? null,
      neutralised_ms: r.netMs === undefined ? null : 0,
      net_ms: r.netMs ?? null,
      splits: [],
    })),
  );
}

/** A speed infringement row as the recompute writes it; returns its natural key. */
export async function createInfringement(api: Rest, o: { stage: number; entry: number; zone: number; limitKmh: number; maxSpeedKmh: number; atMs: number }): Promise<{ id: number; key: string }> {
  const key = `${o.stage}:${o.entry}:${o.zone}:0`;
  const row = await api.request<{ id: number }>('POST', '/items/speed_infringements', {
    key,
    stage: o.stage,
    entry: o.entry,
    zone: o.zone,
    entered_at: new Date(o.atMs).toISOString(),
    exited_at: new Date(o.atMs + 60_000).toISOString(),
    limit_kmh: o.limitKmh,
    max_speed_kmh: o.maxSpeedKmh,
    avg_speed_kmh: o.maxSpeedKmh - 5,
    nominal_avg_speed_kmh: null,
    over_ms: 40_000,
    over_distance_m: 700,
    evidence: { seq: 0, fixes: [] },
  });
  return { id: row.id, key };
}

export async function list<T = Record<string, unknown>>(api: Rest, collection: string, filter: Record<string, unknown>, sort = 'id'): Promise<T[]> {
  return api.request<T[]>('GET', `/items/${collection}?limit=-1&sort=${sort}&filter=${encodeURIComponent(JSON.stringify(filter))}`);
}
