/**
 * A rally for the safety integration test and benchmark, built through Directus REST: one
 * event (thresholds given), one running special stage whose segment route is testing/tracks.ts's
 * (x 0 → 20 km along y = 0 near Tirana) with optional neutralisation-zone geofences, and one
 * device + entry per name. And a helper that
 * plays a track through a simulated Teltonika device into an ingest daemon over TCP.
 */
import { randomBytes } from 'node:crypto';
import type { Rest } from '../../../directus/src/rest.ts';
import { SimulatedDevice } from '../../../simulator/src/device.ts';
import { routeLonLat, toRecord, type Track } from './tracks.ts';

export interface SafetyRally {
  event: number;
  stage: number;
  /** name → entry id / imei */
  entries: Record<string, number>;
  devices: Record<string, string>;
}

export function newImei(): string {
  return `35${BigInt(`0x${randomBytes(7).toString('hex')}`).toString().padStart(13, '0').slice(-13)}`;
}

export async function createSafetyRally(api: Rest, o: { organization: string; nowMs: number; stageStartMs: number; names: string[]; stopS?: number; silenceS?: number; corridorM?: number; competitorUser?: string; neutralZones?: [number, number][][][] }): Promise<SafetyRally> {
  const iso = (ms: number) => new Date(ms).toISOString();
  const event = (await api.request<{ id: number }>('POST', '/items/events', {
    organization: o.organization,
    name: `Safety ${randomBytes(3).toString('hex')}`,
    starts_at: iso(o.nowMs - 2 * 3_600_000),
    ends_at: iso(o.nowMs + 6 * 3_600_000),
    alert_stop_s: o.stopS ?? 180,
    alert_silence_s: o.silenceS ?? 120,
    alert_corridor_m: o.corridorM ?? 500,
  })).id;
  const stage = (await api.request<{ id: number }>('POST', '/items/stages', { event, code: 'SS1', sequence: 1, kind: 'special', planned_start: iso(o.stageStartMs), closes_at: iso(o.nowMs + 2 * 3_600_000), status: 'running' })).id;
  await api.request('POST', '/items/segments', { stage, sequence: 1, name: 'SS1 route', route: { type: 'LineString', coordinates: routeLonLat() } });
  if (o.neutralZones?.length) await api.request('POST', '/items/geofences', o.neutralZones.map((coordinates, i) => ({ stage, code: `NZ${i + 1}`, kind: 'neutralisation_zone', sequence: 10 + i, geometry: { type: 'Polygon', coordinates } })));
  const devices: Record<string, string> = {};
  for (const name of o.names) devices[name] = newImei();
  if (o.names.length) await api.request('POST', '/items/devices', o.names.map((n) => ({ imei: devices[n], organization: o.organization, model: 'FMB920' })));
  const entries: Record<string, number> = {};
  for (let i = 0; i < o.names.length; i += 500) {
    const part = o.names.slice(i, i + 500);
    const rows = await api.request<{ id: number }[]>('POST', '/items/entries?fields=id', part.map((n, j) => ({ event, number: i + j + 1, device: devices[n], status: 'started', crew: n, ...(n === 'competitor' && o.competitorUser ? { user: o.competitorUser } : {}) })));
    part.forEach((n, j) => (entries[n] = rows[j].id));
  }
  return { event, stage, entries, devices };
}

/** Plays every point of the track through a simulated device; resolves once all are ACKed. */
export async function playTrack(o: { host: string; port: number; imei: string; track: Track }): Promise<void> {
  const device = new SimulatedDevice({ host: o.host, port: o.port, imei: o.imei, recordsPerPacket: 25 });
  device.connect();
  for (const p of o.track.points) device.record(toRecord(p));
  await device.idle();
  device.stop();
}
