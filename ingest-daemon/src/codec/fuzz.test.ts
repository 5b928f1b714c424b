/**
 * Fuzz over mutated real frames with a fixed seed (so a failure reproduces): bit flips, byte
 * insertions and deletions, truncations, length-field rewrites, random chunking, with the CRC
 * recomputed for half of the cases so the decoder itself is reached. Only coded errors may come
 * out; the framer never holds more than its maximum; every decoded record meets the invariants.
 */
import { expect, test } from 'vitest';
import { fixCrc } from '../../../simulator/src/avl-encoder.ts';
import { CodecError } from '../errors.ts';
import { decodePacket } from './decode.ts';
import { decodeMessages } from './codec12.ts';
import { Framer } from './framer.ts';
import { decodeImei } from './imei.ts';
import { checkInvariants, isWellFramed, loadVectors } from './test-vectors.ts';
import { rng as mulberry32 } from '../../../common/src/testing/random.ts';

const SEED = 0x7e17;
const CASES = 20_000;
const MAX_FRAME = 4096;
const NOW = Date.parse('2026-01-01T00:00:00Z');

const corpus = loadVectors()
  .filter(isWellFramed)
  .map((v) => Buffer.from(v.hex, 'hex'));

function mutate(rand: () => number, src: Buffer): Buffer {
  let b = Buffer.from(src);
  const ops = 1 + Math.floor(rand() * 4);
  for (let k = 0; k < ops; k++) {
    const at = Math.floor(rand() * Math.max(1, b.length));
    switch (Math.floor(rand() * 6)) {
      case 0:
        b[at] ^= 1 << Math.floor(rand() * 8);
        break;
      case 1:
        b[at] = Math.floor(rand() * 256);
        break;
      case 2:
        b = Buffer.concat([b.subarray(0, at), Buffer.from([Math.floor(rand() * 256)]), b.subarray(at)]);
        break;
      case 3:
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1)]);
        break;
      case 4:
        b = b.subarray(0, at);
        break;
      case 5:
        if (b.length >= 8) b.writeUInt32BE(Math.floor(rand() * 2 ** 32) >>> (rand() < 0.5 ? 20 : 0), 4);
        break;
    }
  }
  if (b.length >= 12 && rand() < 0.5) fixCrc(b);
  return b;
}

test(`fuzz: ${CASES} mutated frames, seed ${SEED}`, () => {
  const rand = mulberry32(SEED);
  let decoded = 0;
  let records = 0;
  let codecErrors = 0;
  for (let i = 0; i < CASES; i++) {
    const input = Buffer.concat([mutate(rand, corpus[Math.floor(rand() * corpus.length)]), rand() < 0.3 ? corpus[Math.floor(rand() * corpus.length)] : Buffer.alloc(0)]);
    const framer = new Framer({ maxFrameBytes: MAX_FRAME });
    try {
      let off = 0;
      while (off < input.length) {
        const n = 1 + Math.floor(rand() * 64);
        for (const f of framer.push(input.subarray(off, off + n))) {
          expect(f.kind === 'keepalive' || f.bytes.length <= MAX_FRAME).toBe(true);
          if (f.kind === 'imei') {
            try {
              decodeImei(f.bytes);
            } catch (error) {
              if (!(error instanceof CodecError)) throw error;
            }
          }
          if (f.kind !== 'packet') continue;
          try {
            const d = decodePacket(f.bytes, { nowMs: NOW });
            decoded++;
            expect(d.records.length + d.rejected.length).toBeLessThanOrEqual(255);
            for (const r of d.records) checkInvariants(r, NOW);
            records += d.records.length;
          } catch (error) {
            if (!(error instanceof CodecError)) throw error;
            codecErrors++;
          }
        }
        expect(framer.pendingBytes).toBeLessThanOrEqual(MAX_FRAME);
        off += n;
      }
    } catch (error) {
      if (!(error instanceof CodecError)) throw new Error(`case ${i}: ${String(error)} on ${input.toString('hex')}`, { cause: error });
      codecErrors++;
    }
  }
  // the mutations must actually reach both outcomes, or this test proves nothing
  expect(decoded).toBeGreaterThan(CASES / 20);
  expect(records).toBeGreaterThan(CASES / 10);
  expect(codecErrors).toBeGreaterThan(CASES / 20);
});

test('decodeMessages never reads past its limit', () => {
  const rand = mulberry32(SEED + 1);
  for (let i = 0; i < 2000; i++) {
    const b = Buffer.alloc(64);
    for (let k = 0; k < b.length; k++) b[k] = Math.floor(rand() * 256);
    const limit = 10 + Math.floor(rand() * 40);
    for (const codecId of [0x0c, 0x0d, 0x0e, 0x0f]) {
      try {
        for (const m of decodeMessages(b, 10, limit, codecId, 1 + Math.floor(rand() * 3))) expect(m.payloadHex.length / 2).toBeLessThanOrEqual(limit - 10);
      } catch (error) {
        expect(error).toBeInstanceOf(CodecError);
      }
    }
  }
});
