import { describe, expect, test } from 'vitest';
import { encodeAvlPacket } from '../../simulator/src/avl-encoder.ts';
import { decodePacket, type AvlRecord } from './codec/decode.ts';
import { redisPositionSink, type BatchWriter } from './position-sink.ts';
import type { ReplyError, RespStatus } from './resp-connection.ts';
import { encodeCommand, ReplyReader } from './resp.ts';

const IMEI = '356307042441013';

function decoded(n: number): AvlRecord[] {
  const t0 = 1_700_000_000_000;
  const recs = Array.from({ length: n }, (_, i) => ({ timestampMs: t0 + i * 1000, lat: -41.3 + i / 1000, lon: 19.8, altitudeM: -5, headingDeg: 270, satellites: i === 0 ? 0 : 9, speedKmh: 72, priority: 1, eventIoId: 239, io: { 239: 1, 16: 123456, 78: 2n ** 62n } }));
  return decodePacket(encodeAvlPacket('8E', recs), { nowMs: t0 + 3_600_000 }).records;
}

/** Splits a payload of RESP commands back into argument lists. */
function commands(payload: string): string[][] {
  const out: string[][] = [];
  const b = Buffer.from(payload);
  let p = 0;
  while (p < b.length) {
    const line = () => {
      const e = b.indexOf('\r\n', p);
      const s = b.toString('utf8', p, e);
      p = e + 2;
      return s;
    };
    const n = Number(line().slice(1));
    const args: string[] = [];
    for (let i = 0; i < n; i++) {
      const len = Number(line().slice(1));
      args.push(b.toString('utf8', p, p + len));
      p += len + 2;
    }
    out.push(args);
  }
  return out;
}

class FakeWriter implements BatchWriter {
  status: RespStatus = 'ready';
  ready(): Promise<void> {
    return Promise.resolve();
  }
  sent: { payload: string; replies: number; done: (failure: Error | null, errors: ReplyError[]) => void }[] = [];
  send(payload: string, replies: number, done: (failure: Error | null, errors: ReplyError[]) => void): void {
    this.sent.push({ payload, replies, done });
  }
  close(): void {}
}

function sink(writer: FakeWriter, maxBatchRecords?: number) {
  const s = redisPositionSink({ redisUrl: 'redis://x', stream: 'p:telemetry:positions', instanceId: 'ingest-é-1', timeoutMs: 60_000, maxBatchRecords, connect: () => writer });
  void s.start!();
  return s;
}

const tick = () => new Promise((r) => setImmediate(r));

describe('redisPositionSink', () => {
  test('one capped XADD per record with the contract fields, byte for byte what a generic client sends', async () => {
    const w = new FakeWriter();
    const recs = decoded(2);
    const done = sink(w).append(IMEI, '8E', recs, 1_700_000_100_000);
    await tick();
    expect(w.sent).toHaveLength(1);
    const expected = recs.map((r) => [
      'XADD', 'p:telemetry:positions', 'MAXLEN', '~', '2000000', '*',
      'imei', IMEI, 'ts', String(r.timestampMs), 'lat', String(r.lat), 'lon', String(r.lon), 'alt', String(r.altitudeM),
      'speed', String(r.speedKmh), 'heading', String(r.headingDeg), 'sats', String(r.satellites), 'priority', String(r.priority),
      'event', String(r.eventIoId), 'io', r.ioJson(), 'rx', '1700000100000', 'src', 'ingest-é-1', 'fix', r.fix ? '1' : '0', 'codec', '8E',
    ]);
    expect(w.sent[0].payload).toBe(expected.map(encodeCommand).join(''));
    expect(commands(w.sent[0].payload)).toEqual(expected);
    expect(w.sent[0].replies).toBe(2);
    w.sent[0].done(null, []);
    await expect(done).resolves.toBeUndefined();
  });

  test('frames of one turn share a pipeline; each is settled by its own replies only', async () => {
    const w = new FakeWriter();
    const s = sink(w);
    const a = s.append(IMEI, '8E', decoded(3), 1);
    const b = s.append('356307042441014', '8E', decoded(2), 1);
    const c = s.append('356307042441015', '8', decoded(1), 1);
    await tick();
    expect(w.sent.map((x) => x.replies)).toEqual([6]);
    w.sent[0].done(null, [{ index: 4, message: 'ERR boom' }]); // the second XADD of frame b
    await expect(a).resolves.toBeUndefined();
    await expect(b).rejects.toMatchObject({ code: 'INGEST_ERR_XADD_FAILED' });
    await expect(c).resolves.toBeUndefined();
  });

  test('a lost connection fails every frame of the batch; the next turn opens a new batch', async () => {
    const w = new FakeWriter();
    const s = sink(w);
    const a = s.append(IMEI, '8E', decoded(1), 1);
    await tick();
    w.sent[0].done(new Error('Redis connection lost'), []);
    await expect(a).rejects.toMatchObject({ code: 'INGEST_ERR_XADD_FAILED' });
    const b = s.append(IMEI, '8E', decoded(1), 1);
    await tick();
    expect(w.sent).toHaveLength(2);
    w.sent[1].done(null, []);
    await expect(b).resolves.toBeUndefined();
  });

  test('a batch is sent as soon as it reaches maxBatchRecords', async () => {
    const w = new FakeWriter();
    const s = sink(w, 4);
    void s.append(IMEI, '8E', decoded(3), 1);
    expect(w.sent).toHaveLength(0);
    void s.append(IMEI, '8E', decoded(2), 1);
    expect(w.sent.map((x) => x.replies)).toEqual([5]);
    void s.append(IMEI, '8E', decoded(1), 1);
    await tick();
    expect(w.sent.map((x) => x.replies)).toEqual([5, 1]);
    for (const x of w.sent) x.done(null, []);
  });

  test('a sink that was not started fails the frame (no ACK)', async () => {
    const s = redisPositionSink({ redisUrl: 'redis://x', stream: 's', instanceId: 'i', timeoutMs: 1_000, connect: () => new FakeWriter() });
    await expect(s.append(IMEI, '8E', decoded(1), 1)).rejects.toMatchObject({ code: 'INGEST_ERR_XADD_FAILED' });
  });

  test('replies read from the wire map onto frames in order', () => {
    const seen: (string | null)[] = [];
    new ReplyReader((e) => seen.push(e)).push(Buffer.from('$3\r\n1-0\r\n-ERR x\r\n'));
    expect(seen).toEqual([null, 'ERR x']);
  });
});
