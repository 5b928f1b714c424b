/**
 * Polygons in a local planar frame: point-in-polygon (even-odd rule, so holes work) and the
 * parameters where a segment crosses the polygon's boundary.
 */
import { segmentCrossing } from './segments.ts';
import type { Xy } from './types.ts';

/** A GeoJSON-style polygon: outer ring then holes; rings may or may not repeat their first point. */
export type PlanarPolygon = readonly (readonly Xy[])[];

/** Even-odd ray casting on one ring. Points exactly on an edge may fall either side. */
export function pointInRing(p: Xy, ring: readonly Xy[]): boolean {
  let inside = false;
  const n = ring.length;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const a = ring[i];
    const b = ring[j];
    if (a.y > p.y !== b.y > p.y) {
      const xCross = a.x + ((p.y - a.y) * (b.x - a.x)) / (b.y - a.y);
      if (p.x < xCross) inside = !inside;
    }
  }
  return inside;
}

/** Inside the outer ring and outside every hole (even-odd over all rings). */
export function pointInPolygon(p: Xy, polygon: PlanarPolygon): boolean {
  let inside = false;
  for (const ring of polygon) if (pointInRing(p, ring)) inside = !inside;
  return inside;
}

/** Parameters t in [0, 1] along a→b where it crosses any edge of the polygon, ascending. */
export function segmentPolygonCrossings(a: Xy, b: Xy, polygon: PlanarPolygon): number[] {
  const ts: number[] = [];
  for (const ring of polygon) {
    const n = ring.length;
    for (let i = 0; i < n; i++) {
      const q0 = ring[i];
      const q1 = ring[(i + 1) % n];
      if (q0.x === q1.x && q0.y === q1.y) continue;
      const c = segmentCrossing(a, b, q0, q1);
      if (c) ts.push(c.t);
    }
  }
  return ts.sort((x, y) => x - y);
}
