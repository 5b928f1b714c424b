import { describe, expect, test } from 'vitest';
import { bulk, bulkAscii, encodeCommand, ReplyReader, skipReply } from './resp.ts';

function read(chunks: Buffer[]): (string | null)[] {
  const out: (string | null)[] = [];
  const r = new ReplyReader((e) => out.push(e));
  for (const c of chunks) r.push(c);
  return out;
}

const stream = Buffer.from(
  [
    '$15\r\n1795352125783-0\r\n',
    '-WRONGTYPE Operation against a key holding the wrong kind of value\r\n',
    '+OK\r\n',
    ':42\r\n',
    '$-1\r\n',
    '*2\r\n$1\r\na\r\n*1\r\n:1\r\n',
    '%1\r\n+k\r\n$0\r\n\r\n',
    '$4\r\n\r\n\r\n\r\n',
  ].join(''),
);
const expected = [null, 'WRONGTYPE Operation against a key holding the wrong kind of value', null, null, null, null, null, null];

describe('ReplyReader', () => {
  test('one reply per top-level value, the error text for - replies', () => {
    expect(read([stream])).toEqual(expected);
  });

  test('the same stream split at every offset gives the same replies', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      expect(read([stream.subarray(0, cut), stream.subarray(cut)]), `cut at ${cut}`).toEqual(expected);
    }
  });

  test('byte by byte', () => {
    expect(read([...stream].map((b) => Buffer.from([b])))).toEqual(expected);
  });

  test.each([['$5\r\nab'], ['*2\r\n:1\r\n'], ['+OK\r'], ['$3\r\nabc\r']])('%j is incomplete', (s) => {
    expect(skipReply(Buffer.from(s), 0)).toBe(-1);
  });
});

describe('encoding', () => {
  test('bulk strings count UTF-8 bytes; bulkAscii is the same for ASCII', () => {
    expect(bulk('é')).toBe('$2\r\né\r\n');
    expect(bulkAscii('12.5')).toBe(bulk('12.5'));
    expect(encodeCommand(['PING'])).toBe('*1\r\n$4\r\nPING\r\n');
  });
});
