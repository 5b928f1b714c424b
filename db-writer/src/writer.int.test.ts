/**
 * The writer against real Redis and Postgres, in-process (the child-process kill -9 and
 * Postgres-restart runs are in writer.faults.test.ts).
 */
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { startAdminServer } from '../../common/src/admin-server.ts';
import { pgConfig, quoteIdent, withDatabase } from '../../common/src/pg.ts';
import { createTestDatabase, type TestDatabase } from '../../common/src/testing/db.ts';
import { createTestRedis, type TestRedis } from '../../common/src/testing/redis.ts';
import { SQL_MODES } from './config.ts';
import { GROUP } from './stream.ts';
import { groupState, recordKey, startTestWriter, storedKeys, syntheticRecord, waitFor, xaddAll, type TestWriter } from './testing/harness.ts';

let db: TestDatabase;
let r: TestRedis;
const writers: TestWriter[] = [];

beforeAll(async () => {
  db = await createTestDatabase('writer');
});
afterAll(async () => {
  await db?.drop();
});
beforeEach(async () => {
  await db.pool.query('TRUNCATE positions');
  r = await createTestRedis('writer');
});
afterEach(async () => {
  await Promise.all(writers.splice(0).map((w) => w.close()));
  await r.cleanup();
});

function start(consumer: string, extra: Omit<Parameters<typeof startTestWriter>[0], 'databaseUrl' | 'redisUrl' | 'keys' | 'consumer'> = {}): TestWriter {
  const w = startTestWriter({ databaseUrl: db.url, redisUrl: r.url, keys: r.keys, consumer, ...extra });
  writers.push(w);
  return w;
}

const records = (n: number, from = 0, devices = 100) => Array.from({ length: n }, (_, i) => syntheticRecord(from + i, devices));
const rowCount = async () => Number((await db.pool.query('SELECT count(*) AS n FROM positions')).rows[0].n);
const drained = async () => {
  const g = await groupState(r.redis, r.keys.positions);
  return g.pending === 0 && g.lag === 0;
};
async function committedEntries(): Promise<{ windows: { imei: string; from: number; to: number; count: number }[]; rows: number; inserted: number }[]> {
  const entries = (await r.redis.xrange(r.keys.positionsCommitted, '-', '+')) as [string, string[]][];
  return entries.map(([, f]) => {
    const m = new Map<string, string>();
    for (let i = 0; i < f.length; i += 2) m.set(f[i], f[i + 1]);
    return { windows: JSON.parse(m.get('windows')!), rows: Number(m.get('rows')), inserted: Number(m.get('inserted')) };
  });
}

