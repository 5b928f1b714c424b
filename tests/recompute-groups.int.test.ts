/**
 * The recompute writes a stage's rows in groups of entries while the next groups compute
 * (functions/src/recompute/recompute.ts, `writeGroupSize`). The group size must not change any
 * row, and a run that fails after some groups were written must say so: its recompute_runs row
 * counts what it wrote, and the entries whose rows changed get their penalty evaluation (a retry
 * finds those rows unchanged and would queue nothing for them).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { PenaltyEvaluationRequest } from '../common/src/triggers.ts';
import { pgConfig } from '../common/src/pg.ts';
import { directusApi, type DirectusApi } from '../functions/src/recompute/directus-api.ts';
import { runRecompute, type RecomputeDeps } from '../functions/src/recompute/recompute.ts';
import { adminApi, createOrg, trm } from './directus-client.ts';
import { createScenario, insertFixes, straightTrack, type Scenario } from './recompute-scenario.ts';

const T0 = Date.UTC(2025, 5, 8, 6, 0, 0);
const NOW = T0 + 20 * 60_000;

describe('recompute in groups of entries', () => {
  let db: pg.Pool;
  let organization: string;
  const api = (): DirectusApi => directusApi({ url: trm().directusUrl, token: trm().serviceToken });

  /** 4 entries: three driving the whole stage at different speeds, one without fixes (dns). */
  async function scenario(): Promise<Scenario> {
    const sc = await createScenario(adminApi(), { organization, plannedStartMs: T0, entryCount: 4, maxTimeS: 7200 });
    for (const [i, speedMs] of [[0, 20], [1, 25], [2, 30]] as const) await insertFixes(db, sc.devices[i], straightTrack({ t0: T0 + i * 60_000, x0: -150, x1: 6200, speedMs, periodMs: 1000 }));
    return sc;
  }
  const stored = async (sc: Scenario) =>
    Promise.all(['stage_times', 'waypoint_passes', 'speed_infringements'].map((c) => adminApi().request<Record<string, unknown>[]>('GET', `/items/${c}?limit=-1&sort=key&fields=*&filter=${encodeURIComponent(JSON.stringify({ stage: { _eq: sc.stage } }))}`)));
  const run = (sc: Scenario, deps: Partial<RecomputeDeps> = {}) => runRecompute({ api: api(), pool: db, now: () => NOW, ...deps }, { scope: 'event', id: String(sc.event), reason: 'groups', requested_by: 'vitest' });

  beforeAll(async () => {
    organization = (await createOrg('groups')).id;
    db = new pg.Pool(pgConfig(trm().directusDatabaseUrl, process.env, { max: 4 }));
  });
  afterAll(async () => {
    await db?.end();
  });

  test('groups of 1 write the rows a single group writes', async () => {
    const sc = await scenario();
    const first = await run(sc, { writeGroupSize: 1 });
    expect(first.changed.stage_times).toMatchObject({ created: 4, updated: 0, deleted: 0 });
    expect(first.changed.speed_infringements.created).toBe(3);
    const rows = await stored(sc);
    // a whole-stage group and groups of 3 + 1 find nothing to change
    expect((await run(sc)).totalChanges).toBe(0);
    expect((await run(sc, { writeGroupSize: 3 })).totalChanges).toBe(0);
    expect(await stored(sc)).toEqual(rows);
  });

  test('a write failing in the second group: the first group stays written, is counted in the failed run and gets its penalty evaluation; a retry completes it', async () => {
    const sc = await scenario();
    const penalties: PenaltyEvaluationRequest[] = [];
    const real = api();
    let creates = 0;
    const failing: DirectusApi = {
      ...real,
      async writeResults(collection, write) {
        if (collection === 'stage_times' && write.create?.length && ++creates === 2) throw Object.assign(new Error('injected failure'), { code: 'TEST_ERR' });
        return real.writeResults(collection, write);
      },
    };
    const outcome = await run(sc, { api: failing, writeGroupSize: 2, penalties: async (p) => penalties.push(p) }).then(
      () => undefined,
      (error: Error) => error,
    );
    expect(outcome?.message).toBe('injected failure');
    const [stageTimes] = await stored(sc);
    expect(stageTimes.map((r) => r.entry).sort()).toEqual(sc.entries.slice(0, 2).sort());
    // entries 1–2 written; 3–4 were about to be (marked before their write): all four evaluated
    expect(penalties.map((p) => `${p.scope}:${p.id}`).sort()).toEqual(sc.entries.map((e) => `entry:${e}`).sort());
    const runs = await adminApi().request<{ status: string; error: string; changed: { stage_times: { created: number }; total: number } }[]>('GET', `/items/recompute_runs?limit=-1&fields=status,error,changed&filter=${encodeURIComponent(JSON.stringify({ _and: [{ event: { _eq: sc.event } }, { status: { _eq: 'failed' } }] }))}`);
    expect(runs).toHaveLength(1);
    expect(runs[0].error).toContain('injected failure');
    expect(runs[0].changed.stage_times.created).toBe(2);

    const retry = await run(sc, { writeGroupSize: 2 });
    expect(retry.changed.stage_times).toMatchObject({ created: 2, updated: 0, deleted: 0 });
    expect((await run(sc)).totalChanges).toBe(0);
  });
});
