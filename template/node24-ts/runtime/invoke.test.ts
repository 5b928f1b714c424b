import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { PermanentError, TrmError } from '../../../common/src/errors.ts';
import { errorResponse, invoke, parseBody, resolveHandler, type FunctionRequest } from './invoke.ts';
import { parseSize } from './http.ts';
import { createFunctionServer } from './server.ts';
import type { Handler } from './types.ts';

function req(body: string | Buffer = '', headers: Record<string, string> = { 'content-type': 'application/json' }, url = '/'): FunctionRequest {
  return { method: 'post', url, headers, body: Buffer.isBuffer(body) ? body : Buffer.from(body) };
}
const json = (b: Buffer) => JSON.parse(b.toString('utf8'));

describe('invoke: return value convention', () => {
  test.each([
    ['an object → JSON', { a: 1 }, 'application/json', '{"a":1}'],
    ['an array → JSON', [1, 2], 'application/json', '[1,2]'],
    ['a number → JSON', 42, 'application/json', '42'],
    ['a string → text', 'hi', 'text/plain; charset=utf-8', 'hi'],
    ['a Buffer → bytes', Buffer.from([1, 2, 3]), 'application/octet-stream', '\u0001\u0002\u0003'],
    ['undefined → empty body', undefined, undefined, ''],
  ])('%s', async (_name, value, type, text) => {
    const res = await invoke(async () => value, req('{}'));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(type);
    expect(res.body.toString('utf8')).toBe(text);
  });

  test('status() and headers() chain, and a handler content-type wins', async () => {
    const res = await invoke((_e, c) => {
      c.status(201).headers({ 'Content-Type': 'application/geo+json', 'X-Thing': '1' });
      expect(c.status()).toBe(201);
      return { type: 'FeatureCollection' };
    }, req('{}'));
    expect(res.status).toBe(201);
    expect(res.headers).toMatchObject({ 'content-type': 'application/geo+json', 'x-thing': '1' });
  });

  test('succeed() answers at once; a later return value is ignored', async () => {
    const res = await invoke(async (_e, c) => {
      c.status(202).succeed({ first: true });
      return { second: true };
    }, req('{}'));
    expect(res.status).toBe(202);
    expect(json(res.body)).toEqual({ first: true });
  });

  test('the event carries the parsed body, method, path, query and headers', async () => {
    let seen: unknown;
    await invoke((e) => {
      seen = { body: e.body, method: e.method, path: e.path, query: e.query, h: e.headers['x-a'] };
    }, req('{"x":1}', { 'content-type': 'application/json', 'x-a': 'b' }, '/sub/path?q=1&q=2&r=3'));
    expect(seen).toEqual({ body: { x: 1 }, method: 'POST', path: '/sub/path', query: { q: ['1', '2'], r: '3' }, h: 'b' });
  });
});

describe('invoke: errors', () => {
  test('a thrown PermanentError is a 400 with its code', async () => {
    const res = await invoke(() => {
      throw new PermanentError('FN_ERR_BAD_INPUT', '"id" is required', { details: { field: 'id' } });
    }, req('{}'));
    expect(res.status).toBe(400);
    expect(json(res.body)).toEqual({ code: 'FN_ERR_BAD_INPUT', message: '"id" is required', details: { field: 'id' } });
  });

  test('any other thrown error is a 500', async () => {
    const res = await invoke(async () => {
      throw new Error('database went away');
    }, req('{}'));
    expect(res.status).toBe(500);
    expect(json(res.body)).toEqual({ code: 'FN_ERR_INTERNAL', message: 'database went away' });
  });

  test('a retryable TrmError keeps its code and is a 500', async () => {
    const res = await invoke(() => {
      throw new TrmError('FN_ERR_DB', 'later', { retryable: true });
    }, req('{}'));
    expect(res.status).toBe(500);
    expect(json(res.body).code).toBe('FN_ERR_DB');
  });

  test('fail() maps like a throw', async () => {
    const res = await invoke((_e, c) => c.fail(new PermanentError('X_BAD', 'no')), req('{}'));
    expect(res.status).toBe(400);
  });

  test('an error carrying statusCode keeps it (501 not implemented)', async () => {
    const res = await invoke(() => {
      throw Object.assign(new Error('later'), { code: 'FN_ERR_NOT_IMPLEMENTED', statusCode: 501 });
    }, req('{}'));
    expect(res.status).toBe(501);
    expect(json(res.body).code).toBe('FN_ERR_NOT_IMPLEMENTED');
  });

  test('a thrown non-Error value is a 500 too', async () => {
    const res = await invoke(() => {
      throw 'oops';
    }, req('{}'));
    expect(res.status).toBe(500);
    expect(json(res.body)).toEqual({ code: 'FN_ERR_INTERNAL', message: 'oops' });
  });

  test.each([['{"a":'], ['not json'], ['{"a":1}}']])('bad JSON %j is a coded 400 and never reaches the handler', async (body) => {
    let called = false;
    const res = await invoke(() => {
      called = true;
    }, req(body));
    expect(called).toBe(false);
    expect(res.status).toBe(400);
    expect(json(res.body).code).toBe('FN_ERR_BAD_JSON');
  });

  test('a timeout answers 504 and aborts the handler signal', async () => {
    let signal: AbortSignal | undefined;
    const res = await invoke((_e, c) => {
      signal = c.signal;
      return new Promise(() => {});
    }, req('{}'), { timeoutMs: 20 });
    expect(res.status).toBe(504);
    expect(json(res.body).code).toBe('FN_ERR_TIMEOUT');
    expect(signal?.aborted).toBe(true);
  });
});

