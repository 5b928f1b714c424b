/**
 * The ingest server against the real Redis (own key prefix per test) and, for `known` mode, a
 * Postgres database of its own. Devices are raw sockets or the simulator over real TCP.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterEach, describe, expect, test } from 'vitest';
import { silentLogger } from '../../common/src/log.ts';
import { pgConfig, quoteIdent, withDatabase } from '../../common/src/pg.ts';
import { encodeAvlPacket, type RecordInput } from '../../simulator/src/avl-encoder.ts';
import { SimulatedDevice } from '../../simulator/src/device.ts';
import { encodeCodec12 } from './codec/codec12.ts';
import { encodeImei } from './codec/imei.ts';
import { IngestErrorCode } from './errors.ts';
import { KnownDevices } from './known-devices.ts';
import { freePort, RawClient, startTestIngest, ThrowawayRedis, waitFor, type TestIngest } from './test-support.ts';

const IMEI = '356307042441013';
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function ingest(...args: Parameters<typeof startTestIngest>): Promise<TestIngest> {
  const t = await startTestIngest(...args);
  cleanups.push(() => t.close());
  return t;
}

async function client(port: number): Promise<RawClient> {
  const c = await RawClient.connect(port);
  cleanups.push(async () => c.end());
  return c;
}

async function login(t: TestIngest, imei = IMEI): Promise<RawClient> {
  const c = await client(t.port);
  c.write(encodeImei(imei));
  expect((await c.read(1)).toString('hex')).toBe('01');
  return c;
}

function records(n: number, from = 0): RecordInput[] {
  const t0 = Date.now() - 60_000;
  return Array.from({ length: n }, (_, i) => ({ timestampMs: t0 + (from + i) * 1000, lat: 41.3 + i / 1000, lon: -19.8, altitudeM: -5, headingDeg: 270, satellites: i === 0 ? 0 : 9, speedKmh: 72, priority: 1, eventIoId: 239, io: { 239: 1, 16: 123456, 78: 2n ** 62n } }));
}

function fields(flat: string[]): Record<string, string> {
  const f: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) f[flat[i]] = flat[i + 1];
  return f;
}

describe('AVL data', () => {
  test('the ACK arrives only after every record of the frame is in the stream, in the contract shape', async () => {
    const t = await ingest();
    const c = await login(t);
    const recs = records(3);
    c.write(encodeAvlPacket('8E', recs));
    expect((await c.read(4)).readUInt32BE(0)).toBe(3);
    const entries = await t.redis.xrange(t.keys.positions, '-', '+');
    expect(entries).toHaveLength(3);
    const first = fields(entries[0][1]);
    expect(Object.keys(first).sort()).toEqual(['alt', 'codec', 'event', 'fix', 'heading', 'imei', 'io', 'lat', 'lon', 'priority', 'rx', 'sats', 'speed', 'src', 'ts'].sort());
    expect(first).toMatchObject({ imei: IMEI, ts: String(recs[0].timestampMs), lat: '41.3', lon: '-19.8', alt: '-5', speed: '72', heading: '270', sats: '0', priority: '1', event: '239', src: t.server.instanceId, fix: '0', codec: '8E' });
    expect(JSON.parse(first.io)).toEqual({ 239: 1, 16: 123456, 78: (2n ** 62n).toString() });
    expect(Number(first.rx)).toBeGreaterThanOrEqual(recs[0].timestampMs);
    expect(fields(entries[1][1]).fix).toBe('1');
    expect(t.server.metrics.records.get()).toBe(3);
    expect(t.server.metrics.ackLatency.quantile(1)).toBeLessThan(Infinity);
  });

  test('a bad CRC gets no ACK, is counted, and the connection carries on', async () => {
    const t = await ingest();
    const c = await login(t);
    const bad = encodeAvlPacket('8', records(2));
    bad[bad.length - 1] ^= 0x5a;
    c.write(bad);
    c.write(encodeAvlPacket('8', records(1, 10)));
    // the first 4 bytes back are the ACK of the good 1-record packet: nothing was sent for the bad one
    expect((await c.read(4)).readUInt32BE(0)).toBe(1);
    expect(t.server.metrics.badCrc.get()).toBe(1);
    expect(await t.redis.xlen(t.keys.positions)).toBe(1);
  });

  test('Codec 12/13 frames are never ACKed', async () => {
    const t = await ingest();
    const c = await login(t);
    c.write(encodeCodec12(Buffer.from('unsolicited'), 0x06));
    c.write('00000000000000240d01060000001c642b3ad14754534c7c367c317c307c31323734393838347c317c0d0a010000ec11');
    c.write(encodeAvlPacket('16' as '8', records(2)));
    expect((await c.read(4)).readUInt32BE(0)).toBe(2);
    expect(c.received).toBe(0);
  });

  test('data before the IMEI closes the connection without ACK', async () => {
    const t = await ingest();
    const c = await client(t.port);
    c.write(encodeAvlPacket('8', records(1)));
    await c.closed;
    expect(c.received).toBe(0);
    expect(await t.redis.exists(t.keys.positions)).toBe(0);
  });
});

describe('limits', () => {
  test('idle timeout closes a silent connection', async () => {
    const t = await ingest({ idleTimeoutMs: 200 });
    const c = await login(t);
    await c.closed;
    expect(t.server.metrics.disconnects.get({ reason: IngestErrorCode.IDLE_TIMEOUT })).toBe(1);
  });

  test('handshake timeout closes a connection that never sends its IMEI', async () => {
    const t = await ingest({ handshakeTimeoutMs: 200 });
    const c = await client(t.port);
    await c.closed;
    expect(t.server.metrics.disconnects.get({ reason: IngestErrorCode.IDLE_TIMEOUT })).toBe(1);
  });

  test('the connection cap refuses the connection above it', async () => {
    const t = await ingest({ maxConnections: 2 });
    await login(t, '356307042441011');
    await login(t, '356307042441012');
    const third = await client(t.port);
    await third.closed;
    expect(t.server.metrics.connectionsRefused.get()).toBe(1);
    expect(t.server.online.size).toBe(2);
  });

  test('a declared frame above the buffer cap closes the connection', async () => {
    const t = await ingest({ maxFrameBytes: 256 });
    const c = await login(t);
    c.write('00000000000003e8');
    await c.closed;
    expect(t.server.metrics.frameErrors.get({ code: IngestErrorCode.FRAME_TOO_LARGE })).toBe(1);
  });

  test('a frame trickling in slower than the frame timeout is cut off (slow sender)', async () => {
    const t = await ingest({ frameTimeoutMs: 200 });
    const c = await login(t);
    c.write(encodeAvlPacket('8', records(1)).subarray(0, 20));
    await c.closed;
    expect(t.server.metrics.disconnects.get({ reason: IngestErrorCode.SLOW_SENDER })).toBe(1);
  });

  test('garbage on many connections never crashes the server; a real device still gets through', async () => {
    const t = await ingest();
    for (let i = 0; i < 30; i++) {
      const c = await client(t.port);
      if (i % 2) c.write(encodeImei(`3563070424410${String(i).padStart(2, '0')}`));
      c.write(randomBytes(1 + ((i * 37) % 500)));
      c.end();
    }
    const device = new SimulatedDevice({ host: '127.0.0.1', port: t.port, imei: IMEI, recordsPerPacket: 5 });
    cleanups.push(async () => device.stop());
    device.connect();
    for (const r of records(5)) device.record(r);
    await device.idle();
    expect(device.stats.acked).toBe(5);
  });
});

describe('handshake in known mode', () => {
  test('accepts IMEIs of the devices table, refuses others with 00, sees new rows on a miss', async () => {
    const admin = new pg.Client(pgConfig('postgres://127.0.0.1:5432/postgres', process.env));
    await admin.connect();
    const db = `trm_t_ingest_${randomUUID().slice(0, 8)}`;
    await admin.query(`CREATE DATABASE ${quoteIdent(db)}`);
    const pool = new pg.Pool(pgConfig(withDatabase('postgres://127.0.0.1:5432/trm', db), process.env, { max: 2 }));
    cleanups.push(async () => {
      await pool.end();
      await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(db)} WITH (FORCE)`);
      await admin.end();
    });
    const devices = new KnownDevices({ pool, log: silentLogger(), refreshMs: 60_000, missRefreshMs: 0 });
    await devices.start(); // the table does not exist yet: logged, nothing known, no crash
    expect(devices.healthy).toBe(false);
    expect(await devices.isKnown(IMEI)).toBe(false);
    await pool.query('CREATE TABLE devices (imei text)');
    await pool.query('INSERT INTO devices (imei) VALUES ($1)', [IMEI]);
    const t = await ingest({ accept: 'known' }, { devices });
    await login(t, IMEI);
    const stranger = await client(t.port);
    stranger.write(encodeImei('111111111111111'));
    expect((await stranger.read(1)).toString('hex')).toBe('00');
    await stranger.closed;
    expect(t.server.metrics.handshakes.get({ result: 'unknown' })).toBe(1);
    await pool.query(`DROP TABLE devices`); // unavailable again: the last known set stays
    expect(await devices.isKnown(IMEI)).toBe(true);
    expect(await devices.isKnown('111111111111111')).toBe(false);
  });
});

describe('commands', () => {
  test('a Codec 12 command reaches the device; sent and responded are published; the route names this instance', async () => {
    const t = await ingest();
    const device = new SimulatedDevice({ host: '127.0.0.1', port: t.port, imei: IMEI, respond: (text) => `echo:${text}` });
    cleanups.push(async () => device.stop());
    device.connect();
    await waitFor(() => t.server.online.has(IMEI), 'device online');
    expect(await waitFor(() => t.redis.get(t.keys.deviceRoute(IMEI)), 'route key')).toBe(t.server.instanceId);
    expect(await t.redis.ttl(t.keys.deviceRoute(IMEI))).toBeGreaterThan(0);
    const id = randomUUID();
    await t.redis.xadd(t.keys.commands(t.server.instanceId), '*', 'id', id, 'imei', IMEI, 'text', 'getinfo');
    await t.redis.xadd(t.keys.commands(t.server.instanceId), '*', 'id', 'c-2', 'imei', '000000000000001', 'text', 'getver');
    const events = await waitFor(async () => {
      const e = (await t.redis.xrange(t.keys.commandEvents, '-', '+')).map(([, f]) => fields(f)).filter((x) => x.status !== 'online');
      return e.length >= 3 ? e : null;
    }, 'command events');
    expect(events.find((e) => e.id === id && e.status === 'sent')).toMatchObject({ imei: IMEI, instance: t.server.instanceId });
    expect(events.find((e) => e.id === id && e.status === 'responded')).toMatchObject({ response: 'echo:getinfo' });
    expect(events.find((e) => e.id === 'c-2')).toMatchObject({ status: 'failed', error: IngestErrorCode.NOT_CONNECTED });
    device.stop();
    await waitFor(async () => (await t.redis.exists(t.keys.deviceRoute(IMEI))) === 0, 'route released on disconnect');
  });

  test('a login is announced on commands:events as online (no id), after the route names this instance', async () => {
    const t = await ingest();
    const device = new SimulatedDevice({ host: '127.0.0.1', port: t.port, imei: IMEI });
    cleanups.push(async () => device.stop());
    device.connect();
    const online = await waitFor(async () => (await t.redis.xrange(t.keys.commandEvents, '-', '+')).map(([, f]) => fields(f)).find((e) => e.status === 'online'), 'online event');
    expect(online).toEqual({ imei: IMEI, status: 'online', at: expect.stringMatching(/^\d+$/), instance: t.server.instanceId });
    // the route was claimed before the announcement
    expect(await t.redis.get(t.keys.deviceRoute(IMEI))).toBe(t.server.instanceId);
  });

  test('commands go one at a time; an unanswered one times out and the next is sent', async () => {
    const t = await ingest({ commandTimeoutMs: 200 });
    const seen: string[] = [];
    const device = new SimulatedDevice({ host: '127.0.0.1', port: t.port, imei: IMEI, onCommand: (c) => seen.push(c), respond: (text) => (text === 'mute' ? undefined : 'ok') });
    cleanups.push(async () => device.stop());
    device.connect();
    await waitFor(() => t.server.online.has(IMEI), 'device online');
    for (const [id, text] of [['a', 'mute'], ['b', 'getver']]) await t.redis.xadd(t.keys.commands(t.server.instanceId), '*', 'id', id, 'imei', IMEI, 'text', text);
    const events = await waitFor(async () => {
      const e = (await t.redis.xrange(t.keys.commandEvents, '-', '+')).map(([, f]) => fields(f)).filter((x) => x.status !== 'online').map((x) => `${x.id}:${x.status}`);
      return e.includes('b:responded') ? e : null;
    }, 'second command answered');
    expect(events).toEqual(['a:sent', 'a:failed', 'b:sent', 'b:responded']);
    expect(seen).toEqual(['mute', 'getver']);
  });
});

describe('Redis stopped mid-stream', () => {
  test('no ACK while Redis is down, the connection closes cleanly, the device resends and nothing acknowledged is lost', async () => {
    const redisServer = new ThrowawayRedis(await freePort());
    await redisServer.start();
    cleanups.push(() => redisServer.kill());
    const t = await ingest({ xaddTimeoutMs: 1_000 }, { redisUrl: redisServer.url });
    const device = new SimulatedDevice({ host: '127.0.0.1', port: t.port, imei: IMEI, recordsPerPacket: 5, reconnectDelayMs: 50, ackTimeoutMs: 3_000 });
    cleanups.push(async () => device.stop());
    device.connect();
    for (const r of records(5)) device.record(r);
    await device.idle();
    expect(device.stats.acked).toBe(5);

    await redisServer.kill();
    const second = records(5, 5);
    for (const r of second) device.record(r);
    await waitFor(() => t.server.metrics.xaddErrors.get() >= 1, 'an XADD failure');
    expect(device.stats.acked).toBe(5); // nothing ACKed while Redis is down
    expect(t.server.metrics.disconnects.get({ reason: IngestErrorCode.XADD_FAILED })).toBeGreaterThanOrEqual(1);

    await redisServer.start();
    await device.idle();
    expect(device.stats.acked).toBe(10);
    expect(device.stats.resent).toBeGreaterThanOrEqual(5);
    // the restarted Redis has no persistence: what it holds is exactly what was ACKed since
    const entries = await waitFor(async () => {
      const e = await t.redis.xrange(t.keys.positions, '-', '+').catch(() => null);
      return e && e.length > 0 ? e : null;
    }, 'entries in the restarted Redis');
    const expected = second.map((r) => String(r.timestampMs));
    for (const ts of expected) expect(entries.map(([, f]) => fields(f).ts)).toContain(ts);
  });
});
