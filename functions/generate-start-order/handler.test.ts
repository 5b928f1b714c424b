import { describe, expect, test } from 'vitest';
import { jsonCaller, jsonOf as json, testBodyParsing } from '../../template/node24-ts/runtime/testing.ts';
import { handle } from './handler.ts';

const call = jsonCaller(handle);

describe('generate-start-order handler', () => {
  test.each([[{ stage_id: 4 }], [{ stage_id: 'a5f0', requested_by: 'official' }]])('valid input %j without DIRECTUS_TOKEN is a coded config error, before any I/O', async (input) => {
    const res = await call(JSON.stringify(input));
    expect(res.status).toBe(500);
    expect(json(res.body)).toMatchObject({ code: 'CONFIG_ERR_INVALID' });
    expect(String(json(res.body).message)).toContain('DIRECTUS_TOKEN');
  });

  test.each([[{}], [{ stage: 4 }], [{ stage_id: null }], [{ stage_id: 1.5 }]])('invalid input %j is a coded 400', async (input) => {
    const res = await call(JSON.stringify(input));
    expect(res.status).toBe(400);
    expect(json(res.body).code).toBe('FN_ERR_BAD_INPUT');
  });

  testBodyParsing(call);
});
