/**
 * The time span of a stage: the fixes the recompute reads for it, and what a request window
 * [from, to] selects (docs/recompute.md, "Scope and window"). Pure.
 *
 *   from = planned_start − preStartMs                      (else the event start, else unbounded)
 *   to   = closes_at                                        when set, else
 *          planned_start + entries × start_interval_s + max_time_s (default maxTimeFallbackMs)
 *                                                          (else the event end, else unbounded)
 *
 * Unbounded ends are ±Infinity here and `-infinity` / `infinity` in SQL.
 */
import type { StageRow } from './course.ts';

export interface SpanOptions {
  /** fixes read before the planned start, ms (default 30 min) */
  preStartMs?: number;
  /** when a stage has no max_time_s, ms (default 12 h) */
  maxTimeFallbackMs?: number;
}

export interface EventBounds {
  starts_at: string | null;
  ends_at: string | null;
}

export interface Span {
  fromMs: number;
  toMs: number;
}

const ms = (iso: string | null | undefined): number | undefined => {
  if (!iso) return undefined;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t;
};

export function stageSpan(stage: StageRow, event: EventBounds, entryCount: number, o: SpanOptions = {}): Span {
  const preStartMs = o.preStartMs ?? 30 * 60_000;
  const planned = ms(stage.planned_start);
  const fromMs = planned !== undefined ? planned - preStartMs : (ms(event.starts_at) ?? -Infinity);
  const closes = ms(stage.closes_at);
  let toMs: number;
  if (closes !== undefined) toMs = closes;
  else if (planned !== undefined) toMs = planned + Math.max(0, entryCount) * (stage.start_interval_s ?? 60) * 1000 + (stage.max_time_s != null ? stage.max_time_s * 1000 : (o.maxTimeFallbackMs ?? 12 * 3600_000));
  else toMs = ms(event.ends_at) ?? Infinity;
  return { fromMs, toMs: Math.max(fromMs, toMs) };
}

/** Does the request window (absent ends unbounded) overlap the span? Touching counts. */
export function overlaps(span: Span, fromIso: string | undefined, toIso: string | undefined): boolean {
  const from = ms(fromIso) ?? -Infinity;
  const to = ms(toIso) ?? Infinity;
  return span.fromMs <= to && from <= span.toMs;
}

export function sqlInstant(t: number): string {
  return t === -Infinity ? '-infinity' : t === Infinity ? 'infinity' : new Date(t).toISOString();
}
