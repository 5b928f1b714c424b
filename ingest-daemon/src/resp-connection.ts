/**
 * A minimal Redis connection for one job: pipelined writes whose replies are only checked for
 * errors (the positions XADDs). ioredis builds a Command object and a promise per XADD, which
 * cost more CPU than decoding the AVL data; here a batch of commands is one pre-encoded string
 * and one callback. Everything else (routes, command events, the blocking XREAD) stays on ioredis.
 *
 * State machine:
 *
 *   CONNECTING ──AUTH/SELECT/SETNAME answered──▶ READY ──socket closed──▶ RECONNECTING ─(backoff)─▶ CONNECTING
 *        └────────── connect failed / handshake error ───────────────────────▲
 *   close() from any state ──▶ CLOSED (no reconnect)
 *
 * Not READY means fail fast (no offline queue): `send` reports the failure at once, so the frame
 * is not ACKed and the device resends later. Batches in flight when the socket closes fail.
 */
import net from 'node:net';
import tls from 'node:tls';
import { encodeCommand, ReplyReader } from './resp.ts';

export type RespStatus = 'connecting' | 'ready' | 'reconnecting' | 'closed';

export interface ReplyError {
  /** index of the command in its batch */
  index: number;
  message: string;
}

/** `failure` when the batch as a whole was not answered; otherwise the commands that got an error reply. */
export type BatchDone = (failure: Error | null, errors: ReplyError[]) => void;

interface InFlight {
  replies: number;
  received: number;
  errors: ReplyError[];
  done: BatchDone;
}

export interface RespConnectionOptions {
  url: string;
  connectionName?: string;
  connectTimeoutMs?: number;
  onError?: (error: Error) => void;
  onStatus?: (status: RespStatus) => void;
}

export class RespConnection {
  status: RespStatus = 'connecting';
  private readonly options: RespConnectionOptions;
  private readonly target: URL;
  private socket: net.Socket | null = null;
  private readonly inflight: InFlight[] = [];
  private readonly reader = new ReplyReader((error) => this.onReply(error));
  private attempts = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private readyWaiters: (() => void)[] = [];

  constructor(options: RespConnectionOptions) {
    this.options = options;
    this.target = new URL(options.url);
    this.connect();
  }

  /** Writes `payload` (`replies` commands) and calls `done` once every reply is in, or on failure. */
  send(payload: string, replies: number, done: BatchDone): void {
    if (this.status !== 'ready' || !this.socket) {
      done(new Error(`Redis connection ${this.status}`), []);
      return;
    }
    this.inflight.push({ replies, received: 0, errors: [], done });
    this.socket.write(payload);
  }

  /** Resolves once the connection is READY (at once if it is); never rejects, reconnects meanwhile. */
  ready(): Promise<void> {
    if (this.status === 'ready') return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  close(): void {
    if (this.status === 'closed') return;
    this.setStatus('closed');
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.socket?.end();
    const socket = this.socket;
    if (socket) setTimeout(() => socket.destroy(), 1_000).unref();
    this.failInflight(new Error('Redis connection closed'));
  }

  private setStatus(status: RespStatus): void {
    if (this.status === status) return;
    this.status = status;
    this.options.onStatus?.(status);
    if (status === 'ready') for (const w of this.readyWaiters.splice(0)) w();
  }

  private connect(): void {
    this.retryTimer = null;
    if (this.status === 'closed') return;
    this.setStatus('connecting');
    const u = this.target;
    const port = Number(u.port || 6379);
    const host = u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
    const socket = u.protocol === 'rediss:' ? tls.connect({ host, port, servername: host }) : net.connect({ host, port });
    this.socket = socket;
    this.reader.reset();
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    socket.setTimeout(this.options.connectTimeoutMs ?? 10_000, () => socket.destroy(new Error('Redis connect timeout')));
    socket.once(u.protocol === 'rediss:' ? 'secureConnect' : 'connect', () => this.handshake(socket));
    socket.on('data', (chunk: Buffer) => {
      if (this.socket === socket) this.reader.push(chunk);
    });
    socket.on('error', (error) => this.options.onError?.(error));
    socket.on('close', () => this.onClose(socket));
  }

  private handshake(socket: net.Socket): void {
    const u = this.target;
    const commands: string[][] = [];
    const password = decodeURIComponent(u.password);
    const username = decodeURIComponent(u.username);
    if (password) commands.push(username ? ['AUTH', username, password] : ['AUTH', password]);
    const db = Number(u.pathname.slice(1) || 0);
    if (db) commands.push(['SELECT', String(db)]);
    if (this.options.connectionName) commands.push(['CLIENT', 'SETNAME', this.options.connectionName]);
    commands.push(['PING']);
    this.inflight.push({
      replies: commands.length,
      received: 0,
      errors: [],
      done: (failure, errors) => {
        if (failure || this.socket !== socket) return;
        if (errors.length > 0) {
          socket.destroy(new Error(`Redis handshake: ${errors[0].message}`));
          return;
        }
        socket.setTimeout(0);
        this.attempts = 0;
        this.setStatus('ready');
      },
    });
    socket.write(commands.map(encodeCommand).join(''));
  }

  private onReply(error: string | null): void {
    const head = this.inflight[0];
    if (!head) return; // unsolicited (cannot happen without subscriptions); ignored
    if (error !== null) head.errors.push({ index: head.received, message: error });
    if (++head.received === head.replies) {
      this.inflight.shift();
      head.done(null, head.errors);
    }
  }

  private onClose(socket: net.Socket): void {
    if (this.socket !== socket) return;
    this.socket = null;
    this.failInflight(new Error('Redis connection lost'));
    if (this.status === 'closed') return;
    this.setStatus('reconnecting');
    const delayMs = Math.min(50 * 2 ** Math.min(this.attempts++, 6), 2_000);
    this.retryTimer = setTimeout(() => this.connect(), delayMs);
  }

  private failInflight(error: Error): void {
    for (const f of this.inflight.splice(0)) f.done(error, []);
  }
}
