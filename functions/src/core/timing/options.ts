/** Defaults of the timing options, resolved once per call. */
import type { TimingOptions, WaypointMethod } from './types.ts';

export const DEFAULT_MAX_INTERPOLATION_GAP_MS = 30_000;
/** above every class speed cap (170 km/h, rally-domain.md §2.2), below any GPS jump worth the name */
export const DEFAULT_MAX_IMPLIED_SPEED_KMH = 250;
export const DEFAULT_MAX_EVIDENCE_FIXES = 20;

export interface ResolvedOptions {
  maxInterpolationGapMs: number;
  maxImpliedSpeedKmh: number;
  stageClosed: boolean;
  nowMs: number | null;
  closesAtMs: number | null;
  maxTimeMs: number | null;
  scheduledStartMs: number | null;
  waypointMethod: WaypointMethod;
  maxEvidenceFixes: number;
}

export function resolveOptions(o: TimingOptions = {}): ResolvedOptions {
  return {
    maxInterpolationGapMs: o.maxInterpolationGapMs ?? DEFAULT_MAX_INTERPOLATION_GAP_MS,
    maxImpliedSpeedKmh: o.maxImpliedSpeedKmh ?? DEFAULT_MAX_IMPLIED_SPEED_KMH,
    stageClosed: o.stageClosed ?? false,
    nowMs: o.nowMs ?? null,
    closesAtMs: o.closesAtMs ?? null,
    maxTimeMs: o.maxTimeMs ?? null,
    scheduledStartMs: o.scheduledStartMs ?? null,
    waypointMethod: o.waypointMethod ?? 'segment',
    maxEvidenceFixes: Math.max(4, Math.floor(o.maxEvidenceFixes ?? DEFAULT_MAX_EVIDENCE_FIXES)),
  };
}

/** Round to 0.01 (km/h, metres) without producing −0. */
export function round2(x: number): number {
  return Math.round(x * 100) / 100 + 0;
}

/** Round an instant or duration to the millisecond without producing −0. */
export function roundMs(x: number): number {
  return Math.round(x) + 0;
}