describe.each(SQL_MODES)('sql mode %s', (sql) => {
  test('every record is stored once with its fields; redeliveries are no-ops; windows are published', async () => {
    const sent = records(2000);
    await xaddAll(r.redis, r.keys.positions, sent);
    await xaddAll(r.redis, r.keys.positions, sent.slice(0, 100)); // at-least-once: the same fixes again
    start('w1', { sql });

    await waitFor('stream drained', drained);
    const stored = await storedKeys((q) => db.pool.query(q));
    expect(stored.rows).toBe(2000);
    expect(stored.keys).toEqual(new Set(sent.map(recordKey)));

    const { rows } = await db.pool.query(`SELECT imei, (extract(epoch FROM ts) * 1000)::bigint AS ts_ms, lat, lon, alt, speed, heading, sats, priority, event_io, io, fix, faulty,
      (extract(epoch FROM rx) * 1000)::bigint AS rx_ms, src FROM positions WHERE imei = '356307040000007' ORDER BY ts LIMIT 1 OFFSET 3`);
    const f = syntheticRecord(307, 100);
    const field = (k: string) => f[f.indexOf(k) + 1];
    expect(rows[0]).toEqual({
      imei: field('imei'), ts_ms: field('ts'), lat: Number(field('lat')), lon: Number(field('lon')), alt: Number(field('alt')), speed: Number(field('speed')),
      heading: Number(field('heading')), sats: 11, priority: 0, event_io: 0, io: JSON.parse(field('io')), fix: true, faulty: false, rx_ms: field('rx'), src: 'test-ingest',
    });

    await waitFor('committed entries published', async () => (await committedEntries()).reduce((n, e) => n + e.rows, 0) === 2100);
    const committed = await committedEntries();
    expect(committed.reduce((n, e) => n + e.inserted, 0)).toBe(2000);
    const perDevice = new Map<string, { from: number; to: number; count: number }>();
    for (const w of committed.flatMap((e) => e.windows)) {
      const p = perDevice.get(w.imei) ?? { from: Infinity, to: -Infinity, count: 0 };
      perDevice.set(w.imei, { from: Math.min(p.from, w.from), to: Math.max(p.to, w.to), count: p.count + w.count });
    }
    expect(perDevice.size).toBe(100);
    expect(perDevice.get('356307040000000')).toEqual({ from: Number(syntheticRecord(0)[3]), to: Number(syntheticRecord(1900)[3]), count: 21 });
  });

  test('a row Postgres rejects is dead-lettered alone; the rest of its batch commits', async () => {
    const sent = records(300);
    const poison = syntheticRecord(300);
    poison[poison.indexOf('io') + 1] = '{"text":"\\u0000"}'; // valid JSON, but jsonb refuses NUL (22P05)
    await xaddAll(r.redis, r.keys.positions, [...sent.slice(0, 150), poison, ...sent.slice(150)]);
    start('w1', { sql });
    await waitFor('stream drained', drained);
    expect(await rowCount()).toBe(300);
    const dead = (await r.redis.xrange(r.keys.positionsDead, '-', '+')) as [string, string[]][];
    expect(dead).toHaveLength(1);
    const m = Object.fromEntries(dead[0][1].flatMap((v, i, a) => (i % 2 === 0 ? [[v, a[i + 1]]] : [])));
    expect(m.reason).toMatch(/^rejected by Postgres \(22P05\)/);
    expect(JSON.parse(m.fields).io).toBe('{"text":"\\u0000"}');
  });
});

test('malformed entries are dead-lettered with reason and raw fields and never block the group', async () => {
  const good = records(1000);
  const bad: string[][] = [
    ['ts', '1717243200000', 'lat', '1', 'lon', '2'],
    [...syntheticRecord(5000)].map((v, i, a) => (a[i - 1] === 'lat' ? '91' : v)),
    [...syntheticRecord(5001)].map((v, i, a) => (a[i - 1] === 'ts' ? 'soon' : v)),
    ['imei', '356307040000001', 'ts', '1717243200000', 'lat', '41'],
    ['garbage', 'only'],
  ];
  const mixed = [...good.slice(0, 300), bad[0], bad[1], ...good.slice(300, 700), bad[2], bad[3], ...good.slice(700), bad[4]];
  await xaddAll(r.redis, r.keys.positions, mixed);
  const w = start('w1');
  await waitFor('stream drained', drained);
  expect(await rowCount()).toBe(1000);
  const dead = (await r.redis.xrange(r.keys.positionsDead, '-', '+')) as [string, string[]][];
  // batches are written two at a time, so dead letters arrive in batch-completion order
  const streamOrder = (id: string) => id.split('-').map(Number);
  const letters = dead
    .map(([, f]) => Object.fromEntries(f.flatMap((v, i, a) => (i % 2 === 0 ? [[v, a[i + 1]]] : []))) as Record<string, string>)
    .sort((a, b) => streamOrder(a.id)[0] - streamOrder(b.id)[0] || streamOrder(a.id)[1] - streamOrder(b.id)[1]);
  expect(letters.map((l) => l.reason)).toEqual(['missing imei', 'invalid lat', 'invalid ts (not an integer of ms)', 'missing lon', 'missing imei']);
  expect(JSON.parse(letters[4].fields)).toEqual({ garbage: 'only' });
  expect(letters.every((l) => /^\d+-\d+$/.test(l.id) && l.consumer === 'w1')).toBe(true);
  expect(w.writer.metrics.deadLetters.get()).toBe(5);
});

