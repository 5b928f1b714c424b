/**
 * `trm bench ingest`: (1) decode throughput of our codec against complete-teltonika-parser 0.3.4
 * (the most used npm Teltonika parser) on the same real frames in the same run; (2) end to end:
 * N simulated devices over real TCP into an ingest-daemon child process and the real Redis,
 * records/s ACKed and ACK latency (device side and server side), with the CPU each of the three
 * processes used; (3) the ceiling: the same XADDs pre-encoded and pipelined to Redis from one
 * process with nothing else running, which is what Redis allows on this machine, so the e2e
 * figure can be stated as a fraction of it.
 *
 * The rig (not the product): the simulator runs in this process and shares the 2 cores with the
 * daemon and Redis. Each device produces ratePerDevice records/s from when it connects (1 s
 * ramp), with start lags spread over one packet's worth so the fleet is not in lockstep, and
 * uploads a packet once 10 records are stored (FMB "Min Saved Records" = 10), one packet in
 * flight, resending on a missing or wrong ACK.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { BenchModule } from '../cli/src/commands/bench.ts';
import { createRedis, type Redis } from '../common/src/redis.ts';
import { machineBusySeconds, procCpuSeconds, redisCpuSeconds } from './cpu.ts';
import { decodePacket } from '../ingest-daemon/src/codec/decode.ts';
import { encodeXadd, xaddHead } from '../ingest-daemon/src/position-sink.ts';
import { RespConnection } from '../ingest-daemon/src/resp-connection.ts';
import { bulk, bulkAscii } from '../ingest-daemon/src/resp.ts';
import { encodeAvlPacket } from '../simulator/src/avl-encoder.ts';
import { startFleet, type FleetSummary } from '../simulator/src/fleet.ts';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const require = createRequire(import.meta.url);

interface Frame {
  codec: string;
  buf: Buffer;
  hex: string;
  records: number;
}

function loadFrames(): Frame[] {
  const file = [join(root, '../shared/vectors/teltonika-traccar.json'), '/work/shared/vectors/teltonika-traccar.json'].find((f) => {
    try {
      readFileSync(f);
      return true;
    } catch {
      return false;
    }
  })!;
  const { frames } = JSON.parse(readFileSync(file, 'utf8')) as { frames: { hex: string; transport: string; kind: string; codec?: string; decoder_config?: { extended?: boolean }; derived?: { crc_ok?: boolean; data_length_ok?: boolean; record_count?: number } }[] };
  return frames
    .filter((f) => f.transport === 'tcp' && f.kind === 'avl' && (f.codec === '0x08' || f.codec === '0x8E') && f.derived?.crc_ok && f.derived.data_length_ok && !f.decoder_config?.extended)
    .map((f) => ({ codec: f.codec === '0x08' ? '8' : '8E', buf: Buffer.from(f.hex, 'hex'), hex: f.hex, records: f.derived!.record_count! }));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function timeIt(iterations: number, frames: Frame[], fn: (f: Frame) => number): number {
  let records = 0;
  const t0 = performance.now();
  for (let i = 0; i < iterations; i++) records += fn(frames[i % frames.length]);
  return (records * 1000) / (performance.now() - t0);
}

function decodeBench(quick: boolean, log: (l: string) => void): Record<string, unknown> {
  const { ProtocolParser } = require('complete-teltonika-parser') as { ProtocolParser: new (hex: string) => { Content: { AVL_Datas?: unknown[] } } };
  const all = loadFrames();
  const nowMs = Date.now();
  const ours = (f: Frame) => decodePacket(f.buf, { nowMs }).records.length;
  const theirs = (f: Frame) => new ProtocolParser(f.hex).Content.AVL_Datas!.length;
  // only frames both parsers decode (it throws on a few real frames, see research §9)
  const usable = all.filter((f) => {
    try {
      return theirs(f) === f.records && ours(f) === f.records;
    } catch {
      return false;
    }
  });
  const out: Record<string, unknown> = {};
  const iterations = quick ? 20_000 : 200_000;
  for (const codec of ['8', '8E']) {
    const frames = usable.filter((f) => f.codec === codec);
    timeIt(iterations / 10, frames, theirs);
    timeIt(iterations / 10, frames, ours);
    const a: number[] = [];
    const b: number[] = [];
    for (let round = 0; round < 3; round++) {
      b.push(timeIt(iterations / 4, frames, theirs)); // the baseline is ~10x slower: fewer iterations, same frames
      a.push(timeIt(iterations, frames, ours));
    }
    const ourRate = Math.round(median(a));
    const baseRate = Math.round(median(b));
    out[`codec${codec}`] = { frames: frames.length, oursRecordsPerSec: ourRate, baselineRecordsPerSec: baseRate, ratio: Number((ourRate / baseRate).toFixed(1)) };
    log(`decode codec ${codec}: ours ${ourRate.toLocaleString()} rec/s, complete-teltonika-parser ${baseRate.toLocaleString()} rec/s, ratio ${(ourRate / baseRate).toFixed(1)}x (${frames.length} frames)`);
  }
  return { baseline: 'complete-teltonika-parser 0.3.4 (hex string in, as it requires)', ...out };
}

async function startIngestChild(env: NodeJS.ProcessEnv, prefix: string) {
  const child = spawn(process.execPath, [join(root, 'ingest-daemon/src/main.ts')], {
    env: { ...env, INGEST_PORT: '0', INGEST_ADMIN_PORT: '0', INGEST_ACCEPT: 'any', TRM_REDIS_PREFIX: prefix, INGEST_INSTANCE_ID: `bench-${process.pid}`, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const ports = await new Promise<{ port: number; adminPort: number }>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`ingest exited with ${code}: ${out}`)));
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const port = /"port":(\d+).*ingest listening/.exec(out)?.[1];
      const adminPort = /"adminPort":(\d+)/.exec(out)?.[1];
      if (port && adminPort) resolve({ port: Number(port), adminPort: Number(adminPort) });
    });
  });
  return {
    ...ports,
    pid: child.pid!,
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Server-side ACK latency quantile from the Prometheus histogram (upper bucket bound, ms). */
function serverQuantile(metrics: string, q: number): number | null {
  const buckets = [...metrics.matchAll(/ingest_ack_latency_seconds_bucket\{le="([^"]+)"\} (\d+)/g)].map((m) => [m[1] === '+Inf' ? Infinity : Number(m[1]), Number(m[2])] as const);
  const total = buckets.at(-1)?.[1] ?? 0;
  if (total === 0) return null;
  const hit = buckets.find(([, n]) => n >= q * total);
  return hit ? hit[0] * 1000 : null;
}





interface CpuMeter {
  /** cores used by each process over the interval, and by everything else on the machine */
  stop(): Promise<{ wallSeconds: number; simulatorCores: number; ingestCores: number | null; redisCores: number; otherCores: number | null }>;
}

async function cpuMeter(redis: Redis, ingestPid: number | null): Promise<CpuMeter> {
  const t0 = performance.now();
  const self0 = process.cpuUsage();
  const ingest0 = ingestPid === null ? null : procCpuSeconds(ingestPid);
  const redis0 = await redisCpuSeconds(redis);
  const machine0 = machineBusySeconds();
  return {
    async stop() {
      const wall = (performance.now() - t0) / 1000;
      const self = process.cpuUsage(self0);
      const ingest1 = ingestPid === null ? null : procCpuSeconds(ingestPid);
      const redis1 = await redisCpuSeconds(redis);
      const machine1 = machineBusySeconds();
      const r2 = (x: number) => Math.round(x * 100) / 100;
      const ours = (self.user + self.system) / 1e6 + (ingest1 ?? 0) - (ingest0 ?? 0) + redis1 - redis0;
      return {
        otherCores: machine0 === null || machine1 === null ? null : r2(Math.max(0, machine1 - machine0 - ours) / wall),
        wallSeconds: r2(wall),
        simulatorCores: r2((self.user + self.system) / 1e6 / wall),
        ingestCores: ingest0 === null || ingest1 === null ? null : r2((ingest1 - ingest0) / wall),
        redisCores: r2((redis1 - redis0) / wall),
      };
    },
  };
}

/**
 * The ceiling: the records the fleet sends (same IO set, same field set, MAXLEN ~), already
 * encoded as XADD commands, pipelined to Redis from this process in batches of 1,000 with 4
 * batches in flight. The client does almost nothing per record, so this is Redis's own limit.
 */
async function rawRedisBaseline(redisUrl: string, redis: Redis, stream: string, total: number): Promise<Record<string, unknown>> {
  const t0 = Date.now();
  const recs = Array.from({ length: 10 }, (_, i) => ({ timestampMs: t0 + i * 20, lat: 41.32 + i / 1e5, lon: 19.81, altitudeM: 110, headingDeg: 93, satellites: 11, speedKmh: 90, priority: 0, io: { 239: 1, 240: 1, 21: 4, 66: 13_800 + i, 16: 1_000 + i } }));
  const records = decodePacket(encodeAvlPacket('8E', recs), { nowMs: t0 + 60_000 }).records;
  const head = xaddHead(stream, 2_000_000);
  const src = bulk(`bench-${process.pid}`);
  const batch = 1_000;
  let payload = '';
  for (let i = 0; i < batch; i++) payload += encodeXadd(head, src, String(353_900_000_000_000 + (i % 1000)), '8E', records[i % records.length], bulkAscii(String(t0)));
  const conn = new RespConnection({ url: redisUrl, connectionName: 'bench-raw-baseline' });
  await conn.ready();
  const meter = await cpuMeter(redis, null);
  const started = performance.now();
  let sent = 0;
  let done = 0;
  let errors = 0;
  await new Promise<void>((resolve, reject) => {
    const next = () => {
      if (sent >= total) return;
      sent += batch;
      conn.send(payload, batch, (failure, replyErrors) => {
        if (failure) return reject(failure);
        errors += replyErrors.length;
        done += batch;
        if (done >= total) resolve();
        else next();
      });
    };
    for (let k = 0; k < 4; k++) next();
  });
  const seconds = (performance.now() - started) / 1000;
  const cpu = await meter.stop();
  conn.close();
  if (errors > 0) throw new Error(`raw baseline: ${errors} XADD errors`);
  return { what: 'pre-encoded XADDs, 1,000 per pipeline, 4 in flight, one client process, no devices', records: done, recordsPerSec: Math.round(done / seconds), clientCores: cpu.simulatorCores, redisCores: cpu.redisCores, otherCores: cpu.otherCores };
}

async function e2eBench(quick: boolean, env: NodeJS.ProcessEnv, log: (l: string) => void): Promise<Record<string, unknown>> {
  const prefix = `bench:${randomUUID().slice(0, 8)}:`;
  const redisUrl = env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const ingest = await startIngestChild(env, prefix);
  const redis = createRedis(redisUrl);
  const phases: Record<string, unknown> = {};
  try {
    const devices = quick ? 200 : 1000;
    const plans = quick ? [{ name: 'target', total: 10_000, seconds: 5 }] : [{ name: 'target', total: 50_000, seconds: 20 }, { name: 'overload', total: 80_000, seconds: 15 }];
    let imeiBase = 353_000_000_000_000;
    for (const plan of plans) {
      const meter = await cpuMeter(redis, ingest.pid);
      const fleet = startFleet({
        host: '127.0.0.1',
        port: ingest.port,
        devices,
        imeiBase,
        codec: '8E',
        ratePerDevice: plan.total / devices,
        recordsPerPacket: 10,
        minRecordsPerPacket: 10,
        durationMs: plan.seconds * 1000,
        rampMs: 1_000,
        drainTimeoutMs: 15_000,
        ackTimeoutMs: 10_000,
        progressMs: 2_000,
        onProgress: (p) => log(`  ${plan.name} ${(p.elapsedMs / 1000).toFixed(0)}s online ${p.online} acked ${p.acked} (${p.ackedPerSecond} rec/s) resent ${p.resent}`),
      });
      // ACKed records/s in the steady window: after the ramp, while producing (the run as a
      // whole also holds the ramp and the drain, when fewer than the offered records exist)
      const ackedNow = () => fleet.devices.reduce((n, d) => n + d.stats.acked, 0);
      const window: { at: number; acked: number }[] = [];
      const windowFromMs = 2_000;
      const windowToMs = plan.seconds * 1000;
      const marks = [windowFromMs, windowToMs].map((ms) => setTimeout(() => window.push({ at: performance.now(), acked: ackedNow() }), ms));
      const s: FleetSummary = await fleet.done;
      const cpu = await meter.stop();
      for (const m of marks) clearTimeout(m);
      const steady = window.length === 2 ? Math.round(((window[1].acked - window[0].acked) * 1000) / (window[1].at - window[0].at)) : null;
      imeiBase += devices;
      const after = await fetch(`http://127.0.0.1:${ingest.adminPort}/metrics`).then((r) => r.text());
      const serverP99 = serverQuantile(after, 0.99);
      const perSecond = Math.round(s.acked / (s.elapsedMs / 1000));
      phases[plan.name] = {
        devices,
        offeredRecordsPerSec: plan.total,
        producingSeconds: plan.seconds,
        ackedRecords: s.acked,
        unackedRecords: s.unacked,
        resentRecords: s.resent,
        ackedRecordsPerSecSteady: steady,
        ackedRecordsPerSec: perSecond,
        elapsedSeconds: round(s.elapsedMs / 1000),
        packets: s.packets,
        cpuCores: cpu,
        ackLatencyMsDevice: { p50: round(s.ackLatencyMs.p50), p95: round(s.ackLatencyMs.p95), p99: round(s.ackLatencyMs.p99), max: round(s.ackLatencyMs.max) },
        ackLatencyMsServerP99Bucket: serverP99,
      };
      log(`${plan.name}: ${devices} devices offered ${plan.total.toLocaleString()} rec/s → ${steady?.toLocaleString()} rec/s ACKed in the steady window (${perSecond.toLocaleString()} over the whole ${(s.elapsedMs / 1000).toFixed(1)} s with ramp and drain), ACK p50 ${round(s.ackLatencyMs.p50)} p95 ${round(s.ackLatencyMs.p95)} p99 ${round(s.ackLatencyMs.p99)} ms (device side), server p99 ≤ ${serverP99} ms (cumulative), unacked ${s.unacked}`);
      log(`  CPU cores: simulator ${cpu.simulatorCores}, ingest ${cpu.ingestCores}, redis ${cpu.redisCores}, everything else on the machine ${cpu.otherCores} (of ${(await import('node:os')).cpus().length})`);
    }
    phases.streamLength = await redis.xlen(`${prefix}telemetry:positions`);
    const raw = await rawRedisBaseline(redisUrl, redis, `${prefix}raw-baseline`, quick ? 100_000 : 400_000);
    phases.rawRedisBaseline = raw;
    const target = phases.target as { ackedRecordsPerSecSteady: number | null };
    const overload = phases.overload as { ackedRecordsPerSecSteady: number | null } | undefined;
    const best = Math.max(target.ackedRecordsPerSecSteady ?? 0, overload?.ackedRecordsPerSecSteady ?? 0);
    const fraction = Math.round((best / (raw.recordsPerSec as number)) * 1000) / 1000;
    phases.fractionOfRawRedis = fraction;
    log(`raw Redis ceiling: ${(raw.recordsPerSec as number).toLocaleString()} XADD/s from one process (client ${raw.clientCores} cores, redis ${raw.redisCores} cores); e2e best steady ${best.toLocaleString()} rec/s = ${(fraction * 100).toFixed(0)}% of it`);
  } finally {
    await ingest.stop();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.unlink(...keys);
    redis.disconnect();
  }
  return phases;
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

const bench: BenchModule = {
  description: 'ingest: decode records/s vs complete-teltonika-parser; end to end with simulated devices over TCP into Redis (simulator in this process: 1 s connect ramp, staggered starts, 10-record packets, one in flight); raw pipelined XADD ceiling',
  async run({ quick, env, log }) {
    const decode = decodeBench(quick, log);
    const e2e = await e2eBench(quick, env, log);
    return { machine: { cpus: (await import('node:os')).cpus().length }, decode, e2e, targets: { decodeRatio: 10, e2eRecordsPerSec: 50_000, ackP99Ms: 50 } };
  },
};

export const { description, run } = bench;
export default bench;
