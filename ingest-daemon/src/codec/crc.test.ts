import { expect, test } from 'vitest';
import { crc16Ibm, crc16IbmReference } from './crc.ts';

test.each([
  ['check value of CRC-16/ARC ("123456789")', Buffer.from('123456789').toString('hex'), 0xbb3d],
  ['empty', '', 0],
])('%s', (_name, hex, crc) => {
  expect(crc16Ibm(Buffer.from(hex, 'hex'))).toBe(crc);
});

test('the sliced CRC equals the byte-at-a-time reference on every length and offset', () => {
  const bytes = Buffer.alloc(300);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 131 + 7) & 0xff;
  for (let start = 0; start < 8; start++) for (let end = start; end <= bytes.length; end += 1) expect(crc16Ibm(bytes, start, end)).toBe(crc16IbmReference(bytes, start, end));
});
