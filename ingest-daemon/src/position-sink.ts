/**
 * Redis stream adapter: one XADD per AVL record to `telemetry:positions`, capped with
 * `MAXLEN ~`. Frames appended during one event-loop turn (typically many connections' data
 * events read in the same poll) share one pipeline, sent by setImmediate: one socket write and
 * one timeout timer per turn instead of per frame, and the XADDs are encoded straight to RESP
 * (resp-connection.ts says why not ioredis here). A frame's promise resolves only when every
 * one of its own XADDs succeeded; the caller ACKs after that (ARCHITECTURE.md: nothing is
 * acknowledged before it is durable). An error reply to one of its XADDs, a lost or
 * not-ready connection, or the timeout rejects with INGEST_ERR_XADD_FAILED and the frame is
 * not ACKed, so the device resends it: duplicates are possible, loss is not (consumers are
 * idempotent on imei+ts).
 *
 * Batch state: none → OPEN (collecting; send scheduled) → SENT (timer armed) → SETTLED (every
 * frame resolved or rejected, once). A batch that reaches maxBatchRecords is sent at once and
 * the next frame opens a new one, so a pipeline is bounded.
 */
import { POSITIONS_STREAM_MAXLEN } from '../../common/src/redis-keys.ts';
import type { AvlRecord } from './codec/decode.ts';
import type { CodecName } from './codec/constants.ts';
import { xaddFailed } from './errors.ts';
import { RespConnection, type ReplyError, type RespStatus } from './resp-connection.ts';
import { bulk, bulkAscii } from './resp.ts';

export interface PositionSink {
  append(imei: string, codec: CodecName, records: readonly AvlRecord[], rxMs: number): Promise<void>;
  /** opens the connection and resolves once it is ready (called by listen()) */
  start?(): Promise<void>;
  status?(): string;
  close?(): void;
}

/** The writer the sink needs: RespConnection, or a stand-in in tests. */
export interface BatchWriter {
  status: RespStatus;
  ready(): Promise<void>;
  send(payload: string, replies: number, done: (failure: Error | null, errors: ReplyError[]) => void): void;
  close(): void;
}

export interface RedisPositionSinkOptions {
  redisUrl: string;
  stream: string;
  instanceId: string;
  maxLen?: number;
  /** a pipeline not answered within this fails (no ACK) */
  timeoutMs: number;
  /** XADDs per pipeline before it is sent without waiting for the end of the turn */
  maxBatchRecords?: number;
  onError?: (error: Error) => void;
  /** default: a RespConnection to redisUrl */
  connect?: () => BatchWriter;
}

interface PendingFrame {
  imei: string;
  /** index of its first XADD in the batch */
  first: number;
  count: number;
  resolve(): void;
  reject(error: Error): void;
}

/**
 * The RESP of one XADD, field order and values exactly as ARCHITECTURE.md's stream entry:
 * imei ts lat lon alt speed heading sats priority event io rx src fix codec. Every variable
 * value is ASCII (digits, signed decimals, JSON of numbers and 0x hex strings).
 */
export function encodeXadd(head: string, src: string, imei: string, codec: string, r: AvlRecord, rx: string): string {
  return (
    `${head}$4\r\nimei\r\n${bulkAscii(imei)}$2\r\nts\r\n${bulkAscii(String(r.timestampMs))}` +
    `$3\r\nlat\r\n${bulkAscii(String(r.lat))}$3\r\nlon\r\n${bulkAscii(String(r.lon))}` +
    `$3\r\nalt\r\n${bulkAscii(String(r.altitudeM))}$5\r\nspeed\r\n${bulkAscii(String(r.speedKmh))}` +
    `$7\r\nheading\r\n${bulkAscii(String(r.headingDeg))}$4\r\nsats\r\n${bulkAscii(String(r.satellites))}` +
    `$8\r\npriority\r\n${bulkAscii(String(r.priority))}$5\r\nevent\r\n${bulkAscii(String(r.eventIoId))}` +
    `$2\r\nio\r\n${bulkAscii(r.ioJson())}$2\r\nrx\r\n${rx}$3\r\nsrc\r\n${src}` +
    `$3\r\nfix\r\n${r.fix ? '$1\r\n1\r\n' : '$1\r\n0\r\n'}$5\r\ncodec\r\n${bulkAscii(codec)}`
  );
}

/** `*36 XADD stream MAXLEN ~ n *`: the part every record shares (15 field/value pairs follow). */
export function xaddHead(stream: string, maxLen: number): string {
  return `*36\r\n$4\r\nXADD\r\n${bulk(stream)}$6\r\nMAXLEN\r\n$1\r\n~\r\n${bulk(String(maxLen))}$1\r\n*\r\n`;
}

export function redisPositionSink(options: RedisPositionSinkOptions): PositionSink {
  const { stream, instanceId, timeoutMs } = options;
  const head = xaddHead(stream, options.maxLen ?? POSITIONS_STREAM_MAXLEN);
  const src = bulk(instanceId);
  const maxBatchRecords = options.maxBatchRecords ?? 4_096;
  const connect = options.connect ?? (() => new RespConnection({ url: options.redisUrl, connectionName: `ingest-positions:${instanceId}`, onError: options.onError }));
  let writer: BatchWriter | null = null;
  let payload = '';
  let frames: PendingFrame[] = [];
  let queued = 0;
  let scheduled: NodeJS.Immediate | null = null;

  function send(): void {
    if (scheduled) clearImmediate(scheduled);
    scheduled = null;
    const batch = frames;
    const bytes = payload;
    const replies = queued;
    frames = [];
    payload = '';
    queued = 0;
    let settled = false;
    const settle = (failure: Error | null, errors: ReplyError[]) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      let e = 0;
      for (const f of batch) {
        if (failure) {
          f.reject(xaddFailed(failure, { imei: f.imei, records: f.count }));
          continue;
        }
        while (e < errors.length && errors[e].index < f.first) e++;
        if (e < errors.length && errors[e].index < f.first + f.count) f.reject(xaddFailed(new Error(errors[e].message), { imei: f.imei, records: f.count }));
        else f.resolve();
      }
    };
    const timer = setTimeout(() => settle(new Error(`XADD pipeline not answered within ${timeoutMs} ms`), []), timeoutMs);
    if (!writer) settle(new Error('positions sink not started'), []);
    else writer.send(bytes, replies, settle);
  }

  return {
    start() {
      writer ??= connect();
      return writer.ready();
    },
    status() {
      return writer?.status ?? 'not started';
    },
    close() {
      writer?.close();
    },
    append(imei, codec, records, rxMs) {
      if (records.length === 0) return Promise.resolve();
      if (scheduled === null) scheduled = setImmediate(send);
      const rx = bulkAscii(String(rxMs));
      const first = queued;
      for (let i = 0; i < records.length; i++) payload += encodeXadd(head, src, imei, codec, records[i], rx);
      queued += records.length;
      const done = new Promise<void>((resolve, reject) => frames.push({ imei, first, count: records.length, resolve, reject }));
      if (queued >= maxBatchRecords) send();
      return done;
    },
  };
}
