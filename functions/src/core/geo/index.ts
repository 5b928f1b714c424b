/** Geodesy helpers for the timing core. All distances are metres, angles degrees. */
export type { LonLat, Xy } from './types.ts';
export { EARTH_RADIUS_M, bboxCentre, haversineM, localProjection, polylineLengthM } from './projection.ts';
export type { LocalProjection } from './projection.ts';
export { circleEntryT, closestPointOnSegment, orient, pointSegmentDistanceM, segmentCrossing } from './segments.ts';
export type { ClosestPoint, SegmentCrossing } from './segments.ts';
export { pointInPolygon, pointInRing, segmentPolygonCrossings } from './polygon.ts';
export type { PlanarPolygon } from './polygon.ts';
