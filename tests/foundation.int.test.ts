/**
 * Issue 2 "done when": through Directus REST with real users, an organisation-A operator reads
 * A's events and gets 403 for B's; a viewer cannot write; schema apply refuses a snapshot that
 * would drop a collection holding rows; db:init twice is a no-op; a tampered applied migration
 * is refused.
 */
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { pgConfig } from '../common/src/pg.ts';
import { createTestDatabase, type TestDatabase } from '../common/src/testing/db.ts';
import { migrate, readMigrations } from '../cli/src/db/migrate.ts';
import { applySnapshot, readSnapshot, type Snapshot } from '../directus/src/schema.ts';
import { adminApi, createOrg, createUser, trm, type TestOrg, type TestUser } from './directus-client.ts';

const repo = join(import.meta.dirname, '..');

describe('row-level permissions by organisation', () => {
  let orgA: TestOrg;
  let orgB: TestOrg;
  let eventA: number;
  let eventB: number;
  let operatorA: TestUser;
  let viewerA: TestUser;

  beforeAll(async () => {
    orgA = await createOrg('a');
    orgB = await createOrg('b');
    const admin = adminApi();
    eventA = (await admin.request<{ id: number }>('POST', '/items/events', { organization: orgA.id, name: 'Rally A' })).id;
    eventB = (await admin.request<{ id: number }>('POST', '/items/events', { organization: orgB.id, name: 'Rally B' })).id;
    await admin.request('POST', '/items/devices', [{ imei: `35${Date.now()}`.slice(0, 15), organization: orgA.id }]);
    operatorA = await createUser('Timing official', orgA.id, 'op-a');
    viewerA = await createUser('Viewer', orgA.id, 'viewer-a');
  });

  test("an organisation-A operator reads A's event", async () => {
    const event = await operatorA.api.request<{ id: number; name: string }>('GET', `/items/events/${eventA}`);
    expect(event).toMatchObject({ id: eventA, name: 'Rally A' });
  });

  test("an organisation-A operator gets 403 for B's event", async () => {
    await expect(operatorA.api.request('GET', `/items/events/${eventB}`)).rejects.toMatchObject({ status: 403 });
  });

  test('listing events returns only the own organisation', async () => {
    const events = await operatorA.api.request<{ id: number; organization: string }[]>('GET', '/items/events?limit=-1');
    expect(events.map((e) => e.id)).toContain(eventA);
    expect(events.every((e) => e.organization === orgA.id)).toBe(true);
  });

  test('nested collections are scoped through their event', async () => {
    const admin = adminApi();
    const stageB = await admin.request<{ id: number }>('POST', '/items/stages', { event: eventB, code: 'SS1', sequence: 1 });
    const stageA = await admin.request<{ id: number }>('POST', '/items/stages', { event: eventA, code: 'SS1', sequence: 1 });
    await expect(operatorA.api.request('GET', `/items/stages/${stageA.id}`)).resolves.toMatchObject({ id: stageA.id });
    await expect(operatorA.api.request('GET', `/items/stages/${stageB.id}`)).rejects.toMatchObject({ status: 403 });
  });

  test('a viewer cannot write', async () => {
    await expect(viewerA.api.request('POST', '/items/events', { organization: orgA.id, name: 'nope' })).rejects.toMatchObject({ status: 403 });
    await expect(viewerA.api.request('PATCH', `/items/events/${eventA}`, { name: 'renamed' })).rejects.toMatchObject({ status: 403 });
    await expect(viewerA.api.request('DELETE', `/items/events/${eventA}`)).rejects.toMatchObject({ status: 403 });
    const event = await adminApi().request<{ name: string }>('GET', `/items/events/${eventA}`);
    expect(event.name).toBe('Rally A');
  });

  test('computed results are read-only for people, even an organisation admin (they correct inputs, not results)', async () => {
    const admin = adminApi();
    const orgAdmin = await createUser('Organisation admin', orgA.id, 'org-admin-a');
    const stage = await admin.request<{ id: number }>('POST', '/items/stages', { event: eventA, code: 'SS9', sequence: 9 });
    const entry = await admin.request<{ id: number }>('POST', '/items/entries', { event: eventA, number: 9 });
    const row = await admin.request<{ id: number }>('POST', '/items/stage_times', { key: `${stage.id}:${entry.id}`, stage: stage.id, entry: entry.id, status: 'finished', raw_ms: 1000 });
    await expect(orgAdmin.api.request('GET', `/items/stage_times/${row.id}`)).resolves.toMatchObject({ raw_ms: 1000 });
    await expect(orgAdmin.api.request('PATCH', `/items/stage_times/${row.id}`, { raw_ms: 1 })).rejects.toMatchObject({ status: 403 });
    // the organisation admin still manages the course
    await expect(orgAdmin.api.request('PATCH', `/items/stages/${stage.id}`, { name: 'renamed by the org admin' })).resolves.toMatchObject({ name: 'renamed by the org admin' });
  });

  test('positions is registered and browsable by an operator', async () => {
    const rows = await operatorA.api.request<unknown[]>('GET', '/items/positions?limit=5&sort=-ts');
    expect(Array.isArray(rows)).toBe(true);
    const fields = await adminApi().request<{ field: string }[]>('GET', '/fields/positions');
    expect(fields.map((f) => f.field)).toEqual(expect.arrayContaining(['imei', 'ts', 'lat', 'lon', 'faulty']));
  });

  test('without a token nothing private is readable', async () => {
    const res = await fetch(`${trm().directusUrl}/items/events/${eventA}`);
    expect(res.status).toBe(403);
  });
});

