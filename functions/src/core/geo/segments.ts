/**
 * Planar segment helpers, metres in a local frame: the crossing of a track segment with a line
 * segment (with side and direction), and the closest point of a segment to a point.
 */
import type { Xy } from './types.ts';

/** z of the 2-D cross product (b − a) × (c − a): > 0 when c is left of a→b. */
export function orient(a: Xy, b: Xy, c: Xy): number {
  return (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x);
}

export interface SegmentCrossing {
  /** parameter along the moving segment p0→p1 where it meets the line, 0..1 */
  readonly t: number;
  /** parameter along the line segment q0→q1, 0..1 */
  readonly u: number;
  /**
   * +1 when the motion goes from the right-hand side of q0→q1 to its left-hand side (forward,
   * see docs/timing.md "Line orientation"), −1 the other way.
   */
  readonly direction: 1 | -1;
}

/**
 * Where the moving segment p0→p1 crosses the line segment q0→q1, or null.
 *
 * Sides are classed as "left or on the line" (orient ≥ 0) versus "right" (< 0): a point lying
 * exactly on the line counts as left. Consecutive track segments share their end point, so a
 * fix lying exactly on a line is attributed to exactly one crossing (never two), and a track
 * that only touches the line from the left is no crossing at all.
 */
export function segmentCrossing(p0: Xy, p1: Xy, q0: Xy, q1: Xy): SegmentCrossing | null {
  const s0 = orient(q0, q1, p0);
  const s1 = orient(q0, q1, p1);
  const left0 = s0 >= 0;
  const left1 = s1 >= 0;
  if (left0 === left1) return null;
  const t = s0 / (s0 - s1);
  const x = p0.x + t * (p1.x - p0.x);
  const y = p0.y + t * (p1.y - p0.y);
  const dx = q1.x - q0.x;
  const dy = q1.y - q0.y;
  const len2 = dx * dx + dy * dy;
  if (len2 === 0) return null;
  const u = ((x - q0.x) * dx + (y - q0.y) * dy) / len2;
  if (u < 0 || u > 1) return null;
  return { t, u, direction: left1 ? 1 : -1 };
}

export interface ClosestPoint {
  /** parameter along a→b of the closest point, clamped to [tMin, tMax] */
  readonly t: number;
  /** distance from p to that point, metres */
  readonly distanceM: number;
}

/** Closest point to `p` on the part [tMin, tMax] of segment a→b. */
export function closestPointOnSegment(p: Xy, a: Xy, b: Xy, tMin = 0, tMax = 1): ClosestPoint {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const len2 = dx * dx + dy * dy;
  let t = len2 === 0 ? tMin : ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2;
  if (t < tMin) t = tMin;
  if (t > tMax) t = tMax;
  return { t, distanceM: Math.hypot(a.x + t * dx - p.x, a.y + t * dy - p.y) };
}

/** Distance from `p` to segment a→b, metres. */
export function pointSegmentDistanceM(p: Xy, a: Xy, b: Xy): number {
  return closestPointOnSegment(p, a, b).distanceM;
}

/**
 * Smallest t in [0, 1] where the segment a→b enters the circle of radius `r` around `c`, for an
 * `a` outside the circle; null when the segment never reaches it.
 */
export function circleEntryT(a: Xy, b: Xy, c: Xy, r: number): number | null {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const fx = a.x - c.x;
  const fy = a.y - c.y;
  const A = dx * dx + dy * dy;
  const C = fx * fx + fy * fy - r * r;
  if (C <= 0) return 0;
  if (A === 0) return null;
  const B = 2 * (fx * dx + fy * dy);
  const disc = B * B - 4 * A * C;
  if (disc < 0) return null;
  const t = (-B - Math.sqrt(disc)) / (2 * A);
  return t >= 0 && t <= 1 ? t : null;
}
