/**
 * A lean Redis (RESP2) client for the writer's hot commands: the blocking XREADGROUP, whose
 * reply it hands over as bytes (callRaw) for the entry decoder to turn straight into COPY text
 * (entry-codec.ts), and the XACK of a whole batch sent as one pre-built command (callEncoded).
 * ioredis spent ~10 µs of CPU per stream entry turning a 5,000-entry reply into JS (measured on
 * the dev machine: at most ~80k entries/s on one core, less than Postgres can insert).
 * Everything else (XADD, XAUTOCLAIM, XINFO) stays on ioredis.
 *
 * State machine:
 *
 *   idle ──call()──▶ connecting ──AUTH/SELECT answered──▶ ready ──socket closed or error──▶ idle
 *   (commands in flight fail with a retryable "Connection is closed"; the next call() reconnects)
 *   close() from any state ──▶ closed
 *
 * Replies come back in order; each call() is answered by the next complete reply.
 */
import net from 'node:net';

type Reply = string | number | null | Error | Reply[];

interface Waiter {
  resolve(value: unknown): void;
  reject(error: Error): void;
  /** answer with the reply's bytes (callRaw) instead of its value */
  raw: boolean;
}

const CR = 13;

/** Incremental RESP2 parser: feed() chunks, get back the replies they completed. */
export class RespParser {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  private readonly stack: { arr: Reply[]; at: number }[] = [];

  feed(chunk: Buffer): Reply[] {
    this.buf = this.pos < this.buf.length ? Buffer.concat([this.buf.subarray(this.pos), chunk]) : chunk;
    this.pos = 0;
    const out: Reply[] = [];
    const buf = this.buf;
    for (;;) {
      const start = this.pos;
      if (start >= buf.length) break;
      const lineEnd = buf.indexOf(CR, start);
      if (lineEnd < 0 || lineEnd + 1 >= buf.length) break;
      const type = buf[start];
      let value: Reply;
      let next = lineEnd + 2;
      if (type === 36 /* $ */ || type === 42 /* * */ || type === 58 /* : */) {
        let n = 0;
        let negative = false;
        for (let i = start + 1; i < lineEnd; i++) {
          const c = buf[i];
          if (c === 45) negative = true;
          else n = n * 10 + (c - 48);
        }
        if (negative) n = -n;
        if (type === 58) value = n;
        else if (n < 0) value = null;
        else if (type === 36) {
          if (next + n + 2 > buf.length) break; // bulk string not complete yet
          value = buf.toString('utf8', next, next + n);
          next += n + 2;
        } else if (n === 0) value = [];
        else {
          this.stack.push({ arr: new Array<Reply>(n), at: 0 });
          this.pos = next;
          continue;
        }
      } else if (type === 43 /* + */) value = buf.toString('utf8', start + 1, lineEnd);
      else if (type === 45 /* - */) value = new Error(buf.toString('utf8', start + 1, lineEnd));
      else throw new Error(`RESP protocol error: unexpected byte ${type}`);
      this.pos = next;
      // attach to the enclosing arrays; a completed array attaches to its parent in turn
      let done: Reply | undefined = value;
      while (done !== undefined && this.stack.length > 0) {
        const top = this.stack[this.stack.length - 1];
        top.arr[top.at++] = done;
        if (top.at < top.arr.length) done = undefined;
        else {
          this.stack.pop();
          done = top.arr;
        }
      }
      if (done !== undefined) out.push(done);
    }
    return out;
  }
}

/**
 * Cuts a RESP2 byte stream into whole top-level replies, without decoding them: feed() chunks,
 * get back the bytes of each reply they completed. The hot XREADGROUP reply is then decoded
 * straight into COPY lines (entry-codec.ts). Chunks are appended to one buffer, doubled when
 * full; a reply handed out is never written over (a new buffer is taken when room runs out).
 */
export class RespFramer {
  private buf: Buffer = Buffer.allocUnsafe(64 * 1024);
  private len = 0; // bytes held
  private start = 0; // where the reply being scanned begins
  private pos = 0; // where scanning resumes
  private readonly remaining: number[] = []; // elements still expected by each open array