test('two writers in the group share the work', async () => {
  const a = start('w-a');
  const b = start('w-b');
  const sent = records(20_000, 0, 200);
  for (let i = 0; i < sent.length; i += 2000) await xaddAll(r.redis, r.keys.positions, sent.slice(i, i + 2000));
  await waitFor('stream drained', drained);
  const stored = await storedKeys((q) => db.pool.query(q));
  expect(stored.rows).toBe(20_000);
  expect(stored.keys).toEqual(new Set(sent.map(recordKey)));
  expect(a.writer.metrics.rows.get()).toBeGreaterThan(0);
  expect(b.writer.metrics.rows.get()).toBeGreaterThan(0);
  expect(a.writer.metrics.rows.get() + b.writer.metrics.rows.get()).toBe(20_000);
});

test('XACK only after COMMIT: while the table is locked, entries stay pending and nothing new is read', async () => {
  const locker = new pg.Client(pgConfig(db.url, process.env));
  await locker.connect();
  try {
    await xaddAll(r.redis, r.keys.positions, records(10)); // first batch: partitions ensured, statements prepared
    start('w1');
    await waitFor('first batch', drained);
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE positions IN ACCESS EXCLUSIVE MODE');
    await xaddAll(r.redis, r.keys.positions, records(3000, 10));
    const held = await waitFor('writer holding a batch', async () => {
      const g = await groupState(r.redis, r.keys.positions);
      return g.pending >= 500 && g.pending + (g.lag ?? 0) === 3000 ? g : null;
    });
    // batches of 500: two being written (blocked on the lock), at most one filled ahead
    expect(held.pending).toBeLessThanOrEqual(1500);
    expect(Number((await locker.query('SELECT count(*) AS n FROM positions')).rows[0].n)).toBe(10);
    await locker.query('COMMIT');
    await waitFor('stream drained', drained);
    expect(await rowCount()).toBe(3010);
  } finally {
    await locker.end();
  }
});

