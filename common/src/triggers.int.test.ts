/** Every producer against real Redis: each writes where the topic it stands for points. */
import { Queue } from 'bullmq';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { createRedis } from './redis.ts';
import { CONTROL_STREAM_MAXLEN } from './redis-keys.ts';
import { createTestRedis, type TestRedis } from './testing/redis.ts';
import { enqueueDeviceCommand, enqueuePenaltyEvaluation, enqueueStartOrder, parseTopic, requestRecompute, topicKey, TRIGGER_PRODUCERS } from './triggers.ts';

let t: TestRedis;
const queues: Queue[] = [];
beforeEach(async () => {
  t = await createTestRedis('triggers');
});
afterEach(async () => {
  for (const q of queues.splice(0)) await q.close();
  await t.cleanup();
});
const queue = (name: string) => {
  const q = new Queue(name, { connection: createRedis(t.url), prefix: t.keys.bullPrefix });
  queues.push(q);
  return q;
};

describe('producers', () => {
  test('requestRecompute XADDs a validated entry to the stream its topic names', async () => {
    const id = await requestRecompute(t.redis, t.keys, { scope: 'stage', id: '3', from: '2026-05-01T08:00:00Z', to: '2026-05-01T10:00:00Z', reason: 'flag', requested_by: 'op' });
    const key = topicKey(parseTopic(Object.keys(TRIGGER_PRODUCERS).find((k) => TRIGGER_PRODUCERS[k as keyof typeof TRIGGER_PRODUCERS] === 'requestRecompute')!), t.keys);
    const entries = await t.redis.xrange(key, '-', '+');
    expect(entries).toEqual([[id, ['scope', 'stage', 'id', '3', 'from', '2026-05-01T08:00:00.000Z', 'to', '2026-05-01T10:00:00.000Z', 'reason', 'flag', 'requested_by', 'op']]]);
    expect(CONTROL_STREAM_MAXLEN).toBeGreaterThan(0);
    await expect(requestRecompute(t.redis, t.keys, { scope: 'team' as 'event', id: '1' })).rejects.toMatchObject({ code: 'FN_ERR_BAD_INPUT' });
  });

  test('enqueueDeviceCommand queues once per command id', async () => {
    const q = queue(t.keys.queues.deviceCommands);
    const first = await enqueueDeviceCommand(q, t.keys, 17);
    const again = await enqueueDeviceCommand(q, t.keys, '17');
    expect(first).toBe('cmd-17');
    expect(again).toBe('cmd-17');
    expect(await q.getWaitingCount()).toBe(1);
    expect((await q.getJob('cmd-17'))?.data).toEqual({ command_id: '17' });
  });

  test('enqueueStartOrder and enqueuePenaltyEvaluation validate and land in their queues', async () => {
    const orders = queue(t.keys.queues.startOrders);
    const penalties = queue(t.keys.queues.penalties);
    const o = await enqueueStartOrder(orders, t.keys, { stage_id: '4', requested_by: 'official' });
    const p = await enqueuePenaltyEvaluation(penalties, t.keys, { scope: 'entry', id: '9', reason: 'recomputed' });
    expect((await orders.getJob(o!))?.data).toEqual({ stage_id: '4', requested_by: 'official' });
    expect((await penalties.getJob(p!))?.data).toEqual({ scope: 'entry', id: '9', reason: 'recomputed' });
    await expect(enqueueStartOrder(penalties, t.keys, { stage_id: '4' })).rejects.toMatchObject({ code: 'TRIGGER_ERR_WRONG_QUEUE' });
    await expect(enqueuePenaltyEvaluation(penalties, t.keys, { scope: 'device' as 'entry', id: '1' })).rejects.toMatchObject({ code: 'FN_ERR_BAD_INPUT' });
  });
});
