/**
 * A lean Redis (RESP2) client for the writer's one hot command, the blocking XREADGROUP.
 * ioredis spends ~10 µs of CPU per stream entry turning a 5,000-entry reply into JS (measured
 * on the dev machine: at most ~80k entries/s on one core, less than Postgres can insert); this
 * parser builds the same nested arrays with one pass over the bytes. Everything else (XACK,
 * XADD, XAUTOCLAIM, XINFO) stays on ioredis.
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
}

const CR = 13;

/*
 * Short bulk strings repeat endlessly in a stream reply (every field name, and values such as
 * '0', '11', 'true', a source name): one decoded copy of each is kept in a small direct-mapped
 * table keyed by a hash of its bytes, so a hit costs a byte comparison instead of a string
 * allocation (the parser was the writer's largest CPU cost, mostly allocation and GC).
 */
const INTERN_MAX_BYTES = 12;
const INTERN_SLOTS = 1024; // power of two
const internBytes = new Uint8Array(INTERN_SLOTS * INTERN_MAX_BYTES);
const internLength = new Uint8Array(INTERN_SLOTS);
const internString: (string | undefined)[] = new Array(INTERN_SLOTS).fill(undefined);

function shortString(buf: Buffer, start: number, n: number): string {
  let h = n;
  for (let i = start; i < start + n; i++) h = Math.imul(h ^ buf[i], 0x01000193);
  const slot = (h ^ (h >>> 15)) & (INTERN_SLOTS - 1);
  const base = slot * INTERN_MAX_BYTES;
  const cached = internString[slot];
  if (cached !== undefined && internLength[slot] === n) {
    let same = true;
    for (let i = 0; i < n; i++) {
      if (internBytes[base + i] !== buf[start + i]) {
        same = false;
        break;
      }
    }
    if (same) return cached;
  }
  const s = buf.toString('utf8', start, start + n);
  internString[slot] = s;
  internLength[slot] = n;
  for (let i = 0; i < n; i++) internBytes[base + i] = buf[start + i];
  return s;
}

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
          value = n <= INTERN_MAX_BYTES ? shortString(buf, next, n) : buf.toString('utf8', next, next + n);
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
  private parser = new RespParser();
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

  close(): void {
    this.closed = true;
    this.socket?.destroy();
  }

  private send(args: readonly (string | number)[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (!this.socket) return reject(new Error('Connection is closed'));
      this.waiters.push({ resolve, reject });
      this.socket.write(encodeCommand(args));
    });
  }

  private connect(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const socket = net.connect({ host: this.url.hostname || '127.0.0.1', port: Number(this.url.port || 6379) });
      socket.setNoDelay(true);
      this.socket = socket;
      this.parser = new RespParser();
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
        let replies: Reply[];
        try {
          replies = this.parser.feed(chunk);
        } catch (error) {
          socket.destroy(error as Error);
          return;
        }
        for (const reply of replies) {
          const w = this.waiters.shift();
          if (!w) continue;
          if (reply instanceof Error) w.reject(reply);
          else w.resolve(reply);
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
