/**
 * "Timing results are right after recovery": a stage near Tirana (tests/recompute-scenario.ts)
 * whose devices drive straight tracks through the faulted pipeline (simulated device → ingest →
 * Redis → writer → positions). After recovery the stage is recomputed over what the pipeline
 * stored; then the same fixes, exactly as a device encodes them (1e-7° coordinates, whole km/h),
 * are inserted into a clean database and the stage is recomputed over that. The clean run must
 * change nothing: the faulted pipeline's results are the clean run's results.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { createTestDatabase } from '../../common/src/testing/db.ts';
import type { Rest } from '../../directus/src/rest.ts';
import { at } from '../../functions/src/core/timing/test-fixtures.ts';
import { directusApi } from '../../functions/src/recompute/directus-api.ts';
import { runRecompute } from '../../functions/src/recompute/recompute.ts';
import type { RecordInput } from '../../simulator/src/avl-encoder.ts';
import { createScenario, straightTrack, type Scenario } from '../recompute-scenario.ts';

export const T0 = Date.UTC(2025, 5, 8, 6, 0, 0);
export const NOW = T0 + 30 * 60_000;

export interface TimingCourse {
  organization: string;
  sc: Scenario;
  records: Map<string, RecordInput[]>;
}

/** An organisation, an event with one special stage, `entries` entries each with a device and a track. */
export async function createTimingCourse(api: Rest, entries: number): Promise<TimingCourse> {
  const slug = `faults-${randomBytes(4).toString('hex')}`;
  const organization = (await api.request<{ id: string }>('POST', '/items/organizations', { name: `Org ${slug}`, slug })).id;
  const sc = await createScenario(api, { organization, plannedStartMs: T0, entryCount: entries, maxTimeS: 7200 });
  const records = new Map<string, RecordInput[]>();
  sc.devices.forEach((imei, i) => {
    // 15–22 m/s eastbound, 1 Hz, a little north or south of the axis; starts 60 s apart
    const track = straightTrack({ t0: T0 + i * 60_000, x0: -150 - i, x1: 6200, speedMs: 15 + (i % 8), periodMs: 1000, y: ((i % 5) - 2) * 10 });
    records.set(imei, track.map((f) => {
      const [lon, lat] = at(f.x, f.y);
      return { timestampMs: f.ts, lat, lon, speedKmh: f.speedKmh, headingDeg: 90, satellites: 12, altitudeM: 100 };
    }));
  });
  return { organization, sc, records };
}

/** The fixes as the ingest daemon decodes them: 1e-7° integers, whole km/h. */
export async function insertAsDecoded(pool: pg.Pool, records: Map<string, RecordInput[]>): Promise<void> {
  for (const [imei, list] of records) {
    await pool.query(
      `INSERT INTO positions (imei, ts, lat, lon, alt, speed, heading, sats, fix)
       SELECT $1, 'epoch'::timestamptz + t * interval '1 millisecond', lat, lon, 100, speed, 90, 12, true
       FROM unnest($2::int8[], $3::float8[], $4::float8[], $5::float4[]) AS u(t, lat, lon, speed)`,
      [imei, list.map((r) => r.timestampMs), list.map((r) => Math.round(r.lat * 1e7) / 1e7), list.map((r) => Math.round(r.lon * 1e7) / 1e7), list.map((r) => Math.round(r.speedKmh ?? 0))],
    );
  }
}

export interface TimingCheck {
  entries: number;
  finished: number;
  /** rows the recompute over the faulted pipeline's positions created */
  created: number;
  /** changes the clean run made on top: 0 when the results are the same */
  changesVsClean: number;
  recomputeMs: number;
}

/** Recompute over the pipeline's positions, then over a clean copy; see the file comment. */
export async function checkTiming(o: { directusUrl: string; serviceToken: string; admin: Rest; pipeline: pg.Pool; course: TimingCourse }): Promise<TimingCheck> {
  const api = directusApi({ url: o.directusUrl, token: o.serviceToken });
  const request = { scope: 'stage' as const, id: String(o.course.sc.stage), reason: 'faults', requested_by: 'faults' };
  const started = Date.now();
  const first = await runRecompute({ api, pool: o.pipeline, now: () => NOW }, request);
  const recomputeMs = Date.now() - started;
  if (first.status !== 'done') throw new Error(`recompute over the pipeline's positions: ${JSON.stringify(first)}`);
  const clean = await createTestDatabase('faultsclean');
  clean.pool.on('error', () => {}); // the drop below terminates idle connections with FORCE
  try {
    await insertAsDecoded(clean.pool, o.course.records);
    const second = await runRecompute({ api, pool: clean.pool, now: () => NOW }, { ...request, reason: 'faults clean' });
    const filter = encodeURIComponent(JSON.stringify({ stage: { _eq: o.course.sc.stage } }));
    const rows = await o.admin.request<{ status: string }[]>('GET', `/items/stage_times?limit=-1&fields=status&filter=${filter}`);
    return {
      entries: o.course.sc.entries.length,
      finished: rows.filter((r) => r.status === 'finished').length,
      created: first.changed.stage_times.created,
      changesVsClean: second.totalChanges,
      recomputeMs,
    };
  } finally {
    await clean.drop();
  }
}
