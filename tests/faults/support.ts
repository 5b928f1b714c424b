/**
 * Shared helpers of the fault suite (`*.faults.test.ts`): real `trm <service>` child processes
 * on free ports, a throwaway redis-server with AOF, simulated Teltonika devices that remember
 * what was ACKed, set comparisons of sent vs stored (imei, ts), and one `FAULTS <scenario> {…}`
 * line of figures per scenario (docs/faults.md is filled from those lines).
 *
 * Nothing here touches the shared Postgres (5432) or Redis (6379) servers beyond databases and
 * key prefixes of its own; servers that are killed are throwaway ones on free ports.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { createRedis } from '../../common/src/redis.ts';
import type { RecordInput } from '../../simulator/src/avl-encoder.ts';
import { SimulatedDevice } from '../../simulator/src/device.ts';
export { freePort } from '../../common/src/net.ts';
import { waitUntil as waitFor } from '../../common/src/testing/wait.ts';
export { waitFor };

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Integer env knob with a CI-sized default (long outages are opt-in). */
export function knob(name: string, fallback: number): number {
  const v = process.env[name];
  const n = v === undefined || v === '' ? NaN : Number(v);
  return Number.isFinite(n) && n >= 0 ? n : fallback;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export type ServiceName = 'ingest' | 'writer' | 'gateway' | 'functions' | 'connector' | 'safety';

export interface Service {
  name: ServiceName;
  child: ChildProcess;
  /** resolves with the exit code (null after a signal) */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** the last 16 KiB of stdout + stderr (pino lines) */
  output(): string;
  kill9(): Promise<void>;
  /** SIGTERM and wait; resolves with the exit code */
  stop(): Promise<number | null>;
  pid: number;
}

/** `node cli/src/main.ts <name>` with `env` over the test's environment. */
export function spawnService(name: ServiceName, env: Record<string, string>): Service {
  const child = spawn(process.execPath, ['cli/src/main.ts', name], {
    cwd: repoRoot,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (b: Buffer) => {
    out = (out + b.toString()).slice(-16_384);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    name,
    child,
    exited,
    pid: child.pid!,
    output: () => out,
    async kill9() {
      if (running()) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (running()) child.kill('SIGTERM');
      const timer = setTimeout(() => running() && child.kill('SIGKILL'), 30_000);
      const { code } = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Resolves once `url` answers HTTP at all (any status), failing early if the service died. */
export async function waitHttp(url: string, service?: Service, timeoutMs = 60_000): Promise<void> {
  await waitFor(`${url} answering`, async () => {
    if (service && (service.child.exitCode !== null || service.child.signalCode !== null)) throw new Error(`${service.name} exited: ${service.output().slice(-2000)}`);
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return true;
  }, { timeoutMs, intervalMs: 100 });
}

export async function waitTcp(port: number, timeoutMs = 60_000): Promise<void> {
  await waitFor(`port ${port} accepting`, () => new Promise<boolean>((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  }), { timeoutMs, intervalMs: 50 });
}

/**
 * A throwaway redis-server with the append-only file on, `appendfsync always`: a write is in
 * the AOF and fsynced before Redis answers it, so whatever a client saw acknowledged survives a
 * kill -9 of Redis (and even a host crash). Restarted on the same port and directory, it loads
 * the AOF.
 */
export class AofRedis {
  readonly port: number;
  readonly dir: string;
  readonly fsync: string;
  private child: ChildProcess | null = null;

  constructor(port: number, fsync: 'always' | 'everysec' | 'no' = 'always') {
    this.port = port;
    this.fsync = fsync;
    this.dir = mkdtempSync('/tmp/trm-faults-redis-');
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', this.fsync, '--dir', this.dir], { stdio: 'ignore' });
    const probe = createRedis(this.url, { retryStrategy: () => 50, maxRetriesPerRequest: null });
    probe.on('error', () => {});
    try {
      // PING answers while the AOF is still loading (LOADING error): wait for a real read
      await waitFor(`redis-server on ${this.port}`, async () => (await probe.dbsize().then(() => true, () => false)), { timeoutMs: 30_000 });
    } finally {
      probe.disconnect();
    }
  }

  async kill9(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGKILL');
    await exited;
    this.child = null;
  }

  async destroy(): Promise<void> {
    await this.kill9();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** `imei|ts` */
export const keyOf = (imei: string, ts: number) => `${imei}|${ts}`;

/**
 * Devices that upload a prepared list of records, produced at a steady pace (records enter the
 * device's memory `perTick` at a time every `tickMs`), uploading and resending like FMB
 * firmware. A device forgets records only when they are ACKed, oldest first, so the ACKed set
 * of a device is exactly the first `stats.acked` records of its list.
 */
export class DeviceFleet {
  readonly devices: SimulatedDevice[] = [];
  readonly imeis: string[] = [];
  readonly records: Map<string, RecordInput[]>;
  private timer: NodeJS.Timeout | null = null;
  private produced = 0;
  private readonly perTick: number;

  constructor(o: { port: number; records: Map<string, RecordInput[]>; perTick: number; tickMs?: number; recordsPerPacket?: number; ackTimeoutMs?: number }) {
    this.records = o.records;
    this.perTick = o.perTick;
    for (const imei of o.records.keys()) {
      const d = new SimulatedDevice({ host: '127.0.0.1', port: o.port, imei, recordsPerPacket: o.recordsPerPacket ?? 10, ackTimeoutMs: o.ackTimeoutMs ?? 3000, reconnectDelayMs: 200 });
      this.devices.push(d);
      this.imeis.push(imei);
      d.connect();
    }
    this.timer = setInterval(() => this.tick(), o.tickMs ?? 50);
  }

  private tick(): void {
    let any = false;
    for (const [i, d] of this.devices.entries()) {
      const list = this.records.get(this.imeis[i])!;
      for (let k = 0; k < this.perTick && d.stats.generated < list.length; k++) {
        d.record(list[d.stats.generated]);
        any = true;
      }
    }
    this.produced = this.devices.reduce((s, d) => s + d.stats.generated, 0);
    if (!any && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  get total(): number {
    let n = 0;
    for (const list of this.records.values()) n += list.length;
    return n;
  }

  get generated(): number {
    return this.produced;
  }

  get acked(): number {
    return this.devices.reduce((s, d) => s + d.stats.acked, 0);
  }

  get resent(): number {
    return this.devices.reduce((s, d) => s + d.stats.resent, 0);
  }

  get connects(): number {
    return this.devices.reduce((s, d) => s + d.stats.connects, 0);
  }

  /** (imei, ts) of every record a device has had ACKed so far */
  ackedKeys(): Set<string> {
    const out = new Set<string>();
    for (const [i, d] of this.devices.entries()) {
      const imei = this.imeis[i];
      const list = this.records.get(imei)!;
      for (let i = 0; i < d.stats.acked; i++) out.add(keyOf(imei, list[i].timestampMs));
    }
    return out;
  }

  sentKeys(): Set<string> {
    const out = new Set<string>();
    for (const [imei, list] of this.records) for (const r of list) out.add(keyOf(imei, r.timestampMs));
    return out;
  }

  /** every record produced and ACKed */
  done(): boolean {
    return this.timer === null && this.devices.every((d, i) => d.stats.acked === this.records.get(this.imeis[i])!.length);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const d of this.devices) d.stop();
  }
}

/** Every (imei, ts ms) in `positions` (all of it, or the given devices'), with the row count. */
export async function storedKeys(pool: pg.Pool, imeis?: readonly string[]): Promise<{ keys: Set<string>; rows: number }> {
  const { rows } = imeis
    ? await pool.query<{ k: string }>(`SELECT imei || '|' || (extract(epoch FROM ts) * 1000)::bigint AS k FROM positions WHERE imei = ANY($1)`, [imeis])
    : await pool.query<{ k: string }>(`SELECT imei || '|' || (extract(epoch FROM ts) * 1000)::bigint AS k FROM positions`);
  return { keys: new Set(rows.map((r) => r.k)), rows: rows.length };
}

/** missing = expected but not stored; extra = stored but never sent; duplicates = rows − distinct */
export function compareSets(expected: Set<string>, stored: { keys: Set<string>; rows: number }): { missing: number; extra: number; duplicates: number; firstMissing?: string } {
  let missing = 0;
  let firstMissing: string | undefined;
  for (const k of expected) {
    if (!stored.keys.has(k)) {
      missing++;
      firstMissing ??= k;
    }
  }
  let extra = 0;
  for (const k of stored.keys) if (!expected.has(k)) extra++;
  return { missing, extra, duplicates: stored.rows - stored.keys.size, ...(firstMissing ? { firstMissing } : {}) };
}

/** One greppable line per scenario: `FAULTS <scenario> {"sent":…}` (docs/faults.md). */
export function figures(scenario: string, values: Record<string, unknown>): void {
  process.stdout.write(`FAULTS ${scenario} ${JSON.stringify(values)}\n`);
}

export const seconds = (ms: number) => Math.round(ms / 100) / 10;

/** resident set size of a process (kB), from /proc */
export function rssKb(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
}
