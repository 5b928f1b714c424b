/**
 * N simulated devices driving one ingest server: each produces `ratePerDevice` records per
 * second along a track (a replayed GeoJSON/GPX track, or a synthetic loop), each device at its
 * own offset on it, uploads them honouring ACKs, and reports progress. One shared ticker makes
 * the records for all devices (1,000 timers would cost more than the devices themselves).
 * Devices are not in lockstep: device i starts producing when it is switched on (the connect
 * ramp) plus a lag spread evenly over one packet's worth of records, as in a real fleet, so
 * uploads arrive spread over time rather than all at the same tick and no device starts with a
 * backlog. Each device produces the same number of records.
 */
import { performance } from 'node:perf_hooks';
import type { RecordInput } from './avl-encoder.ts';
import { SimulatedDevice, type DeviceOptions } from './device.ts';
import { RoutePlayer, syntheticLoop, type Point } from './route.ts';

export interface FleetOptions {
  host: string;
  port: number;
  devices: number;
  /** IMEIs to use; default: 15-digit numbers counting up from `imeiBase` */
  imeis?: string[];
  imeiBase?: number;
  codec?: '8' | '8E';
  /** records per second per device */
  ratePerDevice: number;
  recordsPerPacket?: number;
  /** fewest records per upload (FMB "Min Saved Records"); default 1 (upload as soon as idle) */
  minRecordsPerPacket?: number;
  /** stop producing after this long… */
  durationMs?: number;
  /** …or after this many records per device */
  recordsPerDevice?: number;
  track?: Point[];
  speedKmh?: number;
  /** connect the devices over this long, not all at once */
  rampMs?: number;
  /** after producing stops, wait this long at most for the last ACKs */
  drainTimeoutMs?: number;
  ackTimeoutMs?: number;
  respond?: DeviceOptions['respond'];
  /** record the IO elements a real FMB sends (ignition, movement, voltage, GSM signal) */
  withIo?: boolean;
  progressMs?: number;
  onProgress?: (p: FleetProgress) => void;
  now?: () => number;
}

export interface FleetProgress {
  elapsedMs: number;
  online: number;
  rejected: number;
  generated: number;
  acked: number;
  resent: number;
  ackedPerSecond: number;
}

export interface FleetSummary extends FleetProgress {
  devices: number;
  packets: number;
  connects: number;
  unacked: number;
  ackLatencyMs: { count: number; p50: number; p95: number; p99: number; max: number };
}

export interface Fleet {
  devices: SimulatedDevice[];
  progress(): FleetProgress;
  /** resolves when producing stopped and the last ACKs arrived (or the drain timeout passed) */
  done: Promise<FleetSummary>;
  stop(): Promise<FleetSummary>;
}

export function imeiFor(base: number, i: number): string {
  return String(base + i).padStart(15, '0').slice(-15);
}

function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

