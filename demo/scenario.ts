/**
 * How each demo entry drives the stage: a pure function of time. Entries start one start
 * interval apart, cruise at their own speed, slow to the limit in the speed zone (all but the
 * one who speeds through it), and one retires with a mechanical halfway. Used by the demo
 * driver to make 1 Hz fixes, and by tests to know what the timing must find.
 */
import { along, MARKS, ROUTE_LENGTH_M, toLonLat, type LonLat } from './course.ts';

export interface DemoEntry {
  number: number;
  crew: string;
  category: 'moto' | 'quad' | 'car' | 'ssv';
  imei: string;
  cruiseKmh: number;
  /** speed held inside the speed-limit zone */
  zoneKmh: number;
  /** stops for good at this distance (a retirement) */
  retiresAtM?: number;
}

export const DEMO_ENTRIES: DemoEntry[] = [
  { number: 1, crew: 'Arben Kola', category: 'moto', imei: '350612079000001', cruiseKmh: 96, zoneKmh: 48 },
  { number: 2, crew: 'Elira Hoxha', category: 'moto', imei: '350612079000002', cruiseKmh: 102, zoneKmh: 72 },
  { number: 7, crew: 'Marco Rossi', category: 'quad', imei: '350612079000007', cruiseKmh: 84, zoneKmh: 49 },
  { number: 101, crew: 'Dritan Shehu / Ilir Meta', category: 'car', imei: '350612079000101', cruiseKmh: 110, zoneKmh: 47 },
  { number: 102, crew: 'Anna Berg / Jonas Lind', category: 'car', imei: '350612079000102', cruiseKmh: 90, zoneKmh: 50, retiresAtM: 4_800 },
  { number: 301, crew: 'Klodian Leka', category: 'ssv', imei: '350612079000301', cruiseKmh: 88, zoneKmh: 56 },
];

export interface DemoFix {
  tsMs: number;
  lon: number;
  lat: number;
  speedKmh: number;
  headingDeg: number;
}

function speedAt(e: DemoEntry, distanceM: number): number {
  const inZone = distanceM >= MARKS.slzFromM - 50 && distanceM <= MARKS.slzToM + 50;
  return inZone ? e.zoneKmh : e.cruiseKmh;
}

/**
 * Every fix of one entry at `periodMs`, from `startAtMs - leadMs` (waiting before the start)
 * until it has passed the end of the route (or retired, then `afterMs` of standing still).
 */
export function entryTrack(e: DemoEntry, startAtMs: number, options: { periodMs?: number; leadMs?: number; afterMs?: number } = {}): DemoFix[] {
  const periodMs = options.periodMs ?? 1000;
  const leadMs = options.leadMs ?? 20_000;
  const afterMs = options.afterMs ?? 60_000;
  const fixes: DemoFix[] = [];
  const heading = (dir: { x: number; y: number }) => (Math.round((Math.atan2(dir.x, dir.y) * 180) / Math.PI) + 360) % 360;
  // waiting behind the start line (distance 0 is 150 m before it)
  for (let t = startAtMs - leadMs; t < startAtMs; t += periodMs) {
    const { p, dir } = along(0);
    const [lon, lat] = toLonLat(p);
    fixes.push({ tsMs: t, lon, lat, speedKmh: 0, headingDeg: heading(dir) });
  }
  let distance = 0;
  let t = startAtMs;
  const endM = e.retiresAtM ?? ROUTE_LENGTH_M;
  while (distance < endM) {
    const { p, dir } = along(distance);
    const [lon, lat]: LonLat = toLonLat(p);
    const v = speedAt(e, distance);
    fixes.push({ tsMs: t, lon, lat, speedKmh: v, headingDeg: heading(dir) });
    distance += (v / 3.6) * (periodMs / 1000);
    t += periodMs;
  }
  const { p, dir } = along(endM);
  const [lon, lat] = toLonLat(p);
  for (let s = 0; s < afterMs; s += periodMs * 10) fixes.push({ tsMs: t + s, lon, lat, speedKmh: 0, headingDeg: heading(dir) });
  return fixes;
}
