/**
 * The connector against real Redis and the local functions gateway (in process, port 0), whose
 * functions are the fixture connector/test-fixtures/flaky run through the template runtime:
 * it answers the status the payload's `answer` asks for. Routes come from the real stack.yml.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { silentLogger } from '../../common/src/log.ts';
import { createRedis } from '../../common/src/redis.ts';
import { createTestRedis, type TestRedis } from '../../common/src/testing/redis.ts';
import { enqueueDeviceCommand, requestRecompute } from '../../common/src/triggers.ts';
import { buildFunctionsGateway, type CallRecord, type FunctionsGateway } from '../../functions/gateway/gateway.ts';
import { loadStack } from '../../functions/gateway/stack.ts';
import { buildConnector, type Connector, type ConnectorOptions } from './connector.ts';
import { routesFromStack, type Route } from './routes.ts';
import { CONSUMER_GROUP } from './stream-consumer.ts';

const fixture = fileURLToPath(new URL('../test-fixtures/flaky/', import.meta.url));
const stackFile = fileURLToPath(new URL('../../stack.yml', import.meta.url));
const log = silentLogger();
const POLL = { timeout: 30_000, interval: 20 };

let gateway: FunctionsGateway;
let gatewayUrl: string;
let routes: Route[];
const calls: CallRecord[] = [];

beforeAll(async () => {
  const stack = await loadStack(stackFile, {});
  routes = routesFromStack(stack);
  // every function of the stack, played by the fixture
  gateway = await buildFunctionsGateway({ functions: stack.functions.map((f) => ({ name: f.name, handlerDir: fixture })), log, env: {}, onCall: (c) => calls.push(c) });
  gatewayUrl = `http://127.0.0.1:${await gateway.listen(0)}`;
});
afterAll(() => gateway?.close());

/** calls whose payload carries this marker */
const payloadOf = (c: CallRecord) => {
  const body = c.body as { got?: Record<string, unknown>; details?: { got?: Record<string, unknown> } };
  return body.got ?? body.details?.got ?? {};
};
const callsFor = (marker: string, fn?: string) => calls.filter((c) => payloadOf(c).marker === marker && (!fn || c.function === fn));

interface World {
  t: TestRedis;
  connectors: Connector[];
  queues: Queue[];
}
let world: World | undefined;

async function setup(): Promise<World> {
  world = { t: await createTestRedis('connector'), connectors: [], queues: [] };
  return world;
}
afterEach(async () => {
  if (!world) return;
  for (const c of world.connectors) await c.kill();
  for (const q of world.queues) await q.close();
  await world.t.cleanup();
  world = undefined;
});

function connector(w: World, overrides: Partial<ConnectorOptions> = {}): Connector {
  const c = buildConnector({
    redisUrl: w.t.url,
    keys: w.t.keys,
    routes,
    gatewayUrl,
    log,
    consumer: 'a',
    concurrency: 4,
    retry: { maxAttempts: 3, backoffMs: 1, backoffMaxMs: 5 },
    claimIdleMs: 200,
    blockMs: 100,
    lockDurationMs: 1_000,
    stalledIntervalMs: 300,
    ...overrides,
  });
  w.connectors.push(c);
  return c;
}

function queue(w: World, name: string): Queue {
  const q = new Queue(name, { connection: createRedis(w.t.url), prefix: w.t.keys.bullPrefix });
  w.queues.push(q);
  return q;
}

async function deadLetters(w: World): Promise<Record<string, string>[]> {
  const entries = await w.t.redis.xrange(w.t.keys.connectorDead, '-', '+');
  return entries.map(([, fields]) => Object.fromEntries(fields.flatMap((v, i) => (i % 2 === 0 ? [[v, fields[i + 1]]] : []))));
}

async function pendingCount(w: World): Promise<number> {
  const summary = (await w.t.redis.xpending(w.t.keys.recomputeRequests, CONSUMER_GROUP)) as [number, ...unknown[]];
  return Number(summary[0]);
}