test('while Postgres refuses connections the batch is retried with backoff, nothing new is read, and it resumes without loss', async () => {
  await xaddAll(r.redis, r.keys.positions, records(10));
  const w = start('w1');
  await waitFor('first batch', drained);
  const admin = new pg.Client(pgConfig(withDatabase(db.url, 'postgres'), process.env));
  await admin.connect();
  // the database goes away for the writer: no new connections, its open ones are killed
  await admin.query(`ALTER DATABASE ${quoteIdent(db.name)} ALLOW_CONNECTIONS false`);
  try {
    await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name LIKE 'trm writer test%'`, [db.name]);
    await xaddAll(r.redis, r.keys.positions, records(2000, 10));
    await waitFor('retries', () => w.writer.metrics.retries.get() >= 3);
    await w.writer.monitor();
    expect(w.writer.health()).toMatchObject({ ok: false, status: 'degraded', db: 'failing' });
    // batches of 500: two being retried plus one filled ahead; the rest stays unread
    const g = await groupState(r.redis, r.keys.positions);
    expect(g.pending).toBeGreaterThan(0);
    expect(g.pending).toBeLessThanOrEqual(1500);
    expect(g.pending + (g.lag ?? 0)).toBe(2000);
  } finally {
    await admin.query(`ALTER DATABASE ${quoteIdent(db.name)} ALLOW_CONNECTIONS true`);
    await admin.end();
  }
  await waitFor('stream drained', drained);
  expect(await rowCount()).toBe(2010);
  await w.writer.monitor();
  expect(w.writer.health()).toMatchObject({ ok: true, db: 'up' });
});

test("a dead consumer's pending entries are claimed after the idle time", async () => {
  await r.redis.call('XGROUP', 'CREATE', r.keys.positions, GROUP, '0', 'MKSTREAM');
  await xaddAll(r.redis, r.keys.positions, records(700));
  // a writer that read and died before COMMIT
  await r.redis.call('XREADGROUP', 'GROUP', GROUP, 'ghost', 'COUNT', 700, 'STREAMS', r.keys.positions, '>');
  expect((await groupState(r.redis, r.keys.positions)).pending).toBe(700);
  const w = start('w1', { overrides: { claimIdleMs: 200 } });
  await waitFor('stream drained', drained);
  expect(await rowCount()).toBe(700);
  expect(w.writer.metrics.claimed.get()).toBe(700);
});

test('a writer restarted under the same consumer name resumes its own pending entries first', async () => {
  await r.redis.call('XGROUP', 'CREATE', r.keys.positions, GROUP, '0', 'MKSTREAM');
  await xaddAll(r.redis, r.keys.positions, records(1200));
  await r.redis.call('XREADGROUP', 'GROUP', GROUP, 'w-fixed', 'COUNT', 1200, 'STREAMS', r.keys.positions, '>');
  const w = start('w-fixed'); // claimIdleMs is 60 s: only the resume can pick these up
  await waitFor('stream drained', drained);
  expect(await rowCount()).toBe(1200);
  expect(w.writer.metrics.claimed.get()).toBe(0);
});

test('partitions are created for the days a batch touches', async () => {
  const old = Date.UTC(2003, 2, 3, 12);
  await xaddAll(r.redis, r.keys.positions, [syntheticRecord(0, 1, old), syntheticRecord(1, 1, Date.UTC(2031, 0, 1))]);
  start('w1');
  await waitFor('stream drained', drained);
  expect(await rowCount()).toBe(2);
  const { rows } = await db.pool.query(`SELECT to_regclass('positions_20030303') IS NOT NULL AS a, to_regclass('positions_20310101') IS NOT NULL AS b`);
  expect(rows[0]).toEqual({ a: true, b: true });
});

test('a backlog approaching the stream cap degrades /healthz and shows in /metrics', async () => {
  const locker = new pg.Client(pgConfig(db.url, process.env));
  await locker.connect();
  await xaddAll(r.redis, r.keys.positions, records(10));
  const w = start('w1', { overrides: { streamMaxLen: 1000, lagWarnPercent: 50 } });
  const admin = await startAdminServer({ port: 0, registry: w.writer.metrics.registry, health: () => w.writer.health() });
  try {
    await waitFor('first batch', drained);
    const healthy = await fetch(`http://127.0.0.1:${admin.port}/healthz`);
    expect(healthy.status).toBe(200);
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE positions IN ACCESS EXCLUSIVE MODE');
    await xaddAll(r.redis, r.keys.positions, records(600, 10));
    const res = await waitFor('degraded', async () => {
      const h = await fetch(`http://127.0.0.1:${admin.port}/healthz`);
      return h.status === 503 ? h : null;
    });
    expect(await res.json()).toMatchObject({ ok: false, status: 'degraded', db: 'up', capEntries: 1000 });
    const metrics = await (await fetch(`http://127.0.0.1:${admin.port}/metrics`)).text();
    expect(metrics).toMatch(/^trm_writer_degraded 1$/m);
    expect(Number(/^trm_writer_backlog_ratio (\S+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(0.5);
    for (const name of ['lag', 'pending', 'rows_total', 'rows_per_second', 'batch_rows_bucket', 'commit_seconds_bucket', 'retries_total', 'dead_letters_total']) {
      expect(metrics).toContain(`trm_writer_${name}`);
    }
    await locker.query('COMMIT');
    await waitFor('healthy again', async () => (await fetch(`http://127.0.0.1:${admin.port}/healthz`)).status === 200);
    expect(await rowCount()).toBe(610);
  } finally {
    await admin.close();
    await locker.end();
  }
});
