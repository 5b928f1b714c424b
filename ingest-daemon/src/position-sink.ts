/**
 * Redis stream adapter: one XADD per AVL record to `telemetry:positions`, capped with
 * `MAXLEN ~`, all records of a frame in one pipeline. Resolves only when every XADD of the frame
 * succeeded; the caller ACKs after that (ARCHITECTURE.md: nothing is acknowledged before it is
 * durable). Any failure rejects with INGEST_ERR_XADD_FAILED and the frame is not ACKed, so the
 * device resends it: duplicates are possible, loss is not (consumers are idempotent on imei+ts).
 */
import type { Redis } from '../../common/src/redis.ts';
import { POSITIONS_STREAM_MAXLEN } from '../../common/src/redis-keys.ts';
import type { AvlRecord } from './codec/decode.ts';
import type { CodecName } from './codec/constants.ts';
import { xaddFailed } from './errors.ts';

export interface PositionSink {
  append(imei: string, codec: CodecName, records: readonly AvlRecord[], rxMs: number): Promise<void>;
}

export interface RedisPositionSinkOptions {
  redis: Redis;
  stream: string;
  instanceId: string;
  maxLen?: number;
  /** a pipeline not answered within this fails (no ACK) */
  timeoutMs: number;
}

export function redisPositionSink(options: RedisPositionSinkOptions): PositionSink {
  const { redis, stream, instanceId, timeoutMs } = options;
  const maxLen = String(options.maxLen ?? POSITIONS_STREAM_MAXLEN);
  return {
    async append(imei, codec, records, rxMs) {
      if (records.length === 0) return;
      const rx = String(rxMs);
      const pipeline = redis.pipeline();
      for (const r of records) {
        pipeline.xadd(
          stream, 'MAXLEN', '~', maxLen, '*',
          'imei', imei,
          'ts', String(r.timestampMs),
          'lat', String(r.lat),
          'lon', String(r.lon),
          'alt', String(r.altitudeM),
          'speed', String(r.speedKmh),
          'heading', String(r.headingDeg),
          'sats', String(r.satellites),
          'priority', String(r.priority),
          'event', String(r.eventIoId),
          'io', r.ioJson(),
          'rx', rx,
          'src', instanceId,
          'fix', r.fix ? '1' : '0',
          'codec', codec,
        );
      }
      let timer: NodeJS.Timeout | undefined;
      try {
        const results = await Promise.race([
          pipeline.exec(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`XADD pipeline not answered within ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
        if (!results) throw new Error('pipeline discarded');
        for (const [error] of results) if (error) throw error;
      } catch (error) {
        throw xaddFailed(error, { imei, records: records.length });
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
