import { describe, expect, test } from 'vitest';
import { jsonCaller, jsonOf as json, testBodyParsing } from '../../template/node24-ts/runtime/testing.ts';
import { handle } from './handler.ts';

const call = jsonCaller(handle);

describe('evaluate-penalties handler', () => {
  test.each([[{ scope: 'stage', id: 3 }], [{ scope: 'entry', id: 'e1', reason: 'recomputed' }]])('valid input %j without DIRECTUS_TOKEN is a coded config error, before any I/O', async (input) => {
    const res = await call(JSON.stringify(input));
    expect(res.status).toBe(500);
    expect(json(res.body)).toMatchObject({ code: 'CONFIG_ERR_INVALID' });
    expect(String(json(res.body).message)).toContain('DIRECTUS_TOKEN');
  });

  test.each([[{}], [{ scope: 'device', id: 1 }], [{ scope: 'stage', id: -1 }], [{ scope: 'stage', id: 1, reason: 7 }]])('invalid input %j is a coded 400', async (input) => {
    const res = await call(JSON.stringify(input));
    expect(res.status).toBe(400);
    expect(json(res.body).code).toBe('FN_ERR_BAD_INPUT');
  });

  testBodyParsing(call);
});
