/**
 * The router and the status consumer against real Redis, with an in-memory CommandStore in
 * place of Directus (the whole path with the real Directus is tests/commands.int.test.ts):
 * concurrent routers, delivery reports in order across a store outage, stale reports, the
 * reroute on connect and the expiry sweep.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { silentLogger } from '../../../common/src/log.ts';
import { createTestRedis, type TestRedis } from '../../../common/src/testing/redis.ts';
import type { CommandStore } from './directus-store.ts';
import type { CommandPatch, CommandRow } from './lifecycle.ts';
import { routeCommand, type RouterDeps } from './router.ts';
import { createCommandStatusConsumer, type CommandStatusConsumer } from './status-consumer.ts';

const POLL = { timeout: 15_000, interval: 20 };
const IMEI = '356307042441013';

class MemoryStore implements CommandStore {
  rows = new Map<string, CommandRow>();
  patches: [string, CommandPatch][] = [];
  /** the next n updates throw, as Directus down would */
  failNext = 0;

  add(row: Partial<CommandRow> & { id: string }): void {
    this.rows.set(row.id, { device: IMEI, status: 'queued', text: 'getver', instance: null, expires_at: new Date(Date.now() + 600_000).toISOString(), sent_at: null, ...row });
  }
  async get(id: string) {
    const row = this.rows.get(id);
    return row && { ...row };
  }
  async update(id: string, patch: CommandPatch) {
    if (this.failNext > 0) {
      this.failNext--;
      throw Object.assign(new Error('Directus unavailable'), { retryable: true });
    }
    this.patches.push([id, patch]);
    this.rows.set(id, { ...this.rows.get(id)!, ...patch } as CommandRow);
  }
  async listWaiting(imei: string) {
    return [...this.rows.values()].filter((r) => r.device === imei && (r.status === 'queued' || r.status === 'routed')).map((r) => r.id);
  }
  async listExpired(nowIso: string) {
    return [...this.rows.values()].filter((r) => ['queued', 'routed', 'sent'].includes(r.status) && r.expires_at! <= nowIso).map((r) => r.id);
  }
  async listQueued(nowIso: string) {
    return [...this.rows.values()].filter((r) => r.status === 'queued' && r.expires_at! > nowIso).map((r) => ({ id: r.id, device: r.device }));
  }
}

let t: TestRedis | undefined;
let consumer: CommandStatusConsumer | undefined;
afterEach(async () => {
  await consumer?.close();
  consumer = undefined;
  await t?.cleanup();
  t = undefined;
});

async function setup(sweepIntervalMs = 60_000) {
  t = await createTestRedis('cmd');
  const store = new MemoryStore();
  const deps: RouterDeps = { store, redis: t.redis, keys: t.keys, now: Date.now };
  consumer = createCommandStatusConsumer({ redisUrl: t.url, keys: t.keys, store, log: silentLogger(), consumer: 'c1', blockMs: 100, sweepIntervalMs });
  await consumer.start();
  return { t, store, deps };
}

const report = (t: TestRedis, fields: Record<string, string>) => t.redis.xadd(t.keys.commandEvents, '*', ...Object.entries({ at: String(Date.now()), ...fields }).flat());
const entries = async (t: TestRedis, stream: string) => (await t.redis.xrange(stream, '-', '+')).map(([, f]) => Object.fromEntries(f.flatMap((v, i) => (i % 2 ? [] : [[v, f[i + 1]]]))));

describe('router', () => {
  test('five routers racing on one queued command XADD it once', async () => {
    const { t, store, deps } = await setup();
    store.add({ id: 'race' });
    await t.redis.set(t.keys.deviceRoute(IMEI), 'A');
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => routeCommand(deps, 'race')));
    expect(outcomes.filter((o) => o.outcome === 'routed')).toHaveLength(1);
    expect(outcomes.filter((o) => o.outcome === 'skipped')).toHaveLength(4);
    expect(await entries(t, t.keys.commands('A'))).toEqual([{ id: 'race', imei: IMEI, text: 'getver' }]);
    expect(store.rows.get('race')).toMatchObject({ status: 'routed', instance: 'A' });
  });

  test('offline: left queued; past its expiry: expired', async () => {
    const { store, deps } = await setup();
    store.add({ id: 'off' });
    store.add({ id: 'old', expires_at: new Date(Date.now() - 1).toISOString() });
    expect(await routeCommand(deps, 'off')).toEqual({ command_id: 'off', outcome: 'waiting' });
    expect(store.rows.get('off')!.status).toBe('queued');
    expect(await routeCommand(deps, 'old')).toEqual({ command_id: 'old', outcome: 'expired' });
    expect(store.rows.get('old')).toMatchObject({ status: 'expired', error: 'COMMAND_ERR_EXPIRED' });
    expect(await routeCommand(deps, 'nope')).toEqual({ command_id: 'nope', outcome: 'not-found' });
  });
});

