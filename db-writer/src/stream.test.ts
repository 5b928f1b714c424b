import { expect, test } from 'vitest';
import { encodeCommand } from './resp-client.ts';
import { streamReply, xackCommand } from './stream.ts';

const entries = [['1-0', ['imei', '1']]];
test.each([
  ['RESP2 nested [[key, entries]]', [['k', entries]], entries],
  ['ioredis 6 flattened map [key, entries]', ['k', entries], entries],
  ['nil (BLOCK timed out)', null, []],
  ['empty', [], []],
])('streamReply: %s', (_name, reply, expected) => {
  expect(streamReply(reply)).toEqual(expected);
});

test('xackCommand is the RESP form encodeCommand gives, byte for byte (keys may be UTF-8)', () => {
  const ids = ['1717243200000-0', '1717243200000-1', '5-12'];
  expect(xackCommand('t:é:telemetry:positions', 'processor', ids)).toBe(encodeCommand(['XACK', 't:é:telemetry:positions', 'processor', ...ids]));
});
