/**
 * The pure timing core (issue 6). `computeEntryStage` is the entry point; the lower-level
 * functions are exported for callers that need one piece (live split, a single waypoint).
 * Rules, units and the API are documented in docs/timing.md.
 */
export type * from './types.ts';
export { computeEntryStage, findStageCrossings, stageStatus } from './compute-entry-stage.ts';
export type { StageCrossings } from './compute-entry-stage.ts';
export { prepareTrack, speedAt, timeAt } from './track.ts';
export type { PairKind, Track, TrackFix } from './track.ts';
export { countedCrossings, findLineCrossings } from './line-crossings.ts';
export type { TrackCrossing } from './line-crossings.ts';
export { findZonePassages, isComplete } from './zone-passages.ts';
export type { ZonePassage } from './zone-passages.ts';
export { evaluateSpeedZone } from './speed-zones.ts';
export type { SpeedZoneEvaluation } from './speed-zones.ts';
export { evaluateWaypoint, WHOLE_TRACK } from './waypoints.ts';
export type { TimeWindow } from './waypoints.ts';
export { evaluateNeutralisation } from './neutralisation.ts';
export type { StageWindow } from './neutralisation.ts';
export { evaluateTimeControl } from './time-controls.ts';
export {
  DEFAULT_MAX_EVIDENCE_FIXES,
  DEFAULT_MAX_IMPLIED_SPEED_KMH,
  DEFAULT_MAX_INTERPOLATION_GAP_MS,
  resolveOptions,
} from './options.ts';
export type { ResolvedOptions } from './options.ts';
