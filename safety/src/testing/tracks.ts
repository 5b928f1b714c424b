/**
 * Replayable tracks for the safety tests and the benchmark: a stage near Tirana (the timing
 * tests' origin, 19.8°E 41.3°N) whose route runs east along y = 0, and a builder that lays fixes
 * down in metres. The same points feed the pure detector (as Fix) and simulated devices over
 * TCP (as simulator records).
 */
import { at } from '../../../functions/src/core/timing/test-fixtures.ts';
import type { RecordInput } from '../../../simulator/src/avl-encoder.ts';
import type { Fix } from '../fix.ts';

/** The stage route (segments.route): x from 0 to 20 km east, y = 0, a vertex every 2 km. */
export const ROUTE_X_M = [0, 2000, 4000, 6000, 8000, 10000, 12000, 14000, 16000, 18000, 20000];
export const routeLonLat = (): [number, number][] => ROUTE_X_M.map((x) => at(x, 0));

export interface TrackPoint {
  tsMs: number;
  x: number;
  y: number;
  speedKmh: number;
  priority?: number;
  eventIo?: number;
  io?: Record<number, number>;
  sats?: number;
}

export class Track {
  readonly points: TrackPoint[] = [];
  private t: number;
  private x: number;
  private y: number;

  constructor(t0Ms: number, x0 = 0, y0 = 0) {
    this.t = t0Ms;
    this.x = x0;
    this.y = y0;
  }

  get nowMs(): number {
    return this.t;
  }

  /** Straight to (x, y) at speedKmh, a fix every periodMs (the first one here, now). */
  drive(x: number, y: number, speedKmh: number, periodMs = 1000): this {
    const dist = Math.hypot(x - this.x, y - this.y);
    const steps = Math.max(1, Math.round(dist / ((speedKmh / 3.6) * (periodMs / 1000))));
    const x0 = this.x;
    const y0 = this.y;
    for (let k = 0; k < steps; k++) {
      this.points.push({ tsMs: this.t, x: x0 + ((x - x0) * k) / steps, y: y0 + ((y - y0) * k) / steps, speedKmh });
      this.t += periodMs;
    }
    this.x = x;
    this.y = y;
    return this;
  }

  /** Standing still for durationMs, a fix every periodMs, wandering ±jitterM (GPS noise). */
  stay(durationMs: number, periodMs = 5000, jitterM = 8): this {
    for (let k = 0; k * periodMs < durationMs; k++) {
      const j = ((k * 7919) % 17) / 16 - 0.5; // deterministic noise in [-0.5, 0.5]
      this.points.push({ tsMs: this.t, x: this.x + j * 2 * jitterM, y: this.y - j * jitterM, speedKmh: k % 3 === 0 ? 0 : 1 });
      this.t += periodMs;
    }
    return this;
  }

  /** One extra record here and now (no time passes), e.g. a panic or an IO event record. */
  record(patch: Partial<TrackPoint>): this {
    this.points.push({ tsMs: this.t, x: this.x, y: this.y, speedKmh: 0, ...patch });
    return this;
  }

  /** Nothing is sent for durationMs. */
  silence(durationMs: number): this {
    this.t += durationMs;
    return this;
  }

  /** Changes the last point (a spike, a glitch). */
  patchLast(patch: Partial<TrackPoint>): this {
    Object.assign(this.points[this.points.length - 1], patch);
    return this;
  }
}

export function toFix(p: TrackPoint, imei: string, rxDelayMs = 300): Fix {
  const [lon, lat] = at(p.x, p.y);
  const sats = p.sats ?? 12;
  return {
    imei,
    tsMs: p.tsMs,
    rxMs: p.tsMs + rxDelayMs,
    lat,
    lon,
    speedKmh: p.speedKmh,
    heading: 90,
    sats,
    priority: p.priority ?? 0,
    eventIo: p.eventIo ?? 0,
    io: Object.fromEntries(Object.entries(p.io ?? {}).map(([k, v]) => [k, v])),
    valid: sats > 0,
    faulty: false,
  };
}

export function toRecord(p: TrackPoint): RecordInput {
  const [lon, lat] = at(p.x, p.y);
  return { timestampMs: p.tsMs, lat, lon, speedKmh: Math.round(p.speedKmh), headingDeg: 90, satellites: p.sats ?? 12, priority: p.priority ?? 0, eventIoId: p.eventIo ?? 0, io: p.io ?? {} };
}
