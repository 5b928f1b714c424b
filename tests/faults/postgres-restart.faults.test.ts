/**
 * Scenario 3 of issue 12 on the whole chain: simulated devices → `trm ingest` → Redis (own
 * prefix) → `trm writer` → a throwaway Postgres cluster on a free port (never the shared 5432),
 * which is crashed (`pg_ctl -m immediate`, WAL recovery on start) and then shut down cleanly
 * (`-m fast`) while the devices send, each time down for FAULTS_PG_DOWN_MS (4000). Ingestion
 * carries on (the stream buffers), the writer holds its batch and retries; afterwards stored =
 * sent and the stage recomputed over the cluster's positions equals a clean run.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createPool } from '../../common/src/pg.ts';
import { createTestRedis, type TestRedis } from '../../common/src/testing/redis.ts';
import { dbInit } from '../../cli/src/commands/db-init.ts';
import { createThrowawayCluster, type ThrowawayCluster } from '../../db-writer/src/testing/pg-cluster.ts';
import { groupState } from '../../db-writer/src/testing/harness.ts';
import { adminApi, trm } from '../directus-client.ts';
import { compareSets, DeviceFleet, figures, freePort, knob, seconds, sleep, spawnService, storedKeys, waitFor, waitTcp, type Service } from './support.ts';
import { checkTiming, createTimingCourse, type TimingCourse } from './timing.ts';

const DOWN_MS = knob('FAULTS_PG_DOWN_MS', 4000);

describe('Postgres crashed and restarted under the running chain', () => {
  let cluster: ThrowawayCluster;
  let r: TestRedis;
  let course: TimingCourse;
  let fleet: DeviceFleet | undefined;
  const services: Service[] = [];

  beforeAll(async () => {
    cluster = await createThrowawayCluster('faults-pg');
    await cluster.start();
    await dbInit(cluster.url('trm'), { ...process.env, PGUSER: 'postgres' }, () => {}, { provision: false });
    r = await createTestRedis('faultspg');
    course = await createTimingCourse(adminApi(), 30);
  });
  afterAll(async () => {
    fleet?.stop();
    for (const s of services) await s.kill9();
    await r?.cleanup();
    await cluster?.destroy();
  });

  test('ingestion carries on, the writer resumes, stored = sent, timing equals a clean run', async () => {
    const url = cluster.url('trm');
    const pool = createPool(url, process.env, { max: 2 });
    pool.on('error', () => {});
    const ingestPort = await freePort();
    const common = { REDIS_URL: r.url, TRM_REDIS_PREFIX: r.keys.prefix };
    const ing = spawnService('ingest', { ...common, INGEST_PORT: String(ingestPort), INGEST_ADMIN_PORT: '0', INGEST_ACCEPT: 'any', INGEST_INSTANCE_ID: 'faults-pg' });
    const wr = spawnService('writer', { ...common, DATABASE_URL: url, PGUSER: 'postgres', WRITER_ADMIN_PORT: '0', WRITER_CONSUMER: 'faults-pg-writer', WRITER_RETRY_MAX_MS: '500', WRITER_BATCH_MAX_ROWS: '1000' });
    services.push(ing, wr);
    await waitTcp(ingestPort);
    try {
      fleet = new DeviceFleet({ port: ingestPort, records: course.records, perTick: 2, tickMs: 50 });
      const total = fleet.total;
      const count = async () => Number((await pool.query('SELECT count(*) AS n FROM positions')).rows[0].n);
      const outages: { mode: string; ackedWhileDown: number; pendingWhileDown: number; recoverS: number }[] = [];
      for (const [i, mode] of (['immediate', 'fast'] as const).entries()) {
        await waitFor('rows stored', async () => (await count()) >= (total * (i + 1)) / 3, { timeoutMs: 120_000 });
        await cluster.stop(mode);
        const ackedAtStop = fleet.acked;
        await sleep(DOWN_MS);
        const ackedWhileDown = fleet.acked - ackedAtStop;
        const held = await groupState(r.redis, r.keys.positions);
        await cluster.start();
        const startedAt = Date.now();
        const before = await waitFor('Postgres answering', () => count().catch(() => 0), { timeoutMs: 30_000 }).catch(() => 0);
        await waitFor('the writer committing again', async () => (await count()) > before, { timeoutMs: 60_000 });
        outages.push({ mode, ackedWhileDown, pendingWhileDown: held.pending + (held.lag ?? 0), recoverS: seconds(Date.now() - startedAt) });
      }
      await waitFor('every record ACKed', () => fleet!.done(), { timeoutMs: 180_000, intervalMs: 100 });
      await waitFor('everything written and acknowledged', async () => {
        const g = await groupState(r.redis, r.keys.positions);
        return g.pending === 0 && g.lag === 0;
      }, { timeoutMs: 120_000, intervalMs: 100 });
      fleet.stop();
      expect(await wr.stop()).toBe(0);
      expect(await ing.stop()).toBe(0);

      const sent = fleet.sentKeys();
      const stored = await storedKeys(pool);
      const diff = compareSets(sent, stored);
      const timing = await checkTiming({ directusUrl: trm().directusUrl, serviceToken: trm().serviceToken, admin: adminApi(), pipeline: pool, course });
      figures('postgres-restart', { devices: course.sc.devices.length, sent: sent.size, stored: stored.rows, ...diff, downS: seconds(DOWN_MS), outages, deadLetters: await r.redis.xlen(r.keys.positionsDead), timing });
      // ingestion does not depend on Postgres: devices kept getting ACKs while it was down
      for (const o of outages) expect(o.ackedWhileDown).toBeGreaterThan(0);
      expect(diff).toEqual({ missing: 0, extra: 0, duplicates: 0 });
      expect(await r.redis.xlen(r.keys.positionsDead)).toBe(0);
      expect(timing.finished).toBe(timing.entries);
      expect(timing.changesVsClean).toBe(0);
    } finally {
      await pool.end();
    }
  });
});
