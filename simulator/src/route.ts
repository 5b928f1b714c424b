/**
 * Tracks for simulated devices: a GeoJSON LineString (or the first one in a Feature /
 * FeatureCollection / MultiLineString), a GPX track, or a synthetic loop; and a player that
 * turns distance travelled into position and heading. Pure.
 */

export type Point = { lon: number; lat: number; altitudeM: number };

export function parseGeoJson(text: string): Point[] {
  const json = JSON.parse(text) as Record<string, unknown>;
  const find = (g: Record<string, unknown> | null | undefined): number[][] | undefined => {
    if (!g) return undefined;
    if (g.type === 'LineString') return g.coordinates as number[][];
    if (g.type === 'MultiLineString') return (g.coordinates as number[][][])[0];
    if (g.type === 'Feature') return find(g.geometry as Record<string, unknown>);
    if (g.type === 'FeatureCollection') {
      for (const f of g.features as Record<string, unknown>[]) {
        const c = find(f);
        if (c) return c;
      }
    }
    return undefined;
  };
  const coords = find(json);
  if (!coords || coords.length < 2) throw new Error('no LineString with at least 2 points in the GeoJSON');
  return coords.map(([lon, lat, alt]) => ({ lon, lat, altitudeM: alt ?? 0 }));
}

export function parseGpx(text: string): Point[] {
  const points: Point[] = [];
  const re = /<(?:trkpt|rtept)\b([^>]*)>([\s\S]*?)<\/(?:trkpt|rtept)>|<(?:trkpt|rtept)\b([^>]*)\/>/g;
  for (const m of text.matchAll(re)) {
    const attrs = m[1] ?? m[3] ?? '';
    const lat = Number(/lat="([^"]+)"/.exec(attrs)?.[1]);
    const lon = Number(/lon="([^"]+)"/.exec(attrs)?.[1]);
    const ele = Number(/<ele>([^<]+)<\/ele>/.exec(m[2] ?? '')?.[1] ?? 0);
    if (Number.isFinite(lat) && Number.isFinite(lon)) points.push({ lat, lon, altitudeM: Number.isFinite(ele) ? ele : 0 });
  }
  if (points.length < 2) throw new Error('no track with at least 2 points in the GPX');
  return points;
}

/** Parses a track file by its content (GeoJSON starts with `{`, GPX with `<`). */
export function parseTrack(text: string): Point[] {
  return text.trimStart().startsWith('<') ? parseGpx(text) : parseGeoJson(text);
}

/** A closed loop of `points` points around a centre (default: Tirana, Albania), radius in km. */
export function syntheticLoop(options: { lon?: number; lat?: number; radiusKm?: number; points?: number } = {}): Point[] {
  const { lon = 19.8187, lat = 41.3275, radiusKm = 5, points = 72 } = options;
  const out: Point[] = [];
  for (let i = 0; i <= points; i++) {
    const a = (2 * Math.PI * i) / points;
    out.push({
      lat: lat + (radiusKm / 111.32) * Math.sin(a),
      lon: lon + (radiusKm / (111.32 * Math.cos((lat * Math.PI) / 180))) * Math.cos(a),
      altitudeM: 100 + 50 * Math.sin(3 * a),
    });
  }
  return out;
}

const R = 6_371_000; // metres
function haversineM(a: Point, b: Point): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * R * Math.asin(Math.min(1, Math.sqrt(h)));
}
function bearingDeg(a: Point, b: Point): number {
  const rad = Math.PI / 180;
  const y = Math.sin((b.lon - a.lon) * rad) * Math.cos(b.lat * rad);
  const x = Math.cos(a.lat * rad) * Math.sin(b.lat * rad) - Math.sin(a.lat * rad) * Math.cos(b.lat * rad) * Math.cos((b.lon - a.lon) * rad);
  return ((Math.atan2(y, x) / rad) + 360) % 360;
}

/** Position along a track after travelling `distanceM` (looping past the end). */
export class RoutePlayer {
  readonly lengthM: number;
  private readonly points: Point[];
  private readonly cumulative: number[];

  constructor(points: Point[]) {
    if (points.length < 2) throw new Error('a track needs at least 2 points');
    this.points = points;
    this.cumulative = [0];
    for (let i = 1; i < points.length; i++) this.cumulative.push(this.cumulative[i - 1] + haversineM(points[i - 1], points[i]));
    this.lengthM = this.cumulative[this.cumulative.length - 1] || 1;
  }

  at(distanceM: number): Point & { headingDeg: number } {
    const d = ((distanceM % this.lengthM) + this.lengthM) % this.lengthM;
    let lo = 0;
    let hi = this.cumulative.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (this.cumulative[mid] <= d) lo = mid;
      else hi = mid;
    }
    const a = this.points[lo];
    const b = this.points[hi];
    const span = this.cumulative[hi] - this.cumulative[lo];
    const t = span > 0 ? (d - this.cumulative[lo]) / span : 0;
    return { lat: a.lat + (b.lat - a.lat) * t, lon: a.lon + (b.lon - a.lon) * t, altitudeM: a.altitudeM + (b.altitudeM - a.altitudeM) * t, headingDeg: Math.round(bearingDeg(a, b)) % 360 };
  }
}
