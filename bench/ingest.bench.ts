/**
 * `trm bench ingest`: (1) decode throughput of our codec against complete-teltonika-parser 0.3.4
 * (the most used npm Teltonika parser) on the same real frames in the same run; (2) end to end:
 * N simulated devices over real TCP into an ingest-daemon child process and the real Redis,
 * records/s ACKed and ACK latency (device side and server side).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { BenchModule } from '../cli/src/commands/bench.ts';
import { createRedis } from '../common/src/redis.ts';
import { decodePacket } from '../ingest-daemon/src/codec/decode.ts';
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
      const fleet = startFleet({
        host: '127.0.0.1',
        port: ingest.port,
        devices,
        imeiBase,
        codec: '8E',
        ratePerDevice: plan.total / devices,
        recordsPerPacket: 10,
        durationMs: plan.seconds * 1000,
        rampMs: 1_000,
        drainTimeoutMs: 15_000,
        ackTimeoutMs: 10_000,
        progressMs: 2_000,
        onProgress: (p) => log(`  ${plan.name} ${(p.elapsedMs / 1000).toFixed(0)}s online ${p.online} acked ${p.acked} (${p.ackedPerSecond} rec/s) resent ${p.resent}`),
      });
      const s: FleetSummary = await fleet.done;
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
        ackedRecordsPerSec: perSecond,
        ackLatencyMsDevice: { p50: round(s.ackLatencyMs.p50), p95: round(s.ackLatencyMs.p95), p99: round(s.ackLatencyMs.p99), max: round(s.ackLatencyMs.max) },
        ackLatencyMsServerP99Bucket: serverP99,
      };
      log(`${plan.name}: ${devices} devices offered ${plan.total.toLocaleString()} rec/s → ${perSecond.toLocaleString()} rec/s ACKed over ${(s.elapsedMs / 1000).toFixed(1)} s, ACK p50 ${round(s.ackLatencyMs.p50)} ms p99 ${round(s.ackLatencyMs.p99)} ms (device side), server p99 ≤ ${serverP99} ms (cumulative), unacked ${s.unacked}`);
    }
    phases.streamLength = await redis.xlen(`${prefix}telemetry:positions`);
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
  description: 'ingest: decode records/s vs complete-teltonika-parser; end to end with simulated devices over TCP into Redis',
  async run({ quick, env, log }) {
    const decode = decodeBench(quick, log);
    const e2e = await e2eBench(quick, env, log);
    return { machine: { cpus: (await import('node:os')).cpus().length }, decode, e2e, targets: { decodeRatio: 10, e2eRecordsPerSec: 50_000, ackP99Ms: 50 } };
  },
};

export const { description, run } = bench;
export default bench;
