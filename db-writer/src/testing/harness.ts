/**
 * Test and benchmark helpers for the writer: synthetic records, XADD in pipelined chunks, an
 * in-process writer on a test database and Redis namespace, and polling without exact sleeps.
 */
import { silentLogger, type Logger } from '../../../common/src/log.ts';
import { createPool } from '../../../common/src/pg.ts';
import { createRedis, type Redis } from '../../../common/src/redis.ts';
import { POSITIONS_STREAM_MAXLEN, type RedisKeys } from '../../../common/src/redis-keys.ts';
import type { SqlMode } from '../config.ts';
import { createWriterMetrics } from '../metrics.ts';
import { RespClient } from '../resp-client.ts';
import { createPgSink, type PositionSink } from '../sink.ts';
import { createPositionStream } from '../stream.ts';
import { buildWriter, type Writer, type WriterOptions } from '../writer.ts';
export { waitUntil as waitFor } from '../../../common/src/testing/wait.ts';

export const BASE_TS_MS = Date.UTC(2024, 5, 1, 6, 0, 0); // 1 June 2024, a rally morning

/** Record `i` of a synthetic fleet: device i % devices, one fix per second per device. */
export function syntheticRecord(i: number, devices = 100, baseTsMs = BASE_TS_MS): string[] {
  const device = i % devices;
  const seq = Math.floor(i / devices);
  const imei = String(356307040000000 + device);
  const ts = baseTsMs + seq * 1000;
  return [
    'imei', imei, 'ts', String(ts),
    'lat', (41 + device * 0.001 + seq * 0.00001).toFixed(6), 'lon', (19.8 + seq * 0.00001).toFixed(6),
    'alt', String(100 + (seq % 50)), 'speed', String((seq * 7) % 160), 'heading', String((seq * 13) % 360),
    'sats', '11', 'priority', '0', 'event', '0', 'io', `{"239":1,"66":${12000 + (seq % 900)},"16":${seq}}`,
    'rx', String(ts + 350), 'src', 'test-ingest', 'fix', '1', 'codec', '8E',
  ];
}

export function recordKey(fields: readonly string[]): string {
  return `${fields[fields.indexOf('imei') + 1]}|${fields[fields.indexOf('ts') + 1]}`;
}

/** XADD (capped like the ingest daemon does) in pipelined chunks; returns the ids. */
export async function xaddAll(redis: Redis, stream: string, records: readonly (readonly string[])[], chunk = 1000, maxLen = POSITIONS_STREAM_MAXLEN): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < records.length; i += chunk) {
    const pipeline = redis.pipeline();
    for (const fields of records.slice(i, i + chunk)) pipeline.xadd(stream, 'MAXLEN', '~', maxLen, '*', ...fields);
    const results = (await pipeline.exec()) ?? [];
    for (const [error, id] of results) {
      if (error) throw error;
      ids.push(id as string);
    }
  }
  return ids;
}

export interface TestWriter {
  writer: Writer;
  consumer: string;
  close(): Promise<void>;
}

/** An in-process writer with test-friendly knobs (small batches, short idle and backoff). */
export function startTestWriter(options: {
  databaseUrl: string;
  redisUrl: string;
  keys: RedisKeys;
  consumer: string;
  sql?: SqlMode;
  sink?: PositionSink;
  log?: Logger;
  overrides?: Partial<WriterOptions>;
}): TestWriter {
  const redis = createRedis(options.redisUrl);
  const blocking = new RespClient(options.redisUrl);
  const acks = new RespClient(options.redisUrl, 'trm-writer-test-ack');
  const pool = createPool(options.databaseUrl, process.env, { max: options.overrides?.concurrentBatches ?? 2, application_name: `trm writer test ${options.consumer}` });
  pool.on('error', () => {});
  const writer = buildWriter({
    stream: createPositionStream({ redis, blocking, keys: options.keys, consumer: options.consumer, acks }),
    sink: options.sink ?? createPgSink(pool, { mode: options.sql ?? 'copy' }),
    log: options.log ?? silentLogger(),
    consumer: options.consumer,
    policy: { maxRows: 500, maxWaitMs: 20, blockMs: 100 },
    claimIdleMs: 60_000,
    retryBaseMs: 20,
    retryMaxMs: 200,
    drainMs: 5000,
    streamMaxLen: POSITIONS_STREAM_MAXLEN,
    lagWarnPercent: 50,
    monitorIntervalMs: 100,
    metrics: createWriterMetrics(),
    ...options.overrides,
  });
  writer.start();
  let closed: Promise<void> | undefined;
  return {
    writer,
    consumer: options.consumer,
    close() {
      closed ??= (async () => {
        await writer.close();
        await pool.end();
        redis.disconnect();
        blocking.close();
        acks.close();
      })();
      return closed;
    },
  };
}

/** Every (imei, ts-in-ms) in positions, as `imei|ts` keys, with the row count. */
export async function storedKeys(query: (sql: string) => Promise<{ rows: { k: string }[] }>): Promise<{ keys: Set<string>; rows: number }> {
  const { rows } = await query(`SELECT imei || '|' || (extract(epoch FROM ts) * 1000)::bigint AS k FROM positions`);
  return { keys: new Set(rows.map((r) => r.k)), rows: rows.length };
}

export async function groupState(redis: Redis, stream: string): Promise<{ lag: number | null; pending: number }> {
  const groups = (await redis.call('XINFO', 'GROUPS', stream)) as unknown[][];
  for (const g of groups) {
    const m = new Map<string, unknown>();
    for (let i = 0; i + 1 < g.length; i += 2) m.set(String(g[i]), g[i + 1]);
    if (m.get('name') === 'processor') return { lag: m.get('lag') === null ? null : Number(m.get('lag')), pending: Number(m.get('pending')) };
  }
  return { lag: null, pending: 0 };
}