export function startFleet(options: FleetOptions): Fleet {
  const now = options.now ?? Date.now;
  const player = new RoutePlayer(options.track ?? syntheticLoop());
  const speedMs = ((options.speedKmh ?? 90) * 1000) / 3600;
  const latencies: number[] = [];
  const startedAt = performance.now();
  const startWall = now();
  const intervalMs = 1000 / options.ratePerDevice;
  const produced = new Array<number>(options.devices).fill(0);
  let rejected = 0;
  let lastAcked = 0;
  let lastAt = startedAt;
  let producing = true;

  const devices = Array.from({ length: options.devices }, (_, i) => {
    const imei = options.imeis?.[i] ?? imeiFor(options.imeiBase ?? 352_000_000_000_000, i);
    return new SimulatedDevice({
      host: options.host,
      port: options.port,
      imei,
      codec: options.codec ?? '8E',
      recordsPerPacket: options.recordsPerPacket ?? 10,
      minRecordsPerPacket: options.minRecordsPerPacket,
      ackTimeoutMs: options.ackTimeoutMs,
      respond: options.respond,
      onAck: (latencyMs) => latencies.push(latencyMs),
      onStateChange: (s) => {
        if (s === 'rejected') rejected++;
      },
    });
  });
  const offsets = devices.map((_, i) => (player.lengthM * i) / Math.max(1, options.devices));
  const rampMs = options.rampMs ?? Math.min(2_000, options.devices * 2);
  const connectAtMs = devices.map((_, i) => (rampMs * i) / Math.max(1, options.devices));
  devices.forEach((d, i) => setTimeout(() => d.connect(), connectAtMs[i]).unref());

  // device i starts producing when it connects, plus a lag spread over the time one full packet
  // takes to fill (a shuffled order, so it does not follow the connect order)
  const spreadMs = intervalMs * Math.max(1, options.minRecordsPerPacket ?? 1);
  const phaseMs = devices.map((_, i) => connectAtMs[i] + (spreadMs * ((i * 7919) % Math.max(1, options.devices))) / Math.max(1, options.devices));

  function makeRecord(i: number, k: number): RecordInput {
    const p = player.at(offsets[i] + (k * intervalMs * speedMs) / 1000);
    return {
      timestampMs: startWall + Math.floor(phaseMs[i] + k * intervalMs),
      lat: p.lat,
      lon: p.lon,
      altitudeM: p.altitudeM,
      headingDeg: p.headingDeg,
      satellites: 11,
      speedKmh: options.speedKmh ?? 90,
      priority: 0,
      io: options.withIo === false ? undefined : { 239: 1, 240: 1, 21: 4, 66: 13_800 + (k % 200), 16: Math.floor(k * intervalMs * speedMs / 1000) },
    };
  }

  const perDevice = Math.min(options.recordsPerDevice ?? Infinity, options.durationMs === undefined ? Infinity : Math.floor(options.durationMs / intervalMs));
  const tick = setInterval(() => {
    if (!producing) return;
    const elapsed = performance.now() - startedAt;
    let finished = true;
    for (let i = 0; i < devices.length; i++) {
      const limit = Math.min(perDevice, Math.floor((elapsed - phaseMs[i]) / intervalMs));
      while (produced[i] < limit) devices[i].record(makeRecord(i, produced[i]++));
      if (produced[i] < perDevice) finished = false;
    }
    if (finished) {
      producing = false;
      for (const d of devices) d.flushRemaining();
    }
  }, Math.max(2, Math.min(50, intervalMs / 4)));

  function progress(): FleetProgress {
    let generated = 0;
    let acked = 0;
    let resent = 0;
    let online = 0;
    for (const d of devices) {
      generated += d.stats.generated;
      acked += d.stats.acked;
      resent += d.stats.resent;
      if (d.state === 'online') online++;
    }
    const t = performance.now();
    const rate = ((acked - lastAcked) * 1000) / Math.max(1, t - lastAt);
    lastAcked = acked;
    lastAt = t;
    return { elapsedMs: Math.round(t - startedAt), online, rejected, generated, acked, resent, ackedPerSecond: Math.round(rate) };
  }

  const reporter = options.onProgress ? setInterval(() => options.onProgress!(progress()), options.progressMs ?? 1_000) : null;

  function summary(): FleetSummary {
    const p = progress();
    const sorted = Float64Array.from(latencies).sort();
    const elapsed = performance.now() - startedAt;
    return {
      ...p,
      ackedPerSecond: Math.round((p.acked * 1000) / Math.max(1, elapsed)),
      devices: devices.length,
      packets: devices.reduce((s, d) => s + d.stats.packets, 0),
      connects: devices.reduce((s, d) => s + d.stats.connects, 0),
      unacked: devices.reduce((s, d) => s + d.buffered, 0),
      ackLatencyMs: { count: sorted.length, p50: quantile(sorted, 0.5), p95: quantile(sorted, 0.95), p99: quantile(sorted, 0.99), max: sorted.length ? sorted[sorted.length - 1] : 0 },
    };
  }

  let stopped: Promise<FleetSummary> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      producing = false;
      clearInterval(tick);
      if (reporter) clearInterval(reporter);
      const s = summary();
      for (const d of devices) d.stop();
      return s;
    })();
    return stopped;
  };

  const done = (async () => {
    while (producing) await new Promise((r) => setTimeout(r, 20));
    const deadline = new Promise((r) => setTimeout(r, options.drainTimeoutMs ?? 10_000).unref());
    await Promise.race([Promise.all(devices.map((d) => d.idle())), deadline]);
    return stop();
  })();

  return { devices, progress, done, stop };
}