describe('parseBody', () => {
  test.each([
    ['application/json', '{"a":1}', { a: 1 }],
    ['application/json; charset=utf-8', '[1]', [1]],
    ['application/vnd.api+json', '{}', {}],
    ['application/json', '', undefined],
    ['text/plain', 'hello', 'hello'],
    [undefined, '{"a":1}', '{"a":1}'],
    ['application/x-www-form-urlencoded', 'a=1&b=x', { a: '1', b: 'x' }],
  ])('%s %j', (type, body, expected) => {
    expect(parseBody(Buffer.from(body), type)).toEqual(expected);
  });

  test('anything else, or RAW_BODY, stays a Buffer', () => {
    expect(Buffer.isBuffer(parseBody(Buffer.from('x'), 'application/octet-stream'))).toBe(true);
    expect(Buffer.isBuffer(parseBody(Buffer.from('{}'), 'application/json', true))).toBe(true);
  });
});

describe('errorResponse', () => {
  test('a status already set to an error status is kept for a plain throw', () => {
    expect(errorResponse(new Error('x'), 409).status).toBe(409);
    expect(errorResponse(new Error('x'), 200).status).toBe(500);
  });
});

describe('resolveHandler', () => {
  const fn: Handler = () => 1;
  test.each([[{ handle: fn }], [{ default: fn }], [{ default: { handle: fn } }]])('%o', (mod) => {
    expect(resolveHandler(mod)).toBe(fn);
  });
  test('refuses a module without a handler', () => {
    expect(() => resolveHandler({})).toThrow(/neither/);
  });
});

describe('secrets', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trm-secrets-'));
    await writeFile(join(dir, 'trm-database-url'), 'postgres://db/trm\n');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  test('read from the secrets folder, else from the fallback variable', async () => {
    let got: unknown[] = [];
    await invoke(async (_e, c) => {
      got = [await c.secret('trm-database-url', 'DATABASE_URL'), await c.secret('trm-directus-token', 'DIRECTUS_TOKEN'), await c.secret('../etc/passwd')];
    }, req('{}'), { secretsDir: dir, env: { DIRECTUS_TOKEN: 'tok' } });
    expect(got).toEqual(['postgres://db/trm', 'tok', undefined]);
  });
});

describe('parseSize', () => {
  test.each([
    ['100kb', 102400],
    ['1mb', 1048576],
    ['512', 512],
    [undefined, 7],
  ])('%s → %d', (text, bytes) => {
    expect(parseSize(text, 7)).toBe(bytes);
  });
  test('refuses nonsense', () => expect(() => parseSize('lots', 1)).toThrow());
});

describe('createFunctionServer', () => {
  test('serves any path and method, and refuses an oversize body with a coded 413', async () => {
    const server = createFunctionServer(async (e) => ({ path: e.path, method: e.method }), { maxBodyBytes: 16 });
    const port = await server.listen(0);
    try {
      const ok = await fetch(`http://127.0.0.1:${port}/a/b?x=1`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({ path: '/a/b', method: 'PUT' });
      const big = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ x: 'y'.repeat(100) }) });
      expect(big.status).toBe(413);
      expect(((await big.json()) as { code: string }).code).toBe('FN_ERR_TOO_LARGE');
    } finally {
      await server.close();
    }
  });
});
