import { describe, expect, test } from 'vitest';
import { jsonCaller, jsonOf as json, testBodyParsing } from '../../template/node24-ts/runtime/testing.ts';
import { handle } from './handler.ts';

const call = jsonCaller(handle, { env: {}, secretsDir: '/nonexistent' });

// The routing itself runs against real Directus and Redis in tests/commands.int.test.ts.
describe('route-command handler', () => {
  test.each([[{ command_id: 17 }], [{ command_id: '9d0e' }]])('valid input %j without the Directus token is a coded 500 naming the secret', async (input) => {
    const res = await call(JSON.stringify(input));
    expect(res.status).toBe(500);
    expect(json(res.body)).toMatchObject({ code: 'COMMAND_ERR_CONFIG' });
    expect(String(json(res.body).message)).toContain('trm-directus-token');
  });

  test.each([[{}], [{ command_id: '' }], [{ command: 17 }], [{ command_id: { id: 1 } }]])('invalid input %j is a coded 400', async (input) => {
    const res = await call(JSON.stringify(input));
    expect(res.status).toBe(400);
    expect(json(res.body).code).toBe('FN_ERR_BAD_INPUT');
  });

  testBodyParsing(call);
});
