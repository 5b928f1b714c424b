import { expect, test } from 'vitest';
import { encodeCommand, RespParser } from './resp-client.ts';

const xreadgroupReply = '*1\r\n*2\r\n$3\r\nkey\r\n*2\r\n*2\r\n$3\r\n1-0\r\n*4\r\n$4\r\nimei\r\n$2\r\n12\r\n$2\r\nio\r\n$10\r\n{"a":"é"}\r\n*2\r\n$3\r\n2-0\r\n*-1\r\n';
const expected = [['key', [['1-0', ['imei', '12', 'io', '{"a":"é"}']], ['2-0', null]]]];

test('an XREADGROUP reply (nested arrays, UTF-8, a nil entry) parses in one chunk', () => {
  expect(new RespParser().feed(Buffer.from(xreadgroupReply))).toEqual([expected]);
});

test('the same reply split at every byte offset parses to the same value, once', () => {
  const bytes = Buffer.from(xreadgroupReply);
  for (let cut = 1; cut < bytes.length; cut++) {
    const parser = new RespParser();
    const replies = [...parser.feed(bytes.subarray(0, cut)), ...parser.feed(bytes.subarray(cut))];
    expect(replies, `cut at ${cut}`).toEqual([expected]);
  }
});

test.each([
  ['status', '+OK\r\n', 'OK'],
  ['integer', ':-42\r\n', -42],
  ['nil bulk (BLOCK timed out)', '$-1\r\n', null],
  ['nil array', '*-1\r\n', null],
  ['empty array', '*0\r\n', []],
  ['empty bulk', '$0\r\n\r\n', ''],
])('%s', (_name, wire, value) => {
  expect(new RespParser().feed(Buffer.from(wire))).toEqual([value]);
});

test('an error reply becomes an Error; two replies in one chunk come out in order', () => {
  const [a, b] = new RespParser().feed(Buffer.from('-NOGROUP No such key\r\n:1\r\n'));
  expect(a).toBeInstanceOf(Error);
  expect((a as Error).message).toBe('NOGROUP No such key');
  expect(b).toBe(1);
});

test('a byte that starts no RESP type is a protocol error', () => {
  expect(() => new RespParser().feed(Buffer.from('?\r\n'))).toThrow(/protocol error/);
});

test('encodeCommand counts bytes, not characters', () => {
  expect(encodeCommand(['XADD', 'é', 1])).toBe('*3\r\n$4\r\nXADD\r\n$2\r\né\r\n$1\r\n1\r\n');
});
