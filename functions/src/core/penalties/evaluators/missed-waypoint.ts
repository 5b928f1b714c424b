/**
 * `missed_waypoint`: a fixed amount per missed waypoint, by waypoint type (rally-domain.md §2.3:
 * RoadbookRally defaults WPM/WPS/WPV/WPC 15 min, WPE 10 min, WPP 2 min, WPN 60 min; Dakar 2023
 * "at least 15 minutes … 60 minutes for navigation waypoints"). Missed waypoints are counted
 * per fact: a crew that gets lost and rejoins pays only for the ones it missed.
 *
 * WPE reopening (optional, §2.1): a WPE only shows its heading once the previous waypoint is
 * validated; when the previous waypoint was itself missed the WPE reopens within a radius
 * (1,000 m), so timing validates it on that radius. If the event does not want a second penalty
 * for a WPE missed right after a missed waypoint, `wpeAfterMissedAmountMs` sets its amount
 * (0 = no second penalty).
 */
import type { Evaluator, ValidationResult } from '../evaluator.ts';
import { compareStrings } from '../evaluator.ts';
import { formatDurationMs, stagePrefix } from '../format.ts';
import type { Problems } from '../params.ts';
import { optionalNumber, readObject, rejectUnknownKeys, requiredNumber } from '../params.ts';
import type { Assessment, FactContext, WaypointPass, WaypointType } from '../types.ts';

export const WAYPOINT_TYPES: readonly WaypointType[] = ['WPV', 'WPM', 'WPS', 'WPE', 'WPC', 'WPN', 'WPP'];
/** types every rule must price; WPN/WPP fall back to `defaultAmountMs` */
const REQUIRED_TYPES: readonly WaypointType[] = ['WPV', 'WPM', 'WPS', 'WPE', 'WPC'];

export interface MissedWaypointParams {
  amountMsByType: Partial<Record<WaypointType, number>>;
  /** for a type not in amountMsByType; null = such a miss is an error in the rule (no penalty, says so) */
  defaultAmountMs: number | null;
  wpeAfterMissedAmountMs: number | null;
  /** the n-th missed waypoint of the stage excludes (e.g. "more than N missed = out"); null = never */
  excludeAtMissedInStage: number | null;
}

export function validateMissedWaypointParams(raw: unknown): ValidationResult<MissedWaypointParams> {
  const problems: Problems = [];
  const obj = readObject(raw, '', problems) ?? {};
  rejectUnknownKeys(obj, '', ['amountMsByType', 'defaultAmountMs', 'wpeAfterMissedAmountMs', 'excludeAtMissedInStage'], problems);
  const byType = readObject(obj.amountMsByType, 'amountMsByType', problems) ?? {};
  rejectUnknownKeys(byType, 'amountMsByType', WAYPOINT_TYPES, problems);
  const amountMsByType: Partial<Record<WaypointType, number>> = {};
  for (const type of WAYPOINT_TYPES) {
    if (REQUIRED_TYPES.includes(type)) amountMsByType[type] = requiredNumber(byType, type, 'amountMsByType', { min: 0 }, problems);
    else {
      const value = optionalNumber(byType, type, 'amountMsByType', { min: 0 }, problems);
      if (value !== null) amountMsByType[type] = value;
    }
  }
  const params: MissedWaypointParams = {
    amountMsByType,
    defaultAmountMs: optionalNumber(obj, 'defaultAmountMs', '', { min: 0 }, problems),
    wpeAfterMissedAmountMs: optionalNumber(obj, 'wpeAfterMissedAmountMs', '', { min: 0 }, problems),
    excludeAtMissedInStage: optionalNumber(obj, 'excludeAtMissedInStage', '', { min: 1, integer: true }, problems),
  };
  return problems.length ? { ok: false, problems } : { ok: true, params };
}

export function evaluateMissedWaypoint(p: MissedWaypointParams, f: WaypointPass, ctx: FactContext<WaypointPass>): Assessment | null {
  if (f.validated) return null;
  const label = `${stagePrefix(ctx.stageCode)}${f.type} ${f.waypointCode ?? f.waypointId} missed`;
  const missedNumber = ctx.offencesBeforeInStage + 1;
  if (p.excludeAtMissedInStage !== null && missedNumber >= p.excludeAtMissedInStage) {
    return { amountMs: 0, exclusion: true, countsAsOffence: true, offenceNumber: missedNumber, explanation: `${label} → ${missedNumber} missed in the stage: exclusion` };
  }
  if (f.type === 'WPE' && p.wpeAfterMissedAmountMs !== null && ctx.previous && !ctx.previous.validated) {
    const amountMs = p.wpeAfterMissedAmountMs;
    return { amountMs, exclusion: false, countsAsOffence: true, offenceNumber: missedNumber, explanation: `${label} right after missed ${ctx.previous.type} ${ctx.previous.waypointCode ?? ctx.previous.waypointId} → ${formatDurationMs(amountMs)}` };
  }
  const amountMs = p.amountMsByType[f.type] ?? p.defaultAmountMs;
  if (amountMs === null || amountMs === undefined) {
    return { amountMs: 0, exclusion: false, countsAsOffence: true, offenceNumber: missedNumber, explanation: `${label} → no amount configured for ${f.type}: no penalty (check the rule)` };
  }
  return { amountMs, exclusion: false, countsAsOffence: true, offenceNumber: missedNumber, explanation: `${label} → ${formatDurationMs(amountMs)}` };
}

export const missedWaypointEvaluator: Evaluator<MissedWaypointParams, WaypointPass> = {
  key: 'missed_waypoint',
  sourceKind: 'waypoint',
  summary: 'Missed waypoint: an amount per waypoint type, optional WPE-after-a-miss amount and exclusion after N misses in a stage',
  validate: validateMissedWaypointParams,
  select: (facts) => facts.waypointPasses ?? [],
  sourceId: (f) => f.id,
  stageId: (f) => f.stageId,
  compare: (a, b) => a.sequence - b.sequence || compareStrings(a.id, b.id),
  evaluate: evaluateMissedWaypoint,
};
