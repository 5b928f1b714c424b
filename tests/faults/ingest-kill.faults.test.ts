/**
 * Scenarios 1 and 2 of issue 12 on the whole telemetry chain, every part a real process:
 * simulated devices (drive tracks over a stage) → `trm ingest` → Redis (own key prefix) →
 * `trm writer` → positions (own database). While the devices send, the ingest daemon is killed
 * with SIGKILL and restarted on the same port, several times, and the writer is killed too.
 * Devices resend what was not ACKed. Afterwards: stored (imei, ts) = sent, no duplicates,
 * nothing pending, and the stage recomputed over the stored fixes equals a clean run.
 *
 * FAULTS_INGEST_KILLS (3) and FAULTS_WRITER_KILLS (2) size the run.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../common/src/testing/db.ts';
import { createTestRedis, type TestRedis } from '../../common/src/testing/redis.ts';
import { groupState } from '../../db-writer/src/testing/harness.ts';
import { adminApi, trm } from '../directus-client.ts';
import { compareSets, DeviceFleet, figures, freePort, knob, seconds, spawnService, storedKeys, waitFor, waitTcp, type Service } from './support.ts';
import { checkTiming, createTimingCourse, type TimingCourse } from './timing.ts';

const INGEST_KILLS = knob('FAULTS_INGEST_KILLS', 3);
const WRITER_KILLS = knob('FAULTS_WRITER_KILLS', 2);

describe('ingest daemon (and writer) killed with SIGKILL while devices send', () => {
  let db: TestDatabase;
  let r: TestRedis;
  let course: TimingCourse;
  let fleet: DeviceFleet | undefined;
  const services: Service[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('faultsingest');
    r = await createTestRedis('faultsingest');
    course = await createTimingCourse(adminApi(), 40);
  });
  afterAll(async () => {
    fleet?.stop();
    for (const s of services) await s.kill9();
    await r?.cleanup();
    await db?.drop();
  });

  test('stored = sent, no duplicates, timing equals a clean run', async () => {
    const ingestPort = await freePort();
    const common = { REDIS_URL: r.url, TRM_REDIS_PREFIX: r.keys.prefix };
    const ingest = () => {
      const s = spawnService('ingest', { ...common, INGEST_PORT: String(ingestPort), INGEST_ADMIN_PORT: '0', INGEST_ACCEPT: 'any', INGEST_INSTANCE_ID: 'faults-ingest' });
      services.push(s);
      return s;
    };
    const writer = () => {
      const s = spawnService('writer', { ...common, DATABASE_URL: db.url, WRITER_ADMIN_PORT: '0', WRITER_CONSUMER: 'faults-writer', WRITER_CLAIM_IDLE_MS: '1000', WRITER_BATCH_MAX_ROWS: '1000' });
      services.push(s);
      return s;
    };
    let ing = ingest();
    let wr = writer();
    await waitTcp(ingestPort);

    fleet = new DeviceFleet({ port: ingestPort, records: course.records, perTick: 2, tickMs: 50 });
    const total = fleet.total;
    const recoveries: number[] = [];
    let ingestKills = 0;
    let writerKills = 0;
    const steps = INGEST_KILLS + WRITER_KILLS;
    for (let step = 1; step <= steps; step++) {
      // a kill at every 1/(steps+1) of the ACKed records
      const target = Math.floor((total * step) / (steps + 1));
      await waitFor(`${target} records ACKed`, () => fleet!.acked >= target, { timeoutMs: 120_000 });
      if (step % 2 === 1 && ingestKills < INGEST_KILLS || writerKills >= WRITER_KILLS) {
        await ing.kill9();
        ingestKills++;
        const ackedAtKill = fleet.acked;
        const killedAt = Date.now();
        ing = ingest();
        await waitFor('ACKs again after the restart', () => fleet!.acked > ackedAtKill, { timeoutMs: 60_000 });
        recoveries.push(Date.now() - killedAt);
      } else {
        await wr.kill9();
        writerKills++;
        wr = writer();
      }
    }
    await waitFor('every record ACKed', () => fleet!.done(), { timeoutMs: 180_000, intervalMs: 100 });
    const streamEntries = await r.redis.xlen(r.keys.positions);
    await waitFor('everything written and acknowledged', async () => {
      const g = await groupState(r.redis, r.keys.positions);
      return g.pending === 0 && g.lag === 0;
    }, { timeoutMs: 120_000, intervalMs: 100 });
    const resent = fleet.resent;
    const connects = fleet.connects;
    fleet.stop();
    expect(await wr.stop()).toBe(0);
    expect(await ing.stop()).toBe(0);

    const sent = fleet.sentKeys();
    const stored = await storedKeys(db.pool);
    const diff = compareSets(sent, stored);
    const timing = await checkTiming({ directusUrl: trm().directusUrl, serviceToken: trm().serviceToken, admin: adminApi(), pipeline: db.pool, course });
    figures('ingest-kill', {
      devices: course.sc.devices.length, sent: sent.size, stored: stored.rows, ...diff, streamEntries, streamDuplicates: streamEntries - sent.size,
      resentByDevices: resent, reconnects: connects - course.sc.devices.length, ingestKills, writerKills,
      recoverS: recoveries.map(seconds), deadLetters: await r.redis.xlen(r.keys.positionsDead), timing,
    });
    expect(diff).toEqual({ missing: 0, extra: 0, duplicates: 0 });
    expect(stored.rows).toBe(total);
    expect(await r.redis.xlen(r.keys.positionsDead)).toBe(0);
    expect(timing.finished).toBe(timing.entries);
    expect(timing.changesVsClean).toBe(0);
  });
});
