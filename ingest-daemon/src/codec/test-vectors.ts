/** Loads ../shared/vectors/teltonika-traccar.json for the codec tests (test helper, not shipped code). */
import { existsSync, readFileSync } from 'node:fs';
import { expect } from 'vitest';
import type { AvlRecord } from './decode.ts';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface DerivedRecord {
  timestamp_ms: number;
  priority: number;
  latitude: number;
  longitude: number;
  altitude: number;
  angle: number;
  satellites: number;
  speed_kmh: number;
  event_io_id: number;
  io: Record<string, number | string>;
}

export interface Vector {
  index: number;
  test: string;
  hex: string;
  transport: 'tcp' | 'udp';
  kind: 'imei' | 'avl' | 'command-response' | 'other';
  codec?: string;
  decoder_config?: { extended?: boolean; modelOverride?: string; connectionless?: boolean };
  test_comment?: string;
  expect: { assertion: string; server_ack_hex?: string; server_reply_hex?: string; first_frame_hex?: string; command_data?: string; encoded_hex?: string };
  derived: {
    type?: string;
    imei?: string;
    crc_ok?: boolean;
    data_length_ok?: boolean;
    trailing_bytes?: number;
    record_count?: number;
    records?: (DerivedRecord & { type?: string; text?: string; payload_hex?: string })[];
  };
}

const here = dirname(fileURLToPath(import.meta.url));
const candidates = [join(here, '../../../../shared/vectors/teltonika-traccar.json'), '/work/shared/vectors/teltonika-traccar.json'];

export function loadVectors(): Vector[] {
  const file = candidates.find((f) => existsSync(f));
  if (!file) throw new Error(`teltonika-traccar.json not found (looked in ${candidates.join(', ')})`);
  const json = JSON.parse(readFileSync(file, 'utf8')) as { frames: Omit<Vector, 'index'>[] };
  return json.frames.map((f, index) => ({ ...f, derived: f.derived ?? {}, index }));
}

/** A TCP vector whose frame boundaries are self-consistent (whole, correct length): safe to glue to a neighbour. */
export function isWellFramed(v: Vector): boolean {
  if (v.transport !== 'tcp') return false;
  if (v.kind === 'imei' || v.hex === 'ff') return true;
  if (v.expect.assertion === 'verifyFrame') return false; // concatenations of frames, tested on their own
  return v.derived.data_length_ok === true && v.derived.trailing_bytes === 0;
}

/** The invariants every decoded record must satisfy, whatever the bytes were (STYLE.md §3). */
export function checkInvariants(r: AvlRecord, nowMs: number, maxFutureMs = 10 * 60_000): void {
  expect(r.lat).toBeGreaterThanOrEqual(-90);
  expect(r.lat).toBeLessThanOrEqual(90);
  expect(r.lon).toBeGreaterThanOrEqual(-180);
  expect(r.lon).toBeLessThanOrEqual(180);
  expect(r.speedKmh).toBeGreaterThanOrEqual(0);
  expect(r.headingDeg).toBeGreaterThanOrEqual(0);
  expect(r.headingDeg).toBeLessThanOrEqual(360);
  expect(r.timestampMs).toBeLessThanOrEqual(nowMs + maxFutureMs);
  expect(Number.isSafeInteger(r.timestampMs)).toBe(true);
  expect(r.satellites).toBeGreaterThanOrEqual(0);
  if (r.satellites === 0 || (r.lat === 0 && r.lon === 0)) expect(r.fix).toBe(false);
}