describe('connector', () => {
  test('routes from stack.yml: one stream and three queues', () => {
    expect(routes.map((r) => [`${r.topic.kind}:${r.topic.name}`, r.functions.map((f) => f.name), r.coalesce]).sort()).toEqual([
      ['queue:device-commands', ['route-command'], false],
      ['queue:evaluate-penalties', ['evaluate-penalties'], false],
      ['queue:start-orders', ['generate-start-order'], false],
      ['stream:recompute:requests', ['recompute'], true],
    ]);
  });

  test('a stream entry invokes recompute and a BullMQ job invokes route-command; both are acknowledged', async () => {
    const w = await setup();
    const c = connector(w);
    await c.start();
    const commands = queue(w, w.t.keys.queues.deviceCommands);
    await requestRecompute(w.t.redis, w.t.keys, { scope: 'entry', id: 'rt-1', from: '2026-05-01T08:00:00Z', to: '2026-05-01T09:00:00Z', reason: 'test' });
    const jobId = await enqueueDeviceCommand(commands, w.t.keys, 'rt-cmd-1');

    await expect.poll(() => calls.filter((c) => c.function === 'recompute' && payloadOf(c).id === 'rt-1').length, POLL).toBe(1);
    const rc = calls.find((c) => c.function === 'recompute' && payloadOf(c).id === 'rt-1')!;
    expect(rc.body).toEqual({ ok: true, topic: 'stream:recompute:requests', got: { scope: 'entry', id: 'rt-1', from: '2026-05-01T08:00:00.000Z', to: '2026-05-01T09:00:00.000Z', reason: 'test' } });
    await expect.poll(() => pendingCount(w), POLL).toBe(0);

    await expect.poll(() => calls.some((c) => c.function === 'route-command' && payloadOf(c).command_id === 'rt-cmd-1'), POLL).toBe(true);
    await expect.poll(async () => (await commands.getJob(jobId!))?.getState(), POLL).toBe('completed');
    expect(calls.filter((c) => payloadOf(c).command_id === 'rt-cmd-1').map((c) => c.function)).toEqual(['route-command']);
    expect(await deadLetters(w)).toEqual([]);
    expect(c.health()).toMatchObject({ ok: true });
  });

  test('a 5xx is retried, then dead-lettered with payload, function, status, error and attempts; then acknowledged', async () => {
    const w = await setup();
    const c = connector(w);
    await c.start();
    await w.t.redis.xadd(w.t.keys.recomputeRequests, '*', 'scope', 'entry', 'id', 'r5', 'marker', 'five-stream', 'answer', '500');
    const penalties = queue(w, w.t.keys.queues.penalties);
    const job = await penalties.add('evaluate-penalties', { scope: 'stage', id: 's1', marker: 'five-queue', answer: 503 }, { attempts: 1 });

    await expect.poll(async () => (await deadLetters(w)).length, POLL).toBe(2);
    const dead = await deadLetters(w);
    const streamDead = dead.find((d) => d.function === 'recompute')!;
    expect(streamDead).toMatchObject({ topic: 'stream:recompute:requests', status: '500', code: 'FIXTURE_500', attempts: '3', error: 'asked to answer 500' });
    expect(JSON.parse(streamDead.payload)).toEqual({ scope: 'entry', id: 'r5', marker: 'five-stream', answer: '500' });
    expect(callsFor('five-stream', 'recompute')).toHaveLength(3);
    await expect.poll(() => pendingCount(w), POLL).toBe(0);

    const queueDead = dead.find((d) => d.function === 'evaluate-penalties')!;
    expect(queueDead).toMatchObject({ topic: 'queue:evaluate-penalties', status: '503', attempts: '3', source: `job:${job.id}` });
    expect(callsFor('five-queue', 'evaluate-penalties')).toHaveLength(3);
    await expect.poll(async () => (await penalties.getJob(job.id!))?.getState(), POLL).toBe('failed');
    expect(c.registry.render()).toMatch(/trm_connector_retries_total\{function="recompute"\} 2/);
  });

  test('a 4xx is not retried: one call, then the dead letter, then the ack', async () => {
    const w = await setup();
    const c = connector(w);
    await c.start();
    await w.t.redis.xadd(w.t.keys.recomputeRequests, '*', 'scope', 'entry', 'id', 'r4', 'marker', 'four-stream', 'answer', '400');
    const orders = queue(w, w.t.keys.queues.startOrders);
    await orders.add('generate-start-order', { stage_id: 1, marker: 'four-queue', answer: 422 }, { attempts: 1 });

    await expect.poll(async () => (await deadLetters(w)).length, POLL).toBe(2);
    const dead = await deadLetters(w);
    expect(dead.find((d) => d.function === 'recompute')).toMatchObject({ status: '400', attempts: '1', code: 'FIXTURE_400' });
    expect(dead.find((d) => d.function === 'generate-start-order')).toMatchObject({ status: '422', attempts: '1' });
    expect(callsFor('four-stream')).toHaveLength(1);
    expect(callsFor('four-queue')).toHaveLength(1);
    await expect.poll(() => pendingCount(w), POLL).toBe(0);
  });

  test('a network error is retried and dead-lettered with its code', async () => {
    const w = await setup();
    const closed = await closedPortUrl();
    const c = connector(w, { gatewayUrl: closed });
    await c.start();
    await w.t.redis.xadd(w.t.keys.recomputeRequests, '*', 'scope', 'entry', 'id', 'net');
    await expect.poll(async () => (await deadLetters(w)).length, POLL).toBe(1);
    expect((await deadLetters(w))[0]).toMatchObject({ function: 'recompute', status: '', code: 'ECONNREFUSED', attempts: '3' });
  });

  test('a connector killed before acknowledging loses no trigger: its successor delivers them', async () => {
    const w = await setup();
    // A cannot reach any gateway and waits a long backoff between tries: its triggers stay unacknowledged.
    const a = connector(w, { gatewayUrl: await closedPortUrl(), consumer: 'a', retry: { maxAttempts: 5, backoffMs: 60_000, backoffMaxMs: 60_000 } });
    await a.start();
    const commands = queue(w, w.t.keys.queues.deviceCommands);
    await w.t.redis.xadd(w.t.keys.recomputeRequests, '*', 'scope', 'event', 'id', 'k1', 'marker', 'killed-stream');
    const job = await commands.add('route-command', { command_id: 'k-cmd', marker: 'killed-queue' }, { attempts: 1 });
    await expect.poll(async () => ((await w.t.redis.xpending(w.t.keys.recomputeRequests, CONSUMER_GROUP, '-', '+', 10, 'a')) as unknown[]).length, POLL).toBe(1);
    await expect.poll(async () => (await commands.getJob(job.id!))?.getState(), POLL).toBe('active');

    await a.kill();
    expect(callsFor('killed-stream')).toHaveLength(0);

    const b = connector(w, { consumer: 'b' });
    await b.start();
    await expect.poll(() => callsFor('killed-stream', 'recompute').length, POLL).toBeGreaterThanOrEqual(1);
    await expect.poll(() => callsFor('killed-queue', 'route-command').length, POLL).toBeGreaterThanOrEqual(1);
    await expect.poll(() => pendingCount(w), POLL).toBe(0);
    await expect.poll(async () => (await commands.getJob(job.id!))?.getState(), POLL).toBe('completed');
    expect(await deadLetters(w)).toEqual([]);
  });

  test('a connector restarted under the same consumer name re-reads its own pending entries', async () => {
    const w = await setup();
    const a = connector(w, { gatewayUrl: await closedPortUrl(), consumer: 'same', claimIdleMs: 3_600_000, retry: { maxAttempts: 5, backoffMs: 60_000, backoffMaxMs: 60_000 } });
    await a.start();
    await w.t.redis.xadd(w.t.keys.recomputeRequests, '*', 'scope', 'event', 'id', 'own', 'marker', 'own-pending');
    await expect.poll(() => pendingCount(w), POLL).toBe(1);
    await a.kill();
    const again = connector(w, { consumer: 'same', claimIdleMs: 3_600_000 });
    await again.start();
    await expect.poll(() => callsFor('own-pending').length, POLL).toBe(1);
    await expect.poll(() => pendingCount(w), POLL).toBe(0);
  });

  test('overlapping recompute windows pending at once are coalesced into one call over the union', async () => {
    const w = await setup();
    const T = (h: number) => `2026-05-01T${String(h).padStart(2, '0')}:00:00.000Z`;
    // written before the connector starts, so they are pending at once
    await requestRecompute(w.t.redis, w.t.keys, { scope: 'entry', id: 'co-7', from: T(8), to: T(10), reason: 'flag', requested_by: 'op1' });
    await requestRecompute(w.t.redis, w.t.keys, { scope: 'entry', id: 'co-7', from: T(9), to: T(12), reason: 'edit', requested_by: 'op2' });
    await requestRecompute(w.t.redis, w.t.keys, { scope: 'entry', id: 'co-7', from: T(12), to: T(13), reason: 'flag' });
    await requestRecompute(w.t.redis, w.t.keys, { scope: 'entry', id: 'co-7', from: T(15), to: T(16) });
    await requestRecompute(w.t.redis, w.t.keys, { scope: 'entry', id: 'co-8', from: T(8), to: T(9) });
    const c = connector(w, { concurrency: 8 });
    await c.start();
    const coCalls = () => calls.filter((x) => x.function === 'recompute' && String(payloadOf(x).id).startsWith('co-'));
    await expect.poll(() => coCalls().length, POLL).toBe(3);
    await expect.poll(() => pendingCount(w), POLL).toBe(0);
    const got = calls
      .filter((x) => x.function === 'recompute' && String(payloadOf(x).id).startsWith('co-'))
      .map((x) => (x.body as { got: Record<string, string> }).got)
      .sort((p, q) => (p.id + p.from).localeCompare(q.id + q.from));
    expect(got).toEqual([
      { scope: 'entry', id: 'co-7', from: T(8), to: T(13), reason: 'flag; edit', requested_by: 'op1,op2' },
      { scope: 'entry', id: 'co-7', from: T(15), to: T(16) },
      { scope: 'entry', id: 'co-8', from: T(8), to: T(9) },
    ]);
    expect(c.registry.render()).toMatch(/trm_connector_coalesced_total\{topic="stream:recompute:requests"\} 2/);
  });
});

/** A URL on which nothing listens (a port we bound and released). */
async function closedPortUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
