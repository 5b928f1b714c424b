import { expect, test } from 'vitest';
import { streamReply } from './stream.ts';

const entries = [['1-0', ['imei', '1']]];
test.each([
  ['RESP2 nested [[key, entries]]', [['k', entries]], entries],
  ['ioredis 6 flattened map [key, entries]', ['k', entries], entries],
  ['nil (BLOCK timed out)', null, []],
  ['empty', [], []],
])('streamReply: %s', (_name, reply, expected) => {
  expect(streamReply(reply)).toEqual(expected);
});
