/** Helpers for the ingest integration tests: a server in its own Redis namespace, a raw TCP client, polling. */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { silentLogger } from '../../common/src/log.ts';
import { createRedis, type Redis } from '../../common/src/redis.ts';
import { redisKeys, type RedisKeys } from '../../common/src/redis-keys.ts';
import { ingestConfig, type IngestConfig } from './config.ts';
import { acceptAnyDevice, type DeviceDirectory } from './known-devices.ts';
import { buildIngestServer, type IngestServer } from './server.ts';
export { freePort } from '../../common/src/net.ts';

export const REDIS_URL = process.env.TRM_TEST_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Polls `check` until it returns a truthy value (no fixed sleeps in tests). */
export async function waitFor<T>(check: () => T | Promise<T>, what: string, timeoutMs = 15_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function ready(redis: Redis): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve) => redis.once('ready', () => resolve()));
}

export interface TestIngest {
  server: IngestServer;
  port: number;
  keys: RedisKeys;
  /** a normal client on the same namespace for assertions */
  redis: Redis;
  config: IngestConfig;
  close(): Promise<void>;
}

export async function startTestIngest(overrides: Partial<IngestConfig> = {}, options: { devices?: DeviceDirectory; redisUrl?: string } = {}): Promise<TestIngest> {
  const url = options.redisUrl ?? REDIS_URL;
  const prefix = `t:${randomUUID()}:`;
  const keys = redisKeys(prefix);
  const config = ingestConfig({ host: '127.0.0.1', port: 0, instanceId: `test-${randomUUID().slice(0, 8)}`, redisUrl: url, ...overrides });
  const redis = createRedis(url, { enableOfflineQueue: false });
  redis.on('error', () => {});
  const commandsRedis = createRedis(url);
  commandsRedis.on('error', () => {});
  const probe = createRedis(url);
  probe.on('error', () => {});
  await ready(redis);
  const server = buildIngestServer({ config, redis, commandsRedis, keys, devices: options.devices ?? acceptAnyDevice, log: silentLogger() });
  const { port } = await server.listen();
  return {
    server,
    port,
    keys,
    redis: probe,
    config,
    async close() {
      await server.close();
      redis.disconnect();
      if (probe.status === 'ready') {
        const found = await probe.keys(`${prefix}*`);
        if (found.length) await probe.del(...found);
      }
      probe.disconnect();
    },
  };
}

/** A raw TCP client that reads exact byte counts. */
export class RawClient {
  readonly socket: net.Socket;
  readonly closed: Promise<void>;
  private buf = Buffer.alloc(0);
  private waiter: (() => void) | null = null;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (c: Buffer) => {
      this.buf = Buffer.concat([this.buf, c]);
      this.waiter?.();
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.on('close', () => {
      resolve();
      this.waiter?.();
    }));
  }

  static async connect(port: number): Promise<RawClient> {
    const socket = net.connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawClient(socket);
  }

  write(bytes: Buffer | string): void {
    this.socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'hex') : bytes);
  }

  /** Reads exactly n bytes; rejects if the socket closes first. */
  async read(n: number, timeoutMs = 10_000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (this.buf.length < n) {
      if (this.socket.destroyed || this.socket.readableEnded) throw new Error(`socket closed after ${this.buf.length} of ${n} bytes`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out reading ${n} bytes (have ${this.buf.length})`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.waiter = null;
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  get received(): number {
    return this.buf.length;
  }

  end(): void {
    this.socket.destroy();
  }
}

/** A throwaway redis-server (never the shared one): no persistence, killed and restarted at will. */
export class ThrowawayRedis {
  readonly port: number;
  private child: ChildProcess | null = null;

  constructor(port: number) {
    this.port = port;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    const probe = createRedis(this.url, { retryStrategy: () => 50, lazyConnect: false });
    probe.on('error', () => {});
    await waitFor(async () => (await probe.ping().catch(() => '')) === 'PONG', `redis-server on ${this.port}`);
    probe.disconnect();
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGKILL');
    await exited;
    this.child = null;
  }
}
