/**
 * Test helpers for handlers on this template (used by the functions' handler.test.ts, in the
 * repository and during the image build): call a handler through the same runtime code the
 * container runs, and the body-parsing cases every JSON function shares.
 */
import { expect, test } from 'vitest';
import { invoke, type InvokeOptions } from './invoke.ts';
import type { Handler } from './types.ts';

/** POSTs `body` to the handler with a Content-Type, as the watchdog does. */
export function jsonCaller(handle: Handler, options: InvokeOptions = {}) {
  return (body: string, contentType = 'application/json') => invoke(handle, { method: 'POST', url: '/', headers: { 'content-type': contentType }, body: Buffer.from(body) }, options);
}

export const jsonOf = (b: Buffer) => JSON.parse(b.toString('utf8')) as Record<string, unknown>;

/** Registers the two cases every JSON function answers the same way: not JSON, and empty. */
export function testBodyParsing(call: ReturnType<typeof jsonCaller>): void {
  test('a body that is not JSON is a coded 400', async () => {
    const res = await call('{"oops"');
    expect(res.status).toBe(400);
    expect(jsonOf(res.body).code).toBe('FN_ERR_BAD_JSON');
  });

  test('an empty body is a coded 400', async () => {
    const res = await call('');
    expect(res.status).toBe(400);
    expect(jsonOf(res.body).code).toBe('FN_ERR_BAD_INPUT');
  });
}
