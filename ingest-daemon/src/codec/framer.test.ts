import { afterEach, describe, expect, test, vi } from 'vitest';
import { IngestErrorCode } from '../errors.ts';
import { Framer, type Frame } from './framer.ts';
import { isWellFramed, loadVectors } from './test-vectors.ts';

const framed = loadVectors().filter(isWellFramed);

function bytesOf(frames: Frame[]): string[] {
  return frames.map((f) => (f.kind === 'keepalive' ? 'ff' : f.bytes.toString('hex')));
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('every vector split at every offset and glued to its neighbour', () => {
  test.each(framed.map((v, k) => [v.index, framed[(k + 1) % framed.length].index, v, framed[(k + 1) % framed.length]] as const))(
    'vector %i + vector %i',
    (_a, _b, v, next) => {
      const glued = Buffer.from(v.hex + next.hex, 'hex');
      for (let cut = 0; cut <= glued.length; cut++) {
        const framer = new Framer();
        const out = [...framer.push(glued.subarray(0, cut)), ...framer.push(glued.subarray(cut))];
        expect(bytesOf(out), `cut at ${cut}`).toEqual([v.hex, next.hex]);
        expect(framer.pendingBytes).toBe(0);
      }
    },
  );
});

test('byte by byte, the whole file of well-framed vectors comes out frame by frame', () => {
  const all = Buffer.from(framed.map((v) => v.hex).join(''), 'hex');
  const framer = new Framer();
  const out: Frame[] = [];
  for (let i = 0; i < all.length; i++) out.push(...framer.push(all.subarray(i, i + 1)));
  expect(bytesOf(out)).toEqual(framed.map((v) => v.hex));
});

test('a frame whole in one chunk is a view of it; a frame spanning chunks is a copy', () => {
  const v = Buffer.from(framed.find((x) => x.kind === 'avl')!.hex, 'hex');
  const whole = new Framer().push(v)[0] as { bytes: Buffer };
  const framer = new Framer();
  framer.push(v.subarray(0, 20));
  const spanning = framer.push(v.subarray(20))[0] as { bytes: Buffer };
  expect(spanning.bytes.equals(v)).toBe(true);
  v[30] ^= 0xff;
  expect(whole.bytes[30]).toBe(v[30]);
  expect(spanning.bytes[30]).not.toBe(v[30]);
});

describe('oversize and malformed headers', () => {
  test('a declared length above the maximum is refused from the 8-byte header, without allocating it', () => {
    const allocUnsafe = vi.spyOn(Buffer, 'allocUnsafe');
    const alloc = vi.spyOn(Buffer, 'alloc');
    const framer = new Framer({ maxFrameBytes: 2048 });
    const header = Buffer.from('00000000fffffff0', 'hex');
    let code: string | undefined;
    try {
      framer.push(header);
    } catch (error) {
      code = (error as { code: string }).code;
    }
    expect(code).toBe(IngestErrorCode.FRAME_TOO_LARGE);
    const big = [...allocUnsafe.mock.calls, ...alloc.mock.calls].filter(([size]) => Number(size) > 2048);
    expect(big).toEqual([]);
  });

  test('the limit is inclusive: a frame of exactly maxFrameBytes passes, one byte more does not', () => {
    const max = 64;
    const ok = Buffer.alloc(max);
    ok.writeUInt32BE(max - 12, 4);
    expect(new Framer({ maxFrameBytes: max }).push(ok)).toHaveLength(1);
    const over = Buffer.alloc(8);
    over.writeUInt32BE(max - 11, 4);
    expect(() => new Framer({ maxFrameBytes: max }).push(over)).toThrow(expect.objectContaining({ code: IngestErrorCode.FRAME_TOO_LARGE }));
  });

  test('the header split over chunks is still refused before the body', () => {
    const framer = new Framer({ maxFrameBytes: 1024 });
    expect(framer.push(Buffer.from('000000', 'hex'))).toEqual([]);
    expect(() => framer.push(Buffer.from('0000ffff', 'hex'))).not.toThrow();
    expect(() => framer.push(Buffer.from('ff', 'hex'))).toThrow(expect.objectContaining({ code: IngestErrorCode.FRAME_TOO_LARGE }));
  });

  test.each([
    ['non-zero preamble', '0000000100000010', IngestErrorCode.BAD_FRAME],
    ['data length below codec+N1+N2', '0000000000000002', IngestErrorCode.BAD_FRAME],
    ['absurd IMEI length', '7fff', IngestErrorCode.BAD_FRAME],
  ])('%s → %s, and the framer stays failed', (_name, hex, code) => {
    const framer = new Framer();
    expect(() => framer.push(Buffer.from(hex, 'hex'))).toThrow(expect.objectContaining({ code }));
    expect(() => framer.push(Buffer.from('ff', 'hex'))).toThrow(expect.objectContaining({ code }));
    expect(framer.pendingBytes).toBe(0);
  });
});

test('pendingBytes counts a started frame and returns to 0 at the boundary', () => {
  const v = Buffer.from(framed.find((x) => x.kind === 'avl')!.hex, 'hex');
  const framer = new Framer();
  framer.push(v.subarray(0, 5));
  expect(framer.pendingBytes).toBe(5);
  framer.push(v.subarray(5, 30));
  expect(framer.pendingBytes).toBe(30);
  expect(framer.push(v.subarray(30))).toHaveLength(1);
  expect(framer.pendingBytes).toBe(0);
});
