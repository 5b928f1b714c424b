/**
 * Cuts a Teltonika TCP byte stream into frames (research §1, §7 gotchas 1–3). Pure: no I/O, no
 * clock. Chunks go in, whole frames come out:
 *
 *   - `FF`                          → keepalive (1 byte)
 *   - `u16 len > 0`, `len` bytes    → IMEI frame (len + 2 bytes, len ≤ MAX_IMEI_FRAME_BYTES − 2)
 *   - `00000000`, `u32 len`, …, CRC → packet (len + 12 bytes, len ≤ maxFrameBytes − 12)
 *
 * Memory is bounded by `maxFrameBytes`: a declared length above it is refused from the 8-byte
 * header, before anything is allocated. A frame that arrives whole inside one chunk is returned
 * as a zero-copy view of that chunk; a frame spread over chunks is assembled into one buffer of
 * its declared size (no quadratic re-concatenation when bytes trickle in).
 *
 * State machine: IDLE (nothing pending) → HEADER (fewer than the bytes needed to size the frame,
 * kept in `head`) → BODY (`partial` allocated to the frame size, `filled` bytes in) → IDLE.
 * Any framing error moves to FAILED for good: the stream has lost sync and the connection must
 * close, so every later push throws the same error.
 */
import { CodecError, IngestErrorCode } from '../errors.ts';
import { DEFAULT_MAX_FRAME_BYTES, KEEPALIVE_BYTE, MAX_IMEI_FRAME_BYTES, MIN_DATA_FIELD_BYTES, PACKET_HEADER_BYTES, PACKET_OVERHEAD_BYTES } from './constants.ts';

export type Frame = { kind: 'keepalive' } | { kind: 'imei'; bytes: Buffer } | { kind: 'packet'; bytes: Buffer };

const KEEPALIVE: Frame = Object.freeze({ kind: 'keepalive' });

export interface FramerOptions {
  /** largest packet accepted, header and CRC included (bytes) */
  maxFrameBytes?: number;
}

export class Framer {
  readonly maxFrameBytes: number;
  private readonly head = Buffer.alloc(PACKET_HEADER_BYTES);
  private headLen = 0;
  private partial: Buffer | null = null;
  private partialKind: 'imei' | 'packet' = 'packet';
  private filled = 0;
  private failure: CodecError | null = null;

  constructor(options: FramerOptions = {}) {
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    if (this.maxFrameBytes < PACKET_OVERHEAD_BYTES + MIN_DATA_FIELD_BYTES) throw new RangeError('maxFrameBytes too small');
  }

  /** Bytes held for an incomplete frame (0 when the stream is at a frame boundary). */
  get pendingBytes(): number {
    return this.partial ? this.filled : this.headLen;
  }

  /** Feeds one chunk; returns the frames it completed, in order. Throws CodecError on a framing error. */
  push(chunk: Uint8Array): Frame[] {
    if (this.failure) throw this.failure;
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const frames: Frame[] = [];
    let off = 0;
    const end = buf.length;
    while (off < end) {
      if (this.partial) {
        const n = Math.min(this.partial.length - this.filled, end - off);
        buf.copy(this.partial, this.filled, off, off + n);
        this.filled += n;
        off += n;
        if (this.filled === this.partial.length) {
          frames.push({ kind: this.partialKind, bytes: this.partial });
          this.partial = null;
          this.filled = 0;
        }
        continue;
      }
      const headLen = this.headLen;
      const peek = (i: number): number => (i < headLen ? this.head[i] : buf[off + i - headLen]);
      const avail = headLen + end - off;
      if (headLen === 0 && buf[off] === KEEPALIVE_BYTE) {
        frames.push(KEEPALIVE);
        off += 1;
        continue;
      }
      let total: number;
      let kind: 'imei' | 'packet';
      if (avail < 2) {
        this.stash(buf, off, end);
        break;
      }
      const u16 = (peek(0) << 8) | peek(1);
      if (u16 > 0) {
        kind = 'imei';
        total = u16 + 2;
        if (total > MAX_IMEI_FRAME_BYTES) this.fail(IngestErrorCode.BAD_FRAME, `IMEI frame length ${u16} is not a handshake`, { length: u16 });
      } else {
        if (avail < PACKET_HEADER_BYTES) {
          this.stash(buf, off, end);
          break;
        }
        if (peek(2) !== 0 || peek(3) !== 0) this.fail(IngestErrorCode.BAD_FRAME, 'packet preamble is not 00000000');
        const dataLength = ((peek(4) << 24) >>> 0) + ((peek(5) << 16) | (peek(6) << 8) | peek(7));
        if (dataLength > this.maxFrameBytes - PACKET_OVERHEAD_BYTES) {
          this.fail(IngestErrorCode.FRAME_TOO_LARGE, `declared data length ${dataLength} exceeds ${this.maxFrameBytes - PACKET_OVERHEAD_BYTES}`, { dataLength });
        }
        if (dataLength < MIN_DATA_FIELD_BYTES) this.fail(IngestErrorCode.BAD_FRAME, `declared data length ${dataLength} is too small`, { dataLength });
        kind = 'packet';
        total = dataLength + PACKET_OVERHEAD_BYTES;
      }
      if (headLen === 0 && end - off >= total) {
        frames.push({ kind, bytes: buf.subarray(off, off + total) });
        off += total;
        continue;
      }
      // The frame spans chunks: allocate its declared (bounded) size once and fill it.
      const frame = Buffer.allocUnsafe(total);
      this.head.copy(frame, 0, 0, headLen);
      const n = Math.min(total - headLen, end - off);
      buf.copy(frame, headLen, off, off + n);
      off += n;
      this.headLen = 0;
      if (headLen + n === total) {
        frames.push({ kind, bytes: frame });
      } else {
        this.partial = frame;
        this.partialKind = kind;
        this.filled = headLen + n;
      }
    }
    return frames;
  }

  /** Keeps the few header bytes of a frame whose size is not known yet. */
  private stash(buf: Buffer, off: number, end: number): void {
    buf.copy(this.head, this.headLen, off, end);
    this.headLen += end - off;
  }

  private fail(code: IngestErrorCode, message: string, details?: Record<string, unknown>): never {
    this.failure = new CodecError(code, message, details);
    this.head.fill(0);
    this.headLen = 0;
    this.partial = null;
    throw this.failure;
  }
}
