/**
 * The shared Directus client's batched writes against a local HTTP server (port 0) that plays
 * Directus's batch endpoints: batches of a call and of concurrent calls are sent at most
 * `writeConcurrency` at once, results come back in row order, and a failed batch fails the call
 * only after every batch of it has answered (nothing left in flight behind the caller's back).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { directusApi, MIN_PARALLEL_BATCH } from './directus-api.ts';

interface Held {
  method: string;
  path: string;
  body: unknown;
  res: ServerResponse;
}

/**
 * A server that holds requests and answers them `group` at a time (when `group` are held): the
 * client can only get an answer by having `group` requests in flight, so the highest number seen
 * is exactly the concurrency, without any timing.
 */
async function fakeDirectus(group: number, fail?: (h: Held, index: number) => boolean) {
  const held: Held[] = [];
  const seen: Held[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const answer = (h: Held) => {
    inFlight--;
    const index = seen.indexOf(h);
    if (fail?.(h, index)) {
      h.res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ message: 'boom', extensions: { code: 'INTERNAL' } }] }));
    } else if (h.method === 'POST') {
      const rows = h.body as { key: string }[];
      h.res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: rows.map((r) => ({ id: `id-${r.key}` })) }));
    } else h.res.writeHead(204).end();
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const h = { method: req.method ?? '', path: req.url ?? '', body: text ? JSON.parse(text) : undefined, res };
      seen.push(h);
      held.push(h);
      if (held.length >= group) for (const x of held.splice(0)) answer(x);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    get maxInFlight() {
      return maxInFlight;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const rows = (n: number, prefix = 'r') => Array.from({ length: n }, (_, i) => ({ key: `${prefix}${i}` }));
let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers) await c();
  closers = [];
});

describe('batched writes', () => {
  test.each([
    // concurrency, rows, batchSize, expected batches
    [1, 250, 100, 3],
    [4, 800, 100, 8],
    [4, 2000, 1000, 4], // cut below batchSize so that four requests share the work
    [4, 150, 1000, 2], // not below MIN_PARALLEL_BATCH rows
  ])('concurrency %i: %i rows, batchSize %i → %i batches, at most that many in flight, ids in row order', async (concurrency, n, batchSize, batches) => {
    const group = Math.min(concurrency, batches);
    expect(batches % group).toBe(0); // the fake answers `group` at a time
    const fake = await fakeDirectus(group);
    closers.push(fake.close);
    const api = directusApi({ url: fake.url, token: 't', batchSize, writeConcurrency: concurrency });
    const created = await api.createMany<{ id: string }>('stage_times', rows(n));
    expect(created.map((r) => r.id)).toEqual(rows(n).map((r) => `id-${r.key}`));
    expect(fake.seen).toHaveLength(batches);
    expect(fake.maxInFlight).toBe(group);
    expect(MIN_PARALLEL_BATCH).toBe(100);
  });

  test('concurrent calls on one client share the limit', async () => {
    const fake = await fakeDirectus(3);
    closers.push(fake.close);
    const api = directusApi({ url: fake.url, token: 't', batchSize: 100, writeConcurrency: 3 });
    await Promise.all([
      api.createMany('waypoint_passes', rows(300, 'w')),
      api.updateMany('stage_times', rows(300, 's').map((r, i) => ({ id: i, ...r }))),
      api.deleteMany('speed_infringements', Array.from({ length: 300 }, (_, i) => i)),
    ]);
    expect(fake.seen).toHaveLength(9);
    expect(fake.maxInFlight).toBe(3);
    expect(fake.seen.map((h) => h.method).sort()).toEqual([...Array(3).fill('DELETE'), ...Array(3).fill('PATCH'), ...Array(3).fill('POST')]);
  });

  test('a failed batch fails the call once every batch has answered (retryable on 5xx)', async () => {
    const fake = await fakeDirectus(2, (_h, index) => index === 1);
    closers.push(fake.close);
    const api = directusApi({ url: fake.url, token: 't', batchSize: 100, writeConcurrency: 2, errorCode: 'TEST_ERR' });
    await expect(api.createMany('stage_times', rows(400))).rejects.toMatchObject({ code: 'TEST_ERR', retryable: true });
    expect(fake.seen).toHaveLength(4);
  });
});
