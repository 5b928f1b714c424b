/**
 * Fault runs of the writer: `trm writer` child processes killed with SIGKILL while 200,000
 * records stream in; Postgres (a throwaway cluster of this test's own) crashed and restarted
 * mid-stream. Afterwards the stored (imei, ts) set must equal the sent set exactly.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createPool } from '../../common/src/pg.ts';
import { createTestDatabase, type TestDatabase } from '../../common/src/testing/db.ts';
import { createTestRedis, type TestRedis } from '../../common/src/testing/redis.ts';
import { dbInit } from '../../cli/src/commands/db-init.ts';
import { createThrowawayCluster, type ThrowawayCluster } from './testing/pg-cluster.ts';
import { groupState, recordKey, startTestWriter, storedKeys, syntheticRecord, waitFor, xaddAll } from './testing/harness.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Sends `total` records at about `perSecond`, in chunks; resolves when all are XADDed. */
async function produce(r: TestRedis, total: number, perSecond: number, devices: number): Promise<string[][]> {
  const sent: string[][] = [];
  const chunk = Math.max(1, Math.round(perSecond / 10));
  const started = Date.now();
  for (let i = 0; i < total; i += chunk) {
    const records = Array.from({ length: Math.min(chunk, total - i) }, (_, k) => syntheticRecord(i + k, devices));
    await xaddAll(r.redis, r.keys.positions, records, 1000);
    sent.push(...records);
    const aheadMs = started + ((i + chunk) * 1000) / perSecond - Date.now();
    if (aheadMs > 0) await new Promise((resolve) => setTimeout(resolve, aheadMs));
  }
  return sent;
}

describe('trm writer killed with SIGKILL over and over', () => {
  let db: TestDatabase;
  let r: TestRedis;
  beforeAll(async () => {
    db = await createTestDatabase('writerkill');
    r = await createTestRedis('writerkill');
  });
  afterAll(async () => {
    await r?.cleanup();
    await db?.drop();
  });

  function spawnWriter(): { child: ChildProcess; exited: Promise<number | null>; stderr: () => string } {
    const child = spawn(process.execPath, ['cli/src/main.ts', 'writer'], {
      cwd: repoRoot,
      env: {
        ...process.env,
        DATABASE_URL: db.url,
        REDIS_URL: r.url,
        TRM_REDIS_PREFIX: r.keys.prefix,
        WRITER_ADMIN_PORT: '0',
        WRITER_CLAIM_IDLE_MS: '1000',
        WRITER_BATCH_MAX_ROWS: '2000',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr!.on('data', (b: Buffer) => {
      err = (err + b.toString()).slice(-4000);
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return { child, exited, stderr: () => err };
  }

  test('200,000 records: the stored (imei, ts) set equals the sent set, no duplicates, nothing pending', async () => {
    const count = async () => Number((await db.pool.query('SELECT count(*) AS n FROM positions')).rows[0].n);
    const producing = produce(r, 200_000, 25_000, 500);
    let kills = 0;
    let last = 0;
    let producerDone = false;
    void producing.then(() => (producerDone = true));
    // kill -9 at whatever point the writer is at once it has made progress, six times
    while (kills < 6) {
      const w = spawnWriter();
      const progressed = await waitFor('the writer making progress', async () => {
        const n = await count();
        return n >= last + 10_000 || (producerDone && n === 200_000) ? n : 0;
      }, { timeoutMs: 120_000, intervalMs: 20 });
      w.child.kill('SIGKILL');
      expect(await w.exited).toBe(null);
      kills += 1;
      last = progressed;
      if (progressed === 200_000) break;
    }
    const sent = await producing;
    const final = spawnWriter();
    await waitFor('everything written and acknowledged', async () => {
      const g = await groupState(r.redis, r.keys.positions);
      return g.pending === 0 && g.lag === 0 && (await count()) === 200_000;
    }, { timeoutMs: 180_000, intervalMs: 100 });
    // SIGTERM drains and exits 0
    final.child.kill('SIGTERM');
    expect(await final.exited, final.stderr()).toBe(0);

    expect(kills).toBeGreaterThanOrEqual(3);
    const stored = await storedKeys((q) => db.pool.query(q));
    expect(stored.rows).toBe(200_000);
    expect(stored.keys.size).toBe(200_000);
    const expected = new Set(sent.map(recordKey));
    expect(expected.size).toBe(200_000);
    for (const k of expected) if (!stored.keys.has(k)) throw new Error(`missing ${k}`);
    expect(await r.redis.xlen(r.keys.positionsDead)).toBe(0);
  });
});

describe('Postgres crashed and restarted mid-stream', () => {
  let cluster: ThrowawayCluster;
  let r: TestRedis;
  beforeAll(async () => {
    cluster = await createThrowawayCluster('writer-restart');
    await cluster.start();
    await dbInit(cluster.url('trm'), { ...process.env, PGUSER: 'postgres' }, () => {}, { provision: false });
    r = await createTestRedis('writerpg');
  });
  afterAll(async () => {
    await r?.cleanup();
    await cluster?.destroy();
  });

  test('the writer holds its batch (pending, not acknowledged), retries, and resumes without loss', async () => {
    const url = cluster.url('trm');
    const pool = createPool(url, process.env, { max: 2 });
    pool.on('error', () => {});
    const count = async () => Number((await pool.query('SELECT count(*) AS n FROM positions')).rows[0].n);
    const w = startTestWriter({ databaseUrl: url, redisUrl: r.url, keys: r.keys, consumer: 'w-restart', overrides: { retryMaxMs: 300 } });
    try {
      const producing = produce(r, 40_000, 8000, 200);
      await waitFor('rows before the crash', async () => (await count()) >= 5000, { timeoutMs: 60_000 });
      await cluster.stop('immediate');
      const retriesBefore = w.writer.metrics.retries.get();
      await waitFor('the writer retrying', () => w.writer.metrics.retries.get() >= retriesBefore + 3, { timeoutMs: 60_000 });
      await w.writer.monitor();
      expect(w.writer.health()).toMatchObject({ ok: false, db: 'failing' });
      const held = await groupState(r.redis, r.keys.positions);
      expect(held.pending).toBeGreaterThan(0); // not acknowledged: nothing was committed
      await cluster.start();
      const sent = await producing;
      await waitFor('everything written and acknowledged', async () => {
        const g = await groupState(r.redis, r.keys.positions);
        return g.pending === 0 && g.lag === 0 && (await count()) === sent.length;
      }, { timeoutMs: 120_000, intervalMs: 100 });
      const stored = await storedKeys((q) => pool.query(q));
      expect(stored.rows).toBe(40_000);
      expect(stored.keys).toEqual(new Set(sent.map(recordKey)));
      await w.writer.monitor();
      expect(w.writer.health()).toMatchObject({ ok: true, db: 'up' });
    } finally {
      await w.close();
      await pool.end();
    }
  });
});
