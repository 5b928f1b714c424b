/**
 * The computed result collections (stage_times, waypoint_passes, speed_infringements,
 * standings) have Directus accountability null (docs/recompute.md, "Audit"): no activity or
 * revision row per written row, the run's audit being its recompute_runs row. What must not
 * change: Directus's WebSocket still pushes their creates and updates to a subscriber (the live
 * map page and the SPA depend on it), and penalties, which carry officials' overrides, keep
 * their revisions.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { pgConfig } from '../common/src/pg.ts';
import { directusApi } from '../functions/src/recompute/directus-api.ts';
import { runRecompute, type RecomputeSummary } from '../functions/src/recompute/recompute.ts';
import { directusSubscriber, type DirectusSubscriber } from './directus-ws.ts';
import { adminApi, createOrg, createUser, trm, type TestUser } from './directus-client.ts';
import { createScenario, insertFixes, straightTrack, type Scenario } from './recompute-scenario.ts';

const T0 = Date.UTC(2025, 5, 8, 6, 0, 0);
const NOW = T0 + 20 * 60_000;
const POLL = { timeout: 20_000, interval: 100 };



describe('result collections: pushed over the WebSocket, without per-row revisions', () => {
  let sc: Scenario;
  let official: TestUser;
  let db: pg.Pool;
  let ws: DirectusSubscriber | undefined;
  const run = (): Promise<RecomputeSummary> => runRecompute({ api: directusApi({ url: trm().directusUrl, token: trm().serviceToken }), pool: db, now: () => NOW }, { scope: 'event', id: String(sc.event), reason: 'pushes', requested_by: 'vitest' });
  const pushed = (uid: string, event: string) => ws!.pushed(uid, event) as { id: number; key: string; raw_ms?: number | null; status?: string }[];

  beforeAll(async () => {
    const org = await createOrg('push');
    official = await createUser('Timing official', org.id, 'official');
    sc = await createScenario(adminApi(), { organization: org.id, plannedStartMs: T0, entryCount: 2, maxTimeS: 7200 });
    db = new pg.Pool(pgConfig(trm().directusDatabaseUrl, process.env, { max: 2 }));
    // entry 1: 1 Hz at 20 m/s over the whole stage (start, waypoint, finish); entry 2: no fixes (dns)
    await insertFixes(db, sc.devices[0], straightTrack({ t0: T0, x0: -207.3, x1: 6200, speedMs: 20, periodMs: 1000 }));
    ws = await directusSubscriber(official.accessToken);
    await ws.subscribe('stage_times', ['id', 'key', 'status', 'raw_ms']);
    await ws.subscribe('waypoint_passes', ['id', 'key']);
  });

  afterAll(async () => {
    ws?.close();
    await db?.end();
  });

  test('the snapshot: computed collections without accountability, penalties with', async () => {
    const meta = async (c: string) => (await adminApi().request<{ meta: { accountability: string | null } }>('GET', `/collections/${c}`)).meta.accountability;
    for (const c of ['stage_times', 'waypoint_passes', 'speed_infringements', 'standings']) expect(await meta(c)).toBeNull();
    for (const c of ['penalties', 'position_flags', 'recompute_runs', 'start_orders']) expect(await meta(c)).toBe('all');
  });

  test('a recompute’s creates are pushed to a subscriber, and leave no revision', async () => {
    const summary = await run();
    expect(summary.changed.stage_times.created).toBe(2);
    const key = `${sc.stage}:${sc.entries[0]}`;
    await expect.poll(() => pushed('stage_times', 'create').map((d) => d.key).sort(), POLL).toEqual([key, `${sc.stage}:${sc.entries[1]}`].sort());
    expect(pushed('stage_times', 'create').find((d) => d.key === key)).toMatchObject({ status: 'finished', raw_ms: 300_350 });
    await expect.poll(() => pushed('waypoint_passes', 'create').map((d) => d.key), POLL).toEqual([`${key}:${sc.waypoint}`]);

    const ids = pushed('stage_times', 'create').map((d) => d.id);
    const filter = (collection: string, items: (number | string)[]) => encodeURIComponent(JSON.stringify({ _and: [{ collection: { _eq: collection } }, { item: { _in: items.map(String) } }] }));
    expect(await adminApi().request<unknown[]>('GET', `/revisions?limit=-1&fields=id&filter=${filter('stage_times', ids)}`)).toEqual([]);
    expect(await adminApi().request<unknown[]>('GET', `/activity?limit=-1&fields=id&filter=${filter('stage_times', ids)}`)).toEqual([]);
    // the run itself is audited
    expect(await adminApi().request('GET', `/items/recompute_runs/${summary.runId}`)).toMatchObject({ status: 'done', reason: 'pushes', requested_by: 'vitest' });
  });

  test('a stage_times change is pushed as an update', async () => {
    const key = `${sc.stage}:${sc.entries[0]}`;
    const row = (await adminApi().request<{ id: number }[]>('GET', `/items/stage_times?fields=id&filter=${encodeURIComponent(JSON.stringify({ key: { _eq: key } }))}`))[0];
    // a stored value the recompute does not want: the next run puts it back with an update
    await adminApi().request('PATCH', `/items/stage_times/${row.id}`, { raw_ms: 1 });
    await expect.poll(() => pushed('stage_times', 'update').some((d) => d.id === row.id && d.raw_ms === 1), POLL).toBe(true);
    const summary = await run();
    expect(summary.changed.stage_times).toMatchObject({ created: 0, updated: 1, deleted: 0 });
    await expect.poll(() => pushed('stage_times', 'update').some((d) => d.id === row.id && d.raw_ms === 300_350), POLL).toBe(true);
  });
});
