import { describe, expect, test } from 'vitest';
import { invoke } from '../runtime/invoke.ts';
import { handle } from './handler.ts';

const call = (body: string, contentType = 'application/json') =>
  invoke(handle, { method: 'POST', url: '/', headers: { 'content-type': contentType }, body: Buffer.from(body) });

describe('handler', () => {
  test('greets', async () => {
    const res = await call('{"name":"Tirana"}');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body.toString())).toEqual({ message: 'hello, Tirana' });
  });

  test('refuses a bad name with a coded 400', async () => {
    const res = await call('{"name":42}');
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body.toString())).toMatchObject({ code: 'FN_ERR_BAD_INPUT' });
  });
});
