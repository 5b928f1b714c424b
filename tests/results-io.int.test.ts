/**
 * The bulk result endpoint (directus/extensions/trm-results-io) against the real Directus and
 * Postgres of the run: it writes what Directus's REST batch endpoints would (values, the
 * date/user specials), emits the same action events (a WebSocket subscriber sees the creates,
 * updates and deletes), refuses everyone but the service account (and admins), refuses bad input
 * with a coded 4xx and writes nothing of such a request, and reports a unique violation as
 * Directus's RECORD_NOT_UNIQUE, which the functions' client retries.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DirectusError, type Rest } from '../directus/src/rest.ts';
import { directusApi } from '../functions/src/recompute/directus-api.ts';
import { directusSubscriber, type DirectusSubscriber } from './directus-ws.ts';
import { adminApi, createOrg, createUser, serviceApi, trm, type TestUser } from './directus-client.ts';
import { createScenario, type Scenario } from './recompute-scenario.ts';

const T0 = Date.UTC(2025, 5, 8, 6, 0, 0);
const POLL = { timeout: 20_000, interval: 100 };



/** The status and Directus code of a refused request (fails the test when it succeeds). */
async function refusal(p: Promise<unknown>): Promise<{ status: number; code: unknown; message: string }> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof DirectusError)) throw new Error(`expected a refusal, got ${error === undefined ? 'success' : String(error)}`);
  return { status: error.status, code: error.details?.directusCode, message: error.message };
}

const bulk = (api: Rest, collection: string, body: unknown) => api.request<{ deleted: number[]; updated: number[]; created: number[] }>('POST', `/trm-results-io/${collection}`, body);

