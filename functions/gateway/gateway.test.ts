import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { silentLogger } from '../../common/src/log.ts';
import { buildFunctionsGateway, splitFunctionPath, type CallRecord, type FunctionsGateway } from './gateway.ts';
import { envsubst, parseDurationMs } from './stack.ts';

const fixture = fileURLToPath(new URL('../../connector/test-fixtures/flaky/', import.meta.url));
const recompute = fileURLToPath(new URL('../recompute/', import.meta.url));

describe('local functions gateway', () => {
  let gateway: FunctionsGateway;
  let base: string;
  const calls: CallRecord[] = [];

  beforeAll(async () => {
    gateway = await buildFunctionsGateway({
      functions: [
        { name: 'flaky', handlerDir: fixture, annotations: { topic: 'queue:x' } },
        { name: 'recompute', handlerDir: recompute },
      ],
      log: silentLogger(),
      env: {},
      onCall: (c) => calls.push(c),
    });
    base = `http://127.0.0.1:${await gateway.listen(0)}`;
  });
  afterAll(() => gateway.close());

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  test('GET /healthz', async () => {
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, functions: ['flaky', 'recompute'] });
  });

  test('POST /function/<name> runs the handler through the template runtime', async () => {
    const res = await post('/function/flaky', { a: 1 }, { 'x-topic': 't' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-call-id')).toBeTruthy();
    expect(res.headers.get('x-duration-seconds')).toMatch(/^\d+\.\d+$/);
    expect(await res.json()).toEqual({ ok: true, got: { a: 1 }, topic: 't' });
  });

  test('a namespace suffix and a sub-path are accepted, like faas-cli invoke sends', async () => {
    const res = await post('/function/flaky.openfaas-fn/sub?x=1', {});
    expect(res.status).toBe(200);
  });

  test.each([[500], [400], [503]])('the handler status %i comes through with its code', async (answer) => {
    const res = await post('/function/flaky', { answer });
    expect(res.status).toBe(answer);
    expect(((await res.json()) as { code: string }).code).toBe(`FIXTURE_${answer}`);
  });

  test('a real handler: bad input 400; valid input without its environment is a coded config error', async () => {
    const bad = await post('/function/recompute', { scope: 'nope' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { code: string }).code).toBe('FN_ERR_BAD_INPUT');
    // recompute is built (issue 6): with env {} it stops at its config, before any I/O
    const later = await post('/function/recompute', { scope: 'event', id: 1 });
    expect(later.status).toBe(500);
    expect(await later.json()).toMatchObject({ code: 'CONFIG_ERR_INVALID' });
  });

  test('an unknown function is a coded 404', async () => {
    const res = await post('/function/nope', {});
    expect(res.status).toBe(404);
    expect(((await res.json()) as { code: string }).code).toBe('FN_ERR_UNKNOWN_FUNCTION');
    const async = await post('/async-function/nope', {});
    expect(async.status).toBe(404);
  });

  test('GET /system/functions lists annotations', async () => {
    const list = (await (await fetch(`${base}/system/functions`)).json()) as { name: string; annotations: Record<string, string> }[];
    expect(list.find((f) => f.name === 'flaky')?.annotations).toEqual({ topic: 'queue:x' });
  });

  test('POST /async-function answers 202 with X-Call-Id, then POSTs the result to X-Callback-Url', async () => {
    let deliver!: (got: { headers: http.IncomingHttpHeaders; body: string }) => void;
    const received = new Promise<{ headers: http.IncomingHttpHeaders; body: string }>((resolve) => (deliver = resolve));
    const sink = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        res.writeHead(200).end();
        deliver({ headers: req.headers, body });
      });
    });
    await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
    try {
      const port = (sink.address() as AddressInfo).port;
      const res = await post('/async-function/flaky', { answer: 500 }, { 'x-callback-url': `http://127.0.0.1:${port}/cb` });
      expect(res.status).toBe(202);
      const callId = res.headers.get('x-call-id');
      expect(callId).toBeTruthy();
      const got = await received;
      expect(got.headers['x-call-id']).toBe(callId);
      expect(got.headers['x-function-status']).toBe('500');
      expect(got.headers['x-function-name']).toBe('flaky');
      expect(JSON.parse(got.body).code).toBe('FIXTURE_500');
      expect(calls.some((c) => c.async && c.callId === callId)).toBe(true);
    } finally {
      sink.closeAllConnections();
      sink.close();
    }
  });

  test('an async call without a callback still runs', async () => {
    const res = await post('/async-function/flaky', { marker: 'no-callback' });
    expect(res.status).toBe(202);
    const id = res.headers.get('x-call-id');
    await expect.poll(() => calls.some((c) => c.callId === id && c.status === 200)).toBe(true);
  });
});

describe('helpers', () => {
  test.each([
    ['flaky', { name: 'flaky', path: '/' }],
    ['flaky.openfaas-fn', { name: 'flaky', path: '/' }],
    ['flaky/a/b', { name: 'flaky', path: '/a/b' }],
    ['flaky?x=1', { name: 'flaky', path: '/?x=1' }],
  ])('splitFunctionPath(%s)', (rest, expected) => {
    expect(splitFunctionPath(rest)).toEqual(expected);
  });

  test.each([
    ['${A:-x}', { A: 'a' }, 'a'],
    ['${A:-x}', { A: '' }, 'x'],
    ['${A-x}', { A: '' }, ''],
    ['${A}/${B:-b}', {}, '/b'],
    ['${REGISTRY:-ghcr.io/trm}/trm-recompute:${TAG:-latest}', { TAG: '1.2' }, 'ghcr.io/trm/trm-recompute:1.2'],
  ])('envsubst(%s)', (text, env, expected) => {
    expect(envsubst(text, env)).toBe(expected);
  });

  test.each([
    ['30s', 30_000],
    ['1m30s', 90_000],
    ['500ms', 500],
    ['0', 0],
  ])('parseDurationMs(%s)', (text, ms) => {
    expect(parseDurationMs(text)).toBe(ms);
  });
  test('parseDurationMs refuses garbage', () => expect(() => parseDurationMs('30 seconds')).toThrow());
});
