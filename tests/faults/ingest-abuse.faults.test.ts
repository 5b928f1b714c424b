/**
 * Abuse of the Teltonika port, against a real `trm ingest` child process (own Redis prefix):
 * thousands of connections over INGEST_MAX_CONNECTIONS, slow senders, garbage bytes, oversize
 * declared lengths, and valid AVL frames with random bit flips at rate from logged-in
 * connections. The process survives, its resident memory stays under a bound derived from the
 * configured caps (connections × per-connection buffers), not one that grows with time, and a
 * real device still gets every record ACKed and stored afterwards.
 *
 * Every loop is bounded in count and time and talks only to 127.0.0.1. FAULTS_ABUSE_CONNECTIONS
 * (3000 attempted, cap 1000) and FAULTS_ABUSE_MUTATE_MS (8000) size the run.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createTestRedis, type TestRedis } from '../../common/src/testing/redis.ts';
import { encodeImei } from '../../ingest-daemon/src/codec/imei.ts';
import { encodeAvlPacket, type RecordInput } from '../../simulator/src/avl-encoder.ts';
import { SimulatedDevice } from '../../simulator/src/device.ts';
import { figures, freePort, knob, rssKb, sleep, spawnService, waitFor, waitTcp, type Service } from './support.ts';

const ATTEMPTS = knob('FAULTS_ABUSE_CONNECTIONS', 3000);
const MUTATE_MS = knob('FAULTS_ABUSE_MUTATE_MS', 8000);
const MAX_CONNECTIONS = 1000;
const MAX_FRAME_BYTES = 32 * 1024;
const MAX_WRITE_BUFFER = 64 * 1024;
const QUEUED_FRAMES = 8; // per connection, docs/ingest.md "Limits"

function metric(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(name) && (line[name.length] === ' ' || line[name.length] === '{')) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

function connect(port: number): Promise<net.Socket | null> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.setTimeout(10_000, () => s.destroy());
    s.once('connect', () => resolve(s));
    s.once('error', () => resolve(null));
    s.on('error', () => {});
  });
}

function records(n: number, t0: number): RecordInput[] {
  return Array.from({ length: n }, (_, i) => ({ timestampMs: t0 + i * 1000, lat: 41.3 + i * 1e-4, lon: 19.8, speedKmh: 50, headingDeg: 90, satellites: 10, io: { 239: 1, 66: 12000 } }));
}

describe('ingest under abuse', () => {
  let r: TestRedis;
  let ing: Service;
  let port: number;
  let adminPort: number;
  const sockets = new Set<net.Socket>();

  beforeAll(async () => {
    r = await createTestRedis('faultsabuse');
    port = await freePort();
    adminPort = await freePort();
    ing = spawnService('ingest', {
      REDIS_URL: r.url, TRM_REDIS_PREFIX: r.keys.prefix, INGEST_PORT: String(port), INGEST_ADMIN_PORT: String(adminPort), INGEST_ACCEPT: 'any',
      INGEST_INSTANCE_ID: 'faults-abuse', INGEST_MAX_CONNECTIONS: String(MAX_CONNECTIONS), INGEST_HANDSHAKE_TIMEOUT_MS: '3000', INGEST_FRAME_TIMEOUT_MS: '2000',
      INGEST_IDLE_TIMEOUT_MS: '5000', INGEST_MAX_FRAME_BYTES: String(MAX_FRAME_BYTES), INGEST_MAX_WRITE_BUFFER_BYTES: String(MAX_WRITE_BUFFER),
    });
    await waitTcp(port);
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await ing?.kill9();
    await r?.cleanup();
  });

  const metrics = async () => (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();

  async function realDevice(imei: string, n: number, t0: number): Promise<number> {
    const d = new SimulatedDevice({ host: '127.0.0.1', port, imei, recordsPerPacket: 10, reconnectDelayMs: 200 });
    try {
      d.connect();
      for (const rec of records(n, t0)) d.record(rec);
      await waitFor(`${imei} ACKed`, () => d.stats.acked === n, { timeoutMs: 60_000 });
      return d.stats.acked;
    } finally {
      d.stop();
    }
  }

  test('thousands of connections, slow senders, garbage, oversize lengths, mutated frames: survives, bounded memory, a real device gets through', async () => {
    const rssStart = rssKb(ing.pid);
    const t0 = Date.now() - 3_600_000;
    // 1. connection storm above the cap (silent sockets, as a SYN-and-wait attacker would hold)
    const opened = await Promise.all(Array.from({ length: ATTEMPTS }, () => connect(port)));
    for (const s of opened) if (s) sockets.add(s);
    await sleep(500);
    const afterStorm = await metrics();
    const storm = { attempted: ATTEMPTS, accepted: opened.filter(Boolean).length, refused: metric(afterStorm, 'ingest_connections_refused_total'), peak: metric(afterStorm, 'ingest_connections') };
    const rssStorm = rssKb(ing.pid);
    // the handshake timeout clears them; then a real device gets through
    await waitFor('the storm cleared by the handshake timeout', async () => metric(await metrics(), 'ingest_connections') === 0, { timeoutMs: 30_000, intervalMs: 250 });
    for (const s of sockets) s.destroy();
    sockets.clear();
    const ackedAfterStorm = await realDevice('356307049990001', 30, t0);

    // 2. slow senders: log in, then trickle a frame a byte at a time (slowloris)
    const slow = await Promise.all(Array.from({ length: 200 }, async (_, i) => {
      const s = await connect(port);
      if (!s) return null;
      sockets.add(s);
      s.write(encodeImei(`3563070499${String(10000 + i).slice(-5)}`));
      return s;
    }));
    const frame = encodeAvlPacket('8', records(5, t0));
    for (let b = 0; b < 8; b++) {
      for (const s of slow) if (s && !s.destroyed) s.write(frame.subarray(b, b + 1));
      await sleep(400);
    }
    // 3. garbage bytes, 4. oversize declared lengths, on fresh connections
    for (let i = 0; i < 300; i++) {
      const s = await connect(port);
      if (!s) continue;
      sockets.add(s);
      if (i % 3 === 0) s.write(randomBytes(1 + (i % 700)));
      else if (i % 3 === 1) s.write(Buffer.concat([encodeImei(`3563070498${String(10000 + i).slice(-5)}`), randomBytes(2000)]));
      else s.write(Buffer.concat([encodeImei(`3563070497${String(10000 + i).slice(-5)}`), Buffer.from('000000007fffffff', 'hex')]));
    }
    await waitFor('slow senders cut off', async () => metric(await metrics(), 'ingest_connections') <= 200, { timeoutMs: 30_000, intervalMs: 250 }).catch(() => undefined);

    // 5. mutated frames at rate from 100 logged-in connections, RSS sampled
    const mutators = (await Promise.all(Array.from({ length: 100 }, async (_, i) => {
      const s = await connect(port);
      if (!s) return null;
      sockets.add(s);
      s.write(encodeImei(`3563070496${String(10000 + i).slice(-5)}`));
      s.resume(); // read (and ignore) ACKs
      return s;
    }))).filter((s): s is net.Socket => s !== null);
    const samples: number[] = [];
    const until = Date.now() + MUTATE_MS;
    let sentFrames = 0;
    for (let round = 0; Date.now() < until && round < 100_000; round++) {
      for (const s of mutators) {
        if (s.destroyed || s.writableLength > 256 * 1024) continue;
        const f = Buffer.from(encodeAvlPacket('8E', records(5, t0 + round * 10_000)));
        for (let k = 0; k < 3; k++) f[8 + Math.floor(Math.random() * (f.length - 8))] ^= 1 << Math.floor(Math.random() * 8);
        s.write(f);
        sentFrames++;
      }
      if (round % 10 === 0) samples.push(rssKb(ing.pid));
      await sleep(20);
    }
    for (const s of sockets) s.destroy();
    sockets.clear();
    const half = Math.floor(samples.length / 2);
    const maxFirst = Math.max(...samples.slice(0, half));
    const maxSecond = Math.max(...samples.slice(half));
    const final = await metrics();
    // a real device after all of it
    const ackedAtEnd = await realDevice('356307049990002', 50, t0);
    const stream = await r.redis.xlen(r.keys.positions);
    const health = await fetch(`http://127.0.0.1:${adminPort}/healthz`);
    const rssMax = Math.max(rssStorm, ...samples);
    // what the caps allow: every allowed connection holding its queued frames and write buffer
    const boundKb = rssStart + (MAX_CONNECTIONS * (QUEUED_FRAMES * MAX_FRAME_BYTES + MAX_WRITE_BUFFER)) / 1024 + 64 * 1024;
    figures('ingest-abuse', {
      storm, ackedAfterStorm, slowSenderCloses: metric(final, 'ingest_disconnects_total{reason="INGEST_ERR_SLOW_SENDER"}') || metric(final, 'ingest_disconnects_total'),
      frameErrors: metric(final, 'ingest_frame_errors_total'), badCrc: metric(final, 'ingest_bad_crc_total'), mutatedFramesSent: sentFrames,
      rssMb: { start: Math.round(rssStart / 1024), storm: Math.round(rssStorm / 1024), mutateFirstHalfMax: Math.round(maxFirst / 1024), mutateSecondHalfMax: Math.round(maxSecond / 1024), boundMb: Math.round(boundKb / 1024) },
      ackedAtEnd, streamEntries: stream, healthz: health.status, alive: ing.child.exitCode === null,
    });
    expect(ing.child.exitCode).toBe(null);
    expect(storm.peak).toBeLessThanOrEqual(MAX_CONNECTIONS);
    expect(storm.refused).toBeGreaterThan(0);
    expect(ackedAfterStorm).toBe(30);
    expect(ackedAtEnd).toBe(50);
    expect(rssMax).toBeLessThan(boundKb);
    expect(health.status).toBe(200);
  });
});
