/**
 * The compute pool gives the same rows as the caller's thread, whatever worker computes which
 * entry; a worker's error reaches the caller with RECOMPUTE_ERR_COMPUTE.
 */
import { afterAll, describe, expect, test } from 'vitest';
import type { StageCourse } from '../core/timing/index.ts';
import { at, meridianLineAtM, rectM, rng, T0 } from '../core/timing/test-fixtures.ts';
import { computeEntry, type EntryJob } from './compute-entry.ts';
import { createComputePool, inlineCompute } from './compute-pool.ts';
import { RECOMPUTE_ERR } from './errors.ts';
import { encodeFixCopyBinary, type CopyRow } from './test-fixtures.ts';

const course: StageCourse = {
  start: { id: '1', code: 'DSS', coordinates: meridianLineAtM(0) },
  finish: { id: '2', code: 'ASS', coordinates: meridianLineAtM(5000) },
  splits: [{ id: '3', code: 'SP1', coordinates: meridianLineAtM(2500) }],
  waypoints: [{ id: '10', code: 'WP1', type: 'WPV', position: at(1500, 20), radiusM: 90 }],
  speedZones: [{ id: '20', code: 'SLZ1', area: { type: 'polygon', coordinates: rectM(3000, -100, 4000, 100) }, limitKmh: 50 }],
};

/** Binary COPY of a 1 Hz track east at 20 m/s with some noise; entry i starts i minutes late. */
function copyBytes(i: number): Uint8Array {
  const rand = rng(1000 + i);
  const rows: CopyRow[] = [];
  for (let k = 0; k < 400; k++) {
    const [lon, lat] = at(-150 + 20 * k + rand() * 3, rand() * 10 - 5);
    rows.push({ us: (T0 + i * 60_000 + k * 1000) * 1000, lat, lon, speed: String(72 + Math.round(rand() * 4)) });
  }
  return encodeFixCopyBinary(rows);
}

const job = (i: number): EntryJob => ({ stage: 7, entry: 100 + i, bytes: copyBytes(i), options: { nowMs: T0 + 3_600_000, scheduledStartMs: T0 + i * 60_000 } });

const pool = createComputePool({ size: 2 });
afterAll(() => pool.close());

describe('compute pool', () => {
  test('workers give the rows the caller thread gives, for every entry', async () => {
    const ref = { key: 'stage-7', course };
    const expected = Array.from({ length: 12 }, (_, i) => computeEntry(course, job(i)));
    expect(expected.some((e) => e.rows.speedInfringements.length > 0)).toBe(true);
    expect(expected.every((e) => e.status === 'finished')).toBe(true);
    const viaWorkers = await Promise.all(Array.from({ length: 12 }, (_, i) => pool.run(ref, job(i))));
    const inline = await Promise.all(Array.from({ length: 12 }, (_, i) => inlineCompute.run(ref, job(i))));
    expect(viaWorkers).toEqual(expected);
    expect(inline).toEqual(expected);
  });

  test('a course sent once is kept by the worker across runs', async () => {
    const ref = { key: 'stage-7b', course };
    const first = await pool.run(ref, job(1));
    const again = await Promise.all([pool.run(ref, job(1)), pool.run(ref, job(1)), pool.run(ref, job(1))]);
    expect(again).toEqual([first, first, first]);
  });

  test('an error in the worker rejects that job with RECOMPUTE_ERR_COMPUTE; the pool keeps working', async () => {
    const broken = { key: 'broken', course: { ...course, start: null } as unknown as StageCourse };
    await expect(pool.run(broken, job(2))).rejects.toMatchObject({ code: RECOMPUTE_ERR.COMPUTE });
    expect((await pool.run({ key: 'stage-7', course }, job(2))).rows).toEqual(computeEntry(course, job(2)).rows);
  });

  test('a closed pool refuses jobs', async () => {
    const p = createComputePool({ size: 1 });
    await p.run({ key: 'k', course }, job(0));
    await p.close();
    await p.close();
    await expect(p.run({ key: 'k', course }, job(0))).rejects.toMatchObject({ code: RECOMPUTE_ERR.COMPUTE });
  });
});
