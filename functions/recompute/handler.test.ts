import { describe, expect, test } from 'vitest';
import { jsonCaller, jsonOf as json, testBodyParsing } from '../../template/node24-ts/runtime/testing.ts';
import { handle } from './handler.ts';

const call = jsonCaller(handle);

describe('recompute handler', () => {
  test.each([[{ scope: 'entry', id: 12, from: '2026-05-01T08:00:00Z', to: '2026-05-01T09:00:00Z', reason: 'flag' }], [{ scope: 'event', id: 'b2c1' }], [{ scope: 'device', id: '356307042441013', requested_by: 'cli' }]])('valid input %j without DIRECTUS_TOKEN is a coded config error, before any I/O', async (input) => {
    const res = await call(JSON.stringify(input));
    expect(res.status).toBe(500);
    expect(json(res.body)).toMatchObject({ code: 'CONFIG_ERR_INVALID' });
    expect(String(json(res.body).message)).toContain('DIRECTUS_TOKEN');
  });

  test.each([[{}], [{ scope: 'team', id: 1 }], [{ scope: 'entry' }], [{ scope: 'entry', id: '' }], [{ scope: 'stage', id: 1, from: 'yesterday' }], [{ scope: 'stage', id: 1, from: '2026-05-02T00:00:00Z', to: '2026-05-01T00:00:00Z' }], [[1, 2]], ['text']])('invalid input %j is a coded 400', async (input) => {
    const res = await call(JSON.stringify(input));
    expect(res.status).toBe(400);
    expect(json(res.body).code).toBe('FN_ERR_BAD_INPUT');
  });

  testBodyParsing(call);
});