  feed(chunk: Buffer): Buffer[] {
    if (this.len + chunk.length > this.buf.length) {
      const held = this.len - this.start;
      const next = Buffer.allocUnsafe(Math.max(this.buf.length, (held + chunk.length) * 2));
      this.buf.copy(next, 0, this.start, this.len);
      this.buf = next;
      this.pos -= this.start;
      this.len = held;
      this.start = 0;
    }
    this.len += chunk.copy(this.buf, this.len);
    const out: Buffer[] = [];
    const buf = this.buf;
    const len = this.len;
    const remaining = this.remaining;
    let pos = this.pos;
    for (;;) {
      if (pos >= len) break;
      let cr = pos + 1;
      while (cr < len && buf[cr] !== CR) cr++;
      if (cr + 1 >= len) break; // header line not complete yet
      const type = buf[pos];
      let next = cr + 2;
      if (type === 36 /* $ */ || type === 42 /* * */) {
        let n = 0;
        let negative = false;
        for (let i = pos + 1; i < cr; i++) {
          const c = buf[i];
          if (c === 45) negative = true;
          else n = n * 10 + (c - 48);
        }
        if (type === 42 && !negative && n > 0) {
          remaining.push(n);
          pos = next;
          continue;
        }
        if (type === 36 && !negative) {
          if (next + n + 2 > len) break; // bulk string not complete yet
          next += n + 2;
        }
      } else if (type !== 43 /* + */ && type !== 45 /* - */ && type !== 58 /* : */) {
        throw new Error(`RESP protocol error: unexpected byte ${type}`);
      }
      pos = next;
      // an element is complete: close the arrays it completes
      let top = remaining.length - 1;
      while (top >= 0 && --remaining[top] === 0) {
        remaining.pop();
        top--;
      }
      if (top < 0) {
        out.push(buf.subarray(this.start, pos));
        this.start = pos;
      }
    }
    this.pos = pos;
    if (this.start === this.len) {
      // nothing held: start over at the front (or with a fresh buffer if replies point into it)
      if (out.length > 0) this.buf = Buffer.allocUnsafe(this.buf.length);
      this.start = this.pos = this.len = 0;
    }
    return out;
  }
}

export function encodeCommand(args: readonly (string | number)[]): string {
  let out = `*${args.length}\r\n`;
  for (const a of args) {
    const s = String(a);
    out += `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
  }
  return out;
}

export class RespClient {
  private socket: net.Socket | undefined;
  private ready: Promise<void> | undefined;
  private waiters: Waiter[] = [];
  private framer = new RespFramer();
  private closed = false;
  private readonly url: URL;
  private readonly connectionName: string;

  constructor(redisUrl: string, connectionName = 'trm-writer-reader') {
    this.url = new URL(redisUrl);
    this.connectionName = connectionName;
  }

  async call(command: string, ...args: (string | number)[]): Promise<unknown> {
    if (this.closed) throw new Error('Connection is closed');
    await (this.ready ??= this.connect());
    return this.send([command, ...args]);
  }

  /** Sends a command already in RESP form (e.g. xackCommand in stream.ts); answers its value. */
  async callEncoded(command: string): Promise<unknown> {
    if (this.closed) throw new Error('Connection is closed');
    await (this.ready ??= this.connect());
    return this.send(command);
  }

  /** As call(), answered with the reply's bytes (an error reply still rejects). */
  async callRaw(command: string, ...args: (string | number)[]): Promise<Buffer> {
    if (this.closed) throw new Error('Connection is closed');
    await (this.ready ??= this.connect());
    return this.send([command, ...args], true) as Promise<Buffer>;
  }

  close(): void {
    this.closed = true;
    this.socket?.destroy();
  }

  private send(args: readonly (string | number)[] | string, raw = false): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (!this.socket) return reject(new Error('Connection is closed'));
      this.waiters.push({ resolve, reject, raw });
      this.socket.write(typeof args === 'string' ? args : encodeCommand(args));
    });
  }

  private connect(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const socket = net.connect({ host: this.url.hostname || '127.0.0.1', port: Number(this.url.port || 6379) });
      socket.setNoDelay(true);
      this.socket = socket;
      this.framer = new RespFramer();
      const fail = (error: Error) => {
        if (this.socket === socket) {
          this.socket = undefined;
          this.ready = undefined;
        }
        const waiters = this.waiters.splice(0);
        const closedError = new Error(`Connection is closed (${error.message})`, { cause: error });
        for (const w of waiters) w.reject(closedError);
        reject(closedError);
      };
      socket.on('data', (chunk: Buffer) => {
        let frames: Buffer[];
        try {
          frames = this.framer.feed(chunk);
        } catch (error) {
          socket.destroy(error as Error);
          return;
        }
        for (const frame of frames) {
          const w = this.waiters.shift();
          if (!w) continue;
          if (frame[0] === 45 /* - */) w.reject(new Error(frame.toString('utf8', 1, frame.length - 2)));
          else if (w.raw) w.resolve(frame);
          else w.resolve(new RespParser().feed(frame)[0]);
        }
      });
      socket.once('error', fail);
      socket.once('close', () => fail(new Error('socket closed')));
      socket.once('connect', () => {
        const setup: Promise<unknown>[] = [];
        const password = this.url.password ? decodeURIComponent(this.url.password) : undefined;
        if (password) setup.push(this.send(this.url.username ? ['AUTH', decodeURIComponent(this.url.username), password] : ['AUTH', password]));
        const db = Number(this.url.pathname.replace(/^\//, '') || 0);
        if (db) setup.push(this.send(['SELECT', db]));
        setup.push(this.send(['CLIENT', 'SETNAME', this.connectionName]));
        Promise.all(setup).then(() => resolve(), (error: Error) => {
          socket.destroy();
          reject(error);
        });
      });
    });
  }
}