describe('schema apply refuses data loss', () => {
  let snapshot: Snapshot;
  let db: pg.Client;

  beforeAll(async () => {
    snapshot = await readSnapshot(join(repo, 'snapshots', 'schema.yaml'));
    db = new pg.Client(pgConfig(trm().directusDatabaseUrl, process.env));
    await db.connect();
  });
  afterAll(async () => {
    await db.end();
  });

  test('the committed snapshot matches the running schema (nothing to apply)', async () => {
    const report = await applySnapshot({ api: adminApi(), db, snapshot, mode: 'dry-run' });
    expect(report.changes).toEqual([]);
  });

  test('a snapshot that would drop a collection holding rows is refused, in every mode', async () => {
    const admin = adminApi();
    const name = `scratch_${Date.now()}`;
    await admin.request('POST', '/collections', { collection: name, meta: {}, schema: {}, fields: [{ field: 'id', type: 'integer', meta: {}, schema: { is_primary_key: true, has_auto_increment: true } }, { field: 'note', type: 'string', meta: {}, schema: {} }] });
    await admin.request('POST', `/items/${name}`, { note: 'precious' });
    for (const mode of ['dry-run', 'auto'] as const) {
      await expect(applySnapshot({ api: admin, db, snapshot, mode })).rejects.toMatchObject({ code: 'SCHEMA_ERR_DATA_LOSS' });
    }
    const rows = await admin.request<{ note: string }[]>('GET', `/items/${name}`);
    expect(rows.map((r) => r.note)).toEqual(['precious']);
    // with the explicit override a dry-run reports the drop instead of refusing
    const report = await applySnapshot({ api: admin, db, snapshot, mode: 'dry-run', allowDataLoss: true });
    expect(report.refused).toEqual([expect.objectContaining({ target: 'collection', name, rowsAtRisk: 1 })]);
    await admin.request('DELETE', `/collections/${name}`);
  });

  test('a snapshot that would drop a field holding values is refused', async () => {
    const admin = adminApi();
    const org = await createOrg('f');
    await admin.request('POST', '/items/events', { organization: org.id, name: 'with slug', slug: 'kept' });
    const without = { ...snapshot, fields: snapshot.fields.filter((f) => !(f.collection === 'events' && f.field === 'slug')) };
    await expect(applySnapshot({ api: admin, db, snapshot: without, mode: 'auto' })).rejects.toMatchObject({ code: 'SCHEMA_ERR_DATA_LOSS' });
    const fields = await admin.request<{ field: string }[]>('GET', '/fields/events');
    expect(fields.map((f) => f.field)).toContain('slug');
  });
});

describe('db:init', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('dbinit');
  });
  afterAll(async () => {
    await db.drop();
  });

  test('running it twice is a no-op', async () => {
    const client = await db.pool.connect();
    try {
      const files = await readMigrations(join(repo, 'db-init'));
      const report = await migrate(client, files);
      expect(report.applied).toEqual([]);
      expect(report.skipped).toEqual(files.map((f) => f.name));
      const { rows } = await client.query('SELECT count(*)::int AS n FROM migrations_applied');
      expect(rows[0].n).toBe(files.length);
    } finally {
      client.release();
    }
  });

  test('an applied migration whose file changed stops the run', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'trm-dbinit-'));
    await cp(join(repo, 'db-init'), dir, { recursive: true });
    const file = join(dir, '002_positions.sql');
    await writeFile(file, `${await readFile(file, 'utf8')}\n-- tampered\n`);
    const client = await db.pool.connect();
    try {
      await expect(migrate(client, await readMigrations(dir))).rejects.toMatchObject({ code: 'DBINIT_ERR_CHECKSUM' });
    } finally {
      client.release();
    }
  });

  test('positions deduplicates on (imei, ts) and routes rows to daily children', async () => {
    await db.pool.query(`INSERT INTO positions (imei, ts, lat, lon) VALUES ('356307042441013', '2026-06-01T10:00:00.123Z', 41.3, 19.8), ('356307042441013', '2026-06-01T10:00:00.123Z', 41.3, 19.8), ('356307042441013', '2019-06-01T10:00:00Z', 41.3, 19.8) ON CONFLICT (imei, ts) DO NOTHING`);
    const { rows } = await db.pool.query<{ n: number; tables: string[] }>(`SELECT count(*)::int AS n, array_agg(DISTINCT tableoid::regclass::text ORDER BY tableoid::regclass::text) AS tables FROM positions`);
    expect(rows[0]).toEqual({ n: 2, tables: ['positions_20190601', 'positions_20260601'] });
  });
});
