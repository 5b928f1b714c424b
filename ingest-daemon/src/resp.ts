/**
 * The little of RESP (the Redis protocol, https://redis.io/docs/latest/develop/reference/protocol-spec/)
 * that the positions writer needs: encoding commands as strings and reading replies only to
 * count them and catch errors. Pure: no sockets.
 */

/** `$len\r\nvalue\r\n`; `value` must be ASCII (digits, JSON of numbers, hex) so length = bytes. */
export function bulkAscii(value: string): string {
  return `$${value.length}\r\n${value}\r\n`;
}

/** `$len\r\nvalue\r\n` for any text (UTF-8 byte length). */
export function bulk(value: string): string {
  return `$${Buffer.byteLength(value)}\r\n${value}\r\n`;
}

/** A whole command as a RESP array of bulk strings. */
export function encodeCommand(args: readonly string[]): string {
  let s = `*${args.length}\r\n`;
  for (const a of args) s += bulk(a);
  return s;
}

const CR = 0x0d;

/**
 * Splits a reply stream into top-level replies, whatever the chunking. For each it calls
 * `onReply(error)`: the error text for a `-` reply, null for anything else (nested arrays, maps
 * and RESP3 types included). Holds at most one incomplete reply between pushes.
 */
export class ReplyReader {
  private buf: Buffer | null = null;
  private readonly onReply: (error: string | null) => void;

  constructor(onReply: (error: string | null) => void) {
    this.onReply = onReply;
  }

  push(chunk: Buffer): void {
    const buf = this.buf ? Buffer.concat([this.buf, chunk]) : chunk;
    let pos = 0;
    for (;;) {
      if (pos >= buf.length) {
        this.buf = null;
        return;
      }
      const end = skipReply(buf, pos);
      if (end < 0) {
        this.buf = buf.subarray(pos);
        return;
      }
      this.onReply(buf[pos] === 0x2d /* - */ ? buf.toString('utf8', pos + 1, end - 2) : null);
      pos = end;
    }
  }

  reset(): void {
    this.buf = null;
  }
}

/** End of the line starting at pos (index after \r\n), or -1. */
function lineEnd(buf: Buffer, pos: number): number {
  const cr = buf.indexOf(CR, pos);
  return cr < 0 || cr + 1 >= buf.length ? -1 : cr + 2;
}

function lineInt(buf: Buffer, from: number, end: number): number {
  return Number(buf.toString('latin1', from, end - 2));
}

/** Index just past the reply starting at pos, or -1 when it is not complete yet. */
export function skipReply(buf: Buffer, pos: number): number {
  const end = lineEnd(buf, pos);
  if (end < 0) return -1;
  switch (buf[pos]) {
    case 0x24: /* $ bulk */
    case 0x21: /* ! bulk error (RESP3) */
    case 0x3d: /* = verbatim (RESP3) */ {
      const len = lineInt(buf, pos + 1, end);
      if (len < 0) return end;
      return end + len + 2 <= buf.length ? end + len + 2 : -1;
    }
    case 0x2a: /* * array */
    case 0x7e: /* ~ set */
    case 0x3e: /* > push */
    case 0x25: /* % map */ {
      let n = lineInt(buf, pos + 1, end);
      if (buf[pos] === 0x25) n *= 2;
      let p = end;
      for (let i = 0; i < n; i++) {
        p = skipReply(buf, p);
        if (p < 0) return -1;
      }
      return p;
    }
    default: /* + - : _ , # ( simple one-line types */
      return end;
  }
}