describe('status consumer', () => {
  test('reports are applied in order even when Directus fails in between; nothing is lost', async () => {
    const { t, store } = await setup();
    store.add({ id: 'c1', status: 'routed', instance: 'A' });
    store.failNext = 2;
    await report(t, { id: 'c1', imei: IMEI, status: 'sent', instance: 'A' });
    await report(t, { id: 'c1', imei: IMEI, status: 'responded', response: 'ver 03.27', instance: 'A' });
    await expect.poll(() => store.rows.get('c1')!.status, POLL).toBe('responded');
    expect(store.patches.map(([, p]) => p.status)).toEqual(['sent', 'responded']);
    expect(store.rows.get('c1')).toMatchObject({ response: 'ver 03.27', instance: 'A' });
    await expect.poll(async () => Number(((await t.redis.xpending(t.keys.commandEvents, 'command-status')) as [number])[0]), POLL).toBe(0);
    expect(consumer!.health().failures).toBeGreaterThanOrEqual(1);
  });

  test('a report from an instance the command is no longer routed to is ignored', async () => {
    const { t, store } = await setup();
    store.add({ id: 'moved', status: 'routed', instance: 'B' });
    await report(t, { id: 'moved', imei: IMEI, status: 'failed', error: 'INGEST_ERR_NOT_CONNECTED', instance: 'A' });
    await report(t, { id: 'moved', imei: IMEI, status: 'sent', instance: 'B' });
    await expect.poll(() => store.rows.get('moved')!.status, POLL).toBe('sent');
    expect(store.patches.map(([, p]) => p.status)).toEqual(['sent']);
  });

  test('not connected there: back to queued, then routed where the device is now', async () => {
    const { t, store } = await setup();
    store.add({ id: 'nc', status: 'routed', instance: 'A' });
    await t.redis.set(t.keys.deviceRoute(IMEI), 'B');
    await report(t, { id: 'nc', imei: IMEI, status: 'failed', error: 'INGEST_ERR_NOT_CONNECTED', instance: 'A' });
    await expect.poll(() => store.rows.get('nc')!.instance, POLL).toBe('B');
    expect(store.rows.get('nc')!.status).toBe('routed');
    expect(await entries(t, t.keys.commands('B'))).toEqual([{ id: 'nc', imei: IMEI, text: 'getver' }]);
  });

  test('online: the device’s waiting commands are routed to the instance that announced it, oldest first', async () => {
    const { t, store } = await setup();
    store.add({ id: 'w1', text: 'getinfo' });
    store.add({ id: 'w2', text: 'getver' });
    store.add({ id: 'sent-before', status: 'sent', instance: 'A' });
    store.add({ id: 'other-device', device: '111111111111111' });
    await t.redis.set(t.keys.deviceRoute(IMEI), 'C');
    await report(t, { imei: IMEI, status: 'online', instance: 'C' });
    await expect.poll(async () => (await entries(t, t.keys.commands('C'))).map((e) => e.id), POLL).toEqual(['w1', 'w2']);
    expect(store.rows.get('sent-before')!.status).toBe('sent');
    expect(store.rows.get('other-device')!.status).toBe('queued');
  });

  test('the sweep expires open commands past their TTL and routes queued ones of online devices', async () => {
    const { t, store } = await setup(100);
    store.add({ id: 'late', status: 'sent', instance: 'A', expires_at: new Date(Date.now() - 1000).toISOString() });
    store.add({ id: 'lost-job' });
    await t.redis.set(t.keys.deviceRoute(IMEI), 'D');
    await expect.poll(() => store.rows.get('late')!.status, POLL).toBe('expired');
    await expect.poll(() => store.rows.get('lost-job')!.status, POLL).toBe('routed');
    expect(await entries(t, t.keys.commands('D'))).toEqual([{ id: 'lost-job', imei: IMEI, text: 'getver' }]);
  });
});