describe('trm-results-io: bulk writes of the computed results', () => {
  let sc: Scenario;
  let official: TestUser;
  let ws: DirectusSubscriber | undefined;
  const pushed = (uid: string, event: string) => ws!.pushed(uid, event);
  const rowsOf = (collection: string, keys: string[] | { prefix: string }) =>
    adminApi().request<Record<string, unknown>[]>('GET', `/items/${collection}?limit=-1&sort=key&fields=*&filter=${encodeURIComponent(JSON.stringify({ key: Array.isArray(keys) ? { _in: keys } : { _starts_with: keys.prefix } }))}`);
  const stageTime = (entry: number, extra: Record<string, unknown> = {}) => ({
    key: `${sc.stage}:${entry}`,
    stage: sc.stage,
    entry,
    status: 'finished',
    start_at: new Date(T0).toISOString(),
    finish_at: new Date(T0 + 300_350).toISOString(),
    raw_ms: 300_350,
    neutralised_ms: 0,
    net_ms: 300_350,
    splits: [{ geofence: 1, crossed_at: new Date(T0 + 100_000).toISOString(), elapsed_ms: 100_000, net_elapsed_ms: 100_000 }],
    time_controls: null,
    ...extra,
  });
  const pass = (entry: number, extra: Record<string, unknown> = {}) => ({ key: `${sc.stage}:${entry}:${sc.waypoint}`, stage: sc.stage, entry, waypoint: sc.waypoint, validated: true, passed_at: new Date(T0 + 150_000).toISOString(), distance_m: 12.3, method: 'point', ...extra });

  beforeAll(async () => {
    const org = await createOrg('bulk');
    official = await createUser('Timing official', org.id, 'official');
    sc = await createScenario(adminApi(), { organization: org.id, plannedStartMs: T0, entryCount: 4 });
    ws = await directusSubscriber(official.accessToken);
    await ws.subscribe('stage_times', ['id', 'key', 'status', 'raw_ms']);
    await ws.subscribe('waypoint_passes', ['id', 'key', 'validated', 'distance_m']);
  });

  afterAll(() => {
    ws?.close();
  });

  test('creates store what the REST endpoint stores, set the specials, and are pushed to a subscriber', async () => {
    const rows = [stageTime(sc.entries[0]), stageTime(sc.entries[1], { status: 'running', finish_at: null, raw_ms: null, net_ms: null, splits: [] })];
    const out = await bulk(serviceApi(), 'stage_times', { create: rows });
    expect(out.created).toHaveLength(2);
    expect(out).toMatchObject({ deleted: [], updated: [] });
    const stored = await rowsOf('stage_times', rows.map((r) => r.key));
    expect(stored.map((r) => r.id)).toEqual(out.created);
    expect(stored[0]).toMatchObject({ ...rows[0], excluded: false, penalty_ms: null, user_updated: null, date_updated: null });
    expect(Date.parse(stored[0].start_at as string)).toBe(T0);
    expect(stored[1]).toMatchObject({ status: 'running', finish_at: null, raw_ms: null, splits: [] });
    const service = (await adminApi().request<{ id: string }[]>('GET', `/users?fields=id&filter=${encodeURIComponent(JSON.stringify({ email: { _eq: trm().serviceEmail } }))}`))[0].id;
    for (const r of stored) {
      expect(r.user_created).toBe(service);
      expect(Number.isNaN(Date.parse(r.date_created as string))).toBe(false);
    }
    // the same rows through Directus's own batch endpoint store the same values
    const viaRest = await adminApi().request<Record<string, unknown>[]>('POST', '/items/stage_times?fields=*', [stageTime(sc.entries[2])]);
    const [bulkRow] = await rowsOf('stage_times', [`${sc.stage}:${sc.entries[0]}`]);
    const strip = ({ id: _id, key: _key, entry: _entry, date_created: _d, user_created: _u, ...rest }: Record<string, unknown>) => rest;
    expect(strip(bulkRow)).toEqual(strip(viaRest[0]));

    await expect.poll(() => (pushed('stage_times', 'create') as { key: string }[]).map((d) => d.key).sort(), POLL).toEqual([...rows.map((r) => r.key), `${sc.stage}:${sc.entries[2]}`].sort());
    expect((pushed('stage_times', 'create') as { key: string }[]).find((d) => d.key === rows[0].key)).toMatchObject({ id: out.created[0], status: 'finished', raw_ms: 300_350 });
  });

  test('one request deletes, updates and creates in one transaction; each change is pushed', async () => {
    const [a, b] = (await bulk(serviceApi(), 'waypoint_passes', { create: [pass(sc.entries[0]), pass(sc.entries[1])] })).created;
    await expect.poll(() => (pushed('waypoint_passes', 'create') as { id: number }[]).map((d) => d.id).sort(), POLL).toEqual([a, b].sort());
    const out = await bulk(serviceApi(), 'waypoint_passes', { delete: [a], update: [{ id: b, validated: false, distance_m: 99.5 }], create: [pass(sc.entries[0], { distance_m: 7 })] });
    expect(out).toMatchObject({ deleted: [a], updated: [b] });
    const stored = await rowsOf('waypoint_passes', [pass(sc.entries[0]).key, pass(sc.entries[1]).key]);
    expect(stored.map((r) => [r.id, r.entry, r.validated, r.distance_m])).toEqual([
      [out.created[0], sc.entries[0], true, 7],
      [b, sc.entries[1], false, 99.5],
    ]);
    expect(stored[1].user_updated).toBeTruthy();
    expect(stored[1].date_updated).toBeTruthy();
    await expect.poll(() => pushed('waypoint_passes', 'delete').map(Number), POLL).toEqual([a]);
    await expect.poll(() => (pushed('waypoint_passes', 'update') as { id: number; validated: boolean; distance_m: number }[]).filter((d) => d.id === b), POLL).toEqual([{ id: b, key: pass(sc.entries[1]).key, validated: false, distance_m: 99.5 }]);
    await expect.poll(() => (pushed('waypoint_passes', 'create') as { id: number }[]).some((d) => d.id === out.created[0]), POLL).toBe(true);
  });

  test.each([
    ['a timing official', 'Timing official', 'stage_times'],
    ['an organisation admin', 'Organisation admin', 'waypoint_passes'],
    ['a viewer', 'Viewer', 'speed_infringements'],
  ])('%s (and anyone without a token) is refused (403) and nothing is written', async (_who, role, collection) => {
    const org = await createOrg('bulk-refused');
    const user = await createUser(role, org.id, 'refused');
    const key = `${sc.stage}:${sc.entries[3]}:refused`;
    const body = collection === 'stage_times' ? { create: [stageTime(sc.entries[3], { key })] } : { delete: [1] };
    expect(await refusal(bulk(user.api, collection, body))).toMatchObject({ status: 403, code: 'BULK_ERR_FORBIDDEN' });
    expect(await refusal(bulk(adminApi().withToken(undefined), collection, body))).toMatchObject({ status: 403, code: 'BULK_ERR_FORBIDDEN' });
    expect(await rowsOf('stage_times', [key])).toEqual([]);
  });

  test.each<[string, string, (sc: Scenario) => unknown, number, string, RegExp]>([
    ['an unknown collection', 'penalties', () => ({ create: [{ key: 'x' }] }), 404, 'BULK_ERR_COLLECTION', /not written through this endpoint/],
    ['a collection that does not exist', 'nope', () => ({ delete: [1] }), 404, 'BULK_ERR_COLLECTION', /not written through this endpoint/],
    ['an unknown field', 'waypoint_passes', (s) => ({ create: [{ ...passOf(s, 0), colour: 'red' }] }), 400, 'BULK_ERR_BAD_INPUT', /"colour" is not a writable field/],
    ['a read-only field (the primary key)', 'waypoint_passes', (s) => ({ create: [{ ...passOf(s, 0), id: 1 }] }), 400, 'BULK_ERR_BAD_INPUT', /"id" is not a writable field/],
    ['a managed field', 'waypoint_passes', (s) => ({ create: [{ ...passOf(s, 0), user_created: null }] }), 400, 'BULK_ERR_BAD_INPUT', /"user_created" is not a writable field/],
    ['a string for an integer', 'waypoint_passes', (s) => ({ create: [{ ...passOf(s, 0), entry: String(s.entries[0]) }] }), 400, 'BULK_ERR_BAD_INPUT', /"entry" must be an integer/],
    ['a number for a boolean', 'waypoint_passes', (s) => ({ create: [{ ...passOf(s, 0), validated: 1 }] }), 400, 'BULK_ERR_BAD_INPUT', /"validated" must be a boolean/],
    ['a bad instant', 'waypoint_passes', (s) => ({ create: [{ ...passOf(s, 0), passed_at: 'yesterday' }] }), 400, 'BULK_ERR_BAD_INPUT', /"passed_at" must be a timestamp/],
    ['null for a non-null field', 'waypoint_passes', (s) => ({ create: [{ ...passOf(s, 0), validated: null }] }), 400, 'BULK_ERR_BAD_INPUT', /"validated" cannot be null/],
    ['a missing required field', 'waypoint_passes', (s) => ({ create: [{ ...passOf(s, 0), key: undefined }] }), 400, 'BULK_ERR_BAD_INPUT', /"key" is required/],
    ['an update without id', 'waypoint_passes', () => ({ update: [{ validated: true }] }), 400, 'BULK_ERR_BAD_INPUT', /"id" must be a positive integer/],
    ['a body that is not an object', 'waypoint_passes', () => [1, 2], 400, 'BULK_ERR_BAD_INPUT', /must be an object/],
    ['too many rows', 'waypoint_passes', () => ({ delete: Array.from({ length: 5001 }, (_, i) => i + 1) }), 413, 'BULK_ERR_TOO_MANY_ROWS', /rows in one request; at most 5000/],
    ['an update of an id that does not exist', 'waypoint_passes', () => ({ update: [{ id: 2_000_000_000, validated: true }] }), 404, 'BULK_ERR_NOT_FOUND', /2000000000: not found/],
  ])('%s is refused with a coded error and the request writes nothing', async (_what, collection, body, status, code, message) => {
    // a valid create rides along in the same request: the whole request must be rolled back
    const marker = `${sc.stage}:${sc.entries[3]}:${sc.waypoint}:probe-${code}`;
    const b = body(sc) as Record<string, unknown>;
    const withProbe = Array.isArray(b) ? b : { ...b, create: [...((b.create as unknown[]) ?? []), { ...passOf(sc, 3), key: marker }] };
    const refused = await refusal(bulk(serviceApi(), collection, withProbe));
    expect(refused).toMatchObject({ status, code });
    expect(refused.message).toMatch(message);
    expect(await rowsOf('waypoint_passes', [marker])).toEqual([]);
  });

  test('a unique violation is RECORD_NOT_UNIQUE (retryable for the functions), and the request writes nothing', async () => {
    const taken = pass(sc.entries[2]);
    await bulk(serviceApi(), 'waypoint_passes', { create: [taken] });
    const fresh = pass(sc.entries[3]);
    const refused = await refusal(bulk(serviceApi(), 'waypoint_passes', { create: [fresh, taken] }));
    expect(refused).toMatchObject({ status: 400, code: 'RECORD_NOT_UNIQUE' });
    expect(await rowsOf('waypoint_passes', [fresh.key])).toEqual([]);
    const client = directusApi({ url: trm().directusUrl, token: trm().serviceToken });
    const error = await client.writeResults('waypoint_passes', { create: [taken] }).then(
      () => undefined,
      (e: unknown) => e as { code: string; retryable: boolean; details: Record<string, unknown> },
    );
    expect(error).toMatchObject({ code: 'RECOMPUTE_ERR_DIRECTUS', retryable: true, details: { status: 400, directusCode: 'RECORD_NOT_UNIQUE' } });
  });

  test('the client cuts a large write into requests, deletes first, and gets the created ids in order', async () => {
    // speed_infringements: no subscriber here (a thousand pushes to one would be another test)
    const client = directusApi({ url: trm().directusUrl, token: trm().serviceToken, batchSize: 400 });
    const prefix = `${sc.stage}:${sc.entries[3]}:${sc.zone}:many-`;
    const rows = (distance: (i: number) => number) =>
      Array.from({ length: 1000 }, (_, i) => ({ key: `${prefix}${String(i).padStart(4, '0')}`, stage: sc.stage, entry: sc.entries[3], zone: sc.zone, limit_kmh: 50, over_distance_m: distance(i), evidence: { seq: i, fixes: [] } }));
    const first = await client.writeResults('speed_infringements', { create: rows((i) => i) });
    expect(first.created).toHaveLength(1000);
    let stored = await rowsOf('speed_infringements', { prefix });
    expect(stored.map((r) => [r.id, r.over_distance_m, r.evidence])).toEqual(first.created.map((id, i) => [id, i, { seq: i, fixes: [] }]));
    // delete all and create the same keys again in one call: only correct if the deletes commit first
    const again = await client.writeResults('speed_infringements', { delete: first.created, create: rows((i) => i + 0.5) });
    stored = await rowsOf('speed_infringements', { prefix });
    expect(stored.map((r) => [r.id, r.over_distance_m])).toEqual(again.created.map((id, i) => [id, i + 0.5]));
  });
});

/** A valid waypoint pass of the scenario's entry i (module scope for the test tables). */
function passOf(sc: Scenario, i: number): Record<string, unknown> {
  return { key: `${sc.stage}:${sc.entries[i]}:${sc.waypoint}:t${Math.random().toString(36).slice(2, 8)}`, stage: sc.stage, entry: sc.entries[i], waypoint: sc.waypoint, validated: true, passed_at: new Date(T0 + 150_000).toISOString(), distance_m: 1.5, method: 'point' };
}
