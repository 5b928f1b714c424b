/**
 * Distance from a fix to a stage's route (the centre line of the course corridor: the
 * LineStrings of its segments). Pure. One local projection per stage (a special stage is tens
 * of kilometres across: the equirectangular error stays far below the corridor width, see
 * functions/src/core/geo/projection.ts), the route cut into chunks of CHUNK vertices with a
 * bounding box each, so a fix is compared with the few chunks that can be nearest.
 */
import { bboxCentre, localProjection, pointSegmentDistanceM, type LocalProjection, type LonLat, type Xy } from '../../functions/src/core/geo/index.ts';

const CHUNK = 32;

interface Chunk {
  points: Xy[];
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

export class Corridor {
  /** first point of the first route and last point of the last one ([lon, lat]) */
  readonly start: LonLat | null;
  readonly finish: LonLat | null;
  private readonly projection: LocalProjection | null;
  private readonly chunks: Chunk[] = [];

  /** `routes` in course order (segments by sequence), each a list of [lon, lat]. */
  constructor(routes: readonly (readonly LonLat[])[]) {
    const lines = routes.filter((r) => r.length > 0);
    const all = lines.flat();
    this.start = lines.length ? lines[0][0] : null;
    this.finish = lines.length ? lines[lines.length - 1][lines[lines.length - 1].length - 1] : null;
    this.projection = all.length ? localProjection(bboxCentre(all)) : null;
    if (!this.projection) return;
    for (const line of lines) {
      const xy = line.map((p) => this.projection!.toXy(p[0], p[1]));
      // chunks overlap by one vertex so no leg is lost between two of them
      for (let i = 0; i < Math.max(1, xy.length - 1); i += CHUNK) {
        const points = xy.slice(i, i + CHUNK + 1);
        this.chunks.push({
          points,
          minX: Math.min(...points.map((p) => p.x)),
          minY: Math.min(...points.map((p) => p.y)),
          maxX: Math.max(...points.map((p) => p.x)),
          maxY: Math.max(...points.map((p) => p.y)),
        });
      }
    }
  }

  get empty(): boolean {
    return this.chunks.length === 0;
  }

  /** Metres from (lon, lat) to the nearest point of the route; Infinity without a route. */
  distanceM(lon: number, lat: number): number {
    if (!this.projection) return Infinity;
    const p = this.projection.toXy(lon, lat);
    let best = Infinity;
    for (const c of this.chunks) {
      const dx = Math.max(c.minX - p.x, 0, p.x - c.maxX);
      const dy = Math.max(c.minY - p.y, 0, p.y - c.maxY);
      if (Math.hypot(dx, dy) >= best) continue;
      if (c.points.length === 1) {
        best = Math.min(best, Math.hypot(p.x - c.points[0].x, p.y - c.points[0].y));
        continue;
      }
      for (let i = 1; i < c.points.length; i++) best = Math.min(best, pointSegmentDistanceM(p, c.points[i - 1], c.points[i]));
    }
    return best;
  }
}
