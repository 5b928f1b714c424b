/**
 * Scenario 4 of issue 12: Redis killed with SIGKILL mid-stream and restarted from its
 * append-only file. A throwaway `redis-server --appendonly yes --appendfsync always` on a free
 * port (never the shared 6379); `trm ingest` and `trm writer` child processes against it;
 * simulated devices driving a stage.
 *
 * The guarantee under test: the ingest daemon ACKs a frame only after Redis answered its XADDs,
 * and with `appendfsync always` Redis answers a write only after it is in the AOF and fsynced.
 * So every record a device saw ACKed before the kill must be in the stream Redis reloads, and
 * in the end everything sent is stored once (what was not ACKed is resent by the devices).
 *
 * FAULTS_REDIS_KILLS (2) and FAULTS_REDIS_DOWN_MS (3000) size the run.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createRedis, type Redis } from '../../common/src/redis.ts';
import { redisKeys } from '../../common/src/redis-keys.ts';
import { createTestDatabase, type TestDatabase } from '../../common/src/testing/db.ts';
import { groupState } from '../../db-writer/src/testing/harness.ts';
import { adminApi, trm } from '../directus-client.ts';
import { AofRedis, compareSets, DeviceFleet, figures, freePort, keyOf, knob, seconds, sleep, spawnService, storedKeys, waitFor, waitTcp, type Service } from './support.ts';
import { checkTiming, createTimingCourse, type TimingCourse } from './timing.ts';

const KILLS = knob('FAULTS_REDIS_KILLS', 2);
const DOWN_MS = knob('FAULTS_REDIS_DOWN_MS', 3000);

/** (imei, ts) of every entry of the stream */
async function streamKeys(redis: Redis, stream: string): Promise<{ keys: Set<string>; entries: number }> {
  const keys = new Set<string>();
  let entries = 0;
  let start = '-';
  for (;;) {
    const batch = (await redis.xrange(stream, start, '+', 'COUNT', 5000)) as [string, string[]][];
    for (const [, f] of batch) {
      entries++;
      keys.add(keyOf(f[f.indexOf('imei') + 1], Number(f[f.indexOf('ts') + 1])));
    }
    if (batch.length < 5000) return { keys, entries };
    start = `(${batch[batch.length - 1][0]}`;
  }
}

describe('Redis killed with SIGKILL and restarted from its AOF (appendfsync always)', () => {
  let db: TestDatabase;
  let aof: AofRedis;
  let redis: Redis;
  let course: TimingCourse;
  let fleet: DeviceFleet | undefined;
  const services: Service[] = [];
  const keys = redisKeys('faults:');

  beforeAll(async () => {
    db = await createTestDatabase('faultsaof');
    aof = new AofRedis(await freePort(), 'always');
    await aof.start();
    redis = createRedis(aof.url, { maxRetriesPerRequest: null });
    redis.on('error', () => {});
    course = await createTimingCourse(adminApi(), 30);
  });
  afterAll(async () => {
    fleet?.stop();
    for (const s of services) await s.kill9();
    redis?.disconnect();
    await aof?.destroy();
    await db?.drop();
  });

  test('every ACKed record survives; stored = sent; timing equals a clean run', async () => {
    const ingestPort = await freePort();
    const common = { REDIS_URL: aof.url, TRM_REDIS_PREFIX: keys.prefix };
    const ing = spawnService('ingest', { ...common, INGEST_PORT: String(ingestPort), INGEST_ADMIN_PORT: '0', INGEST_ACCEPT: 'any', INGEST_INSTANCE_ID: 'faults-aof', INGEST_XADD_TIMEOUT_MS: '2000' });
    const wr = spawnService('writer', { ...common, DATABASE_URL: db.url, WRITER_ADMIN_PORT: '0', WRITER_CONSUMER: 'faults-aof-writer', WRITER_CLAIM_IDLE_MS: '1000', WRITER_BATCH_MAX_ROWS: '1000' });
    services.push(ing, wr);
    await waitTcp(ingestPort);
    fleet = new DeviceFleet({ port: ingestPort, records: course.records, perTick: 2, tickMs: 50 });
    const total = fleet.total;
    const kills: { ackedBeforeKill: number; ackedLostFromAof: number; recoverS: number }[] = [];
    for (let k = 1; k <= KILLS; k++) {
      await waitFor('records ACKed', () => fleet!.acked >= Math.floor((total * k) / (KILLS + 2)), { timeoutMs: 120_000 });
      await aof.kill9();
      const killedAt = Date.now();
      await sleep(DOWN_MS);
      // ACKs that arrived after the kill answer XADDs Redis replied to before it: durable too
      const acked = fleet.ackedKeys();
      await aof.start();
      const inStream = await streamKeys(redis, keys.positions);
      let lost = 0;
      for (const key of acked) if (!inStream.keys.has(key)) lost++;
      const before = fleet.acked;
      // (on a loaded machine the devices may have had everything ACKed before the kill)
      await waitFor('ACKs again after Redis is back', () => fleet!.acked > before || fleet!.done(), { timeoutMs: 60_000 });
      kills.push({ ackedBeforeKill: acked.size, ackedLostFromAof: lost, recoverS: seconds(Date.now() - killedAt - DOWN_MS) });
    }
    await waitFor('every record ACKed', () => fleet!.done(), { timeoutMs: 180_000, intervalMs: 100 });
    await waitFor('everything written and acknowledged', async () => {
      const g = await groupState(redis, keys.positions);
      return g.pending === 0 && g.lag === 0;
    }, { timeoutMs: 120_000, intervalMs: 100 });
    const streamEntries = await redis.xlen(keys.positions);
    const resent = fleet.resent;
    fleet.stop();
    expect(await wr.stop()).toBe(0);
    expect(await ing.stop()).toBe(0);

    const sent = fleet.sentKeys();
    const stored = await storedKeys(db.pool);
    const diff = compareSets(sent, stored);
    const timing = await checkTiming({ directusUrl: trm().directusUrl, serviceToken: trm().serviceToken, admin: adminApi(), pipeline: db.pool, course });
    figures('redis-aof', { devices: course.sc.devices.length, sent: sent.size, stored: stored.rows, ...diff, streamEntries, streamDuplicates: streamEntries - sent.size, resentByDevices: resent, downS: seconds(DOWN_MS), kills, timing });
    for (const k of kills) expect(k.ackedLostFromAof).toBe(0);
    expect(diff).toEqual({ missing: 0, extra: 0, duplicates: 0 });
    expect(timing.finished).toBe(timing.entries);
    expect(timing.changesVsClean).toBe(0);
  });
});
