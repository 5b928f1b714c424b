/**
 * The demo rally of `npm start`: seeded through Directus REST, readable by the public (the
 * event is public_live), and driven by simulated devices into a real ingest daemon that only
 * accepts the seeded (known) devices.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { silentLogger } from '../common/src/log.ts';
import { createTestRedis, type TestRedis } from '../common/src/testing/redis.ts';
import { loadIngestConfig } from '../ingest-daemon/src/config.ts';
import { startIngest, type RunningIngest } from '../ingest-daemon/src/main.ts';
import { driveDemo } from '../demo/drive.ts';
import { DEMO_ENTRIES, entryTrack } from '../demo/scenario.ts';
import { DEMO_START_INTERVAL_S, seedDemo, type SeededDemo } from '../demo/seed.ts';
import { rest } from '../directus/src/rest.ts';
import { adminApi, trm } from './directus-client.ts';

const users = { operator: { email: 'demo-operator-t@example.com', password: 'demo-operator-pw' }, viewer: { email: 'demo-viewer-t@example.com', password: 'demo-viewer-pw' } };

describe('demo rally', () => {
  let seeded: SeededDemo;
  let redis: TestRedis;
  let ingest: RunningIngest;

  beforeAll(async () => {
    // a stage that started 30 minutes ago: the whole track is due at once
    seeded = await seedDemo(adminApi(), { startAtMs: Date.now() - 30 * 60_000, users, roles: trm().roles });
    redis = await createTestRedis('demo');
    const env = { REDIS_URL: redis.url, DATABASE_URL: trm().directusDatabaseUrl, TRM_REDIS_PREFIX: redis.keys.prefix, INGEST_PORT: '0', INGEST_ADMIN_PORT: '0', INGEST_ACCEPT: 'known', INGEST_INSTANCE_ID: 'demo-test' };
    ingest = await startIngest(loadIngestConfig(env), env, silentLogger());
  });

  afterAll(async () => {
    await ingest?.close();
    await redis?.cleanup();
  });

  test('seeding twice leaves one demo event with its course and entries', async () => {
    const again = await seedDemo(adminApi(), { startAtMs: seeded.startAtMs, users, roles: trm().roles });
    seeded = again;
    const admin = adminApi();
    const events = await admin.request<{ id: number }[]>('GET', `/items/events?filter=${encodeURIComponent(JSON.stringify({ organization: { _eq: seeded.organization } }))}`);
    expect(events.map((e) => e.id)).toEqual([seeded.event]);
    const stage = await admin.request<{ waypoints: number[]; geofences: number[]; speed_limit_zones: number[] }>('GET', `/items/stages/${seeded.stage}?fields=waypoints,geofences,speed_limit_zones`);
    expect(stage.waypoints).toHaveLength(4);
    expect(stage.geofences).toHaveLength(4);
    expect(stage.speed_limit_zones).toHaveLength(1);
    expect(Object.keys(seeded.entries)).toHaveLength(DEMO_ENTRIES.length);
  });

  test('the public reads the public_live demo event and its entries without a token', async () => {
    const anon = rest(trm().directusUrl);
    const event = await anon.request<{ name: string; public_live: boolean }>('GET', `/items/events/${seeded.event}`);
    expect(event).toMatchObject({ name: 'Tirana Demo Rally', public_live: true });
    const entries = await anon.request<{ number: number }[]>('GET', `/items/entries?filter=${encodeURIComponent(JSON.stringify({ event: { _eq: seeded.event } }))}`);
    expect(entries.map((e) => e.number).sort((a, b) => a - b)).toEqual(DEMO_ENTRIES.map((e) => e.number).sort((a, b) => a - b));
  });

  test('the demo operator logs in and reads the stage; the viewer cannot write', async () => {
    const { login } = await import('../directus/src/rest.ts');
    const op = await login(trm().directusUrl, users.operator.email, users.operator.password);
    await expect(rest(trm().directusUrl, op.accessToken).request('GET', `/items/stages/${seeded.stage}`)).resolves.toMatchObject({ code: 'SS1' });
    const viewer = await login(trm().directusUrl, users.viewer.email, users.viewer.password);
    await expect(rest(trm().directusUrl, viewer.accessToken).request('PATCH', `/items/stages/${seeded.stage}`, { name: 'x' })).rejects.toMatchObject({ status: 403 });
  });

  test('the simulated devices drive every fix of the scenario into the telemetry stream', async () => {
    const drive = driveDemo({ host: '127.0.0.1', port: ingest.port, startAtMs: seeded.startAtMs });
    await drive.done;
    drive.stop();
    const expected = DEMO_ENTRIES.reduce((n, e, i) => n + entryTrack(e, seeded.startAtMs + i * DEMO_START_INTERVAL_S * 1000).length, 0);
    expect(await redis.redis.xlen(redis.keys.positions)).toBe(expected);
    const [[, fields]] = await redis.redis.xrange(redis.keys.positions, '-', '+', 'COUNT', 1);
    const record = Object.fromEntries(fields.reduce<[string, string][]>((acc, v, i, all) => (i % 2 === 0 ? [...acc, [v, all[i + 1]]] : acc), []));
    expect(DEMO_ENTRIES.map((e) => e.imei)).toContain(record.imei);
    expect(Number(record.lat)).toBeCloseTo(41.3, 0);
  });
});
