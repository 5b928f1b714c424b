/**
 * One simulated Teltonika device over real TCP, behaving like FMB firmware:
 *
 *   DISCONNECTED ─connect─▶ HANDSHAKE (IMEI sent) ─01─▶ ONLINE ─close/timeout─▶ DISCONNECTED
 *                                └─00─▶ REJECTED (stops)
 *
 * Records are produced into device memory (`record()`), uploaded a packet at a time, and only
 * forgotten once the server ACKs exactly that packet's record count. A wrong count or no ACK
 * within `ackTimeoutMs` makes the device drop the connection, reconnect and resend the same
 * records (research §1: "If the device gets a count that differs … it re-sends").
 * A Codec 12 command (type 0x05) is answered with `respond(text)` as a type 0x06 response.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { MSG_COMMAND, MSG_RESPONSE, type CodecName } from '../../ingest-daemon/src/codec/constants.ts';
import { encodeCodec12 } from '../../ingest-daemon/src/codec/codec12.ts';
import { decodePacket } from '../../ingest-daemon/src/codec/decode.ts';
import { encodeImei } from '../../ingest-daemon/src/codec/imei.ts';
import { encodeAvlPacket, type RecordInput } from './avl-encoder.ts';

export type DeviceState = 'disconnected' | 'handshake' | 'online' | 'rejected' | 'stopped';

export interface DeviceOptions {
  host: string;
  port: number;
  imei: string;
  codec?: Extract<CodecName, '8' | '8E'>;
  /** most records per AVL packet (FMB default: up to what fits 1280 bytes) */
  recordsPerPacket?: number;
  /**
   * fewest records worth an upload (FMB "Min Saved Records"); default 1 = upload whatever is
   * pending as soon as the previous packet is ACKed. `flushRemaining()` lifts it at the end.
   */
  minRecordsPerPacket?: number;
  ackTimeoutMs?: number;
  /** wait before reconnecting after a drop */
  reconnectDelayMs?: number;
  /** answer to a Codec 12 command; undefined = do not answer */
  respond?: (command: string) => string | undefined;
  /** called on every ACK with the latency from packet write to ACK (ms) and the record count */
  onAck?: (latencyMs: number, records: number) => void;
  onCommand?: (command: string) => void;
  onStateChange?: (state: DeviceState) => void;
  /** most records kept in memory; older ones are dropped like a full device flash would */
  maxBufferedRecords?: number;
}

export interface DeviceStats {
  generated: number;
  acked: number;
  resent: number;
  packets: number;
  connects: number;
  commands: number;
  dropped: number;
}

export class SimulatedDevice {
  state: DeviceState = 'disconnected';
  readonly stats: DeviceStats = { generated: 0, acked: 0, resent: 0, packets: 0, connects: 0, commands: 0, dropped: 0 };
  private readonly o: Required<Omit<DeviceOptions, 'respond' | 'onAck' | 'onCommand' | 'onStateChange'>> & DeviceOptions;
  private socket: net.Socket | null = null;
  private pending: RecordInput[] = [];
  private inflight: { count: number; sentAt: number; resend: boolean } | null = null;
  private inbox: Buffer = Buffer.alloc(0);
  private ackTimer: NodeJS.Timeout | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private resendNext = false;
  private minRecords: number;
  private idleWaiters: (() => void)[] = [];

  constructor(options: DeviceOptions) {
    this.o = { codec: '8E', recordsPerPacket: 10, minRecordsPerPacket: 1, ackTimeoutMs: 5_000, reconnectDelayMs: 200, maxBufferedRecords: 100_000, ...options };
    this.minRecords = Math.max(1, Math.min(this.o.minRecordsPerPacket, this.o.recordsPerPacket));
  }

  get buffered(): number {
    return this.pending.length;
  }

  /** Stores a record in device memory and uploads when possible. */
  record(r: RecordInput): void {
    if (this.state === 'stopped' || this.state === 'rejected') return;
    this.pending.push(r);
    this.stats.generated++;
    if (this.pending.length > this.o.maxBufferedRecords) {
      this.pending.splice(this.inflight ? this.inflight.count : 0, 1);
      this.stats.dropped++;
    }
    this.flush();
  }

  /** Uploads what is pending even below minRecordsPerPacket (FMB "Send Period" reached; end of a run). */
  flushRemaining(): void {
    this.minRecords = 1;
    this.flush();
  }

  connect(): void {
    if (this.socket || this.state === 'stopped' || this.state === 'rejected') return;
    this.setState('handshake');
    this.stats.connects++;
    const socket = net.connect({ host: this.o.host, port: this.o.port, noDelay: true });
    this.socket = socket;
    this.inbox = Buffer.alloc(0);
    socket.on('connect', () => socket.write(encodeImei(this.o.imei)));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => {});
    socket.on('close', () => this.onClose(socket));
  }

  /** Resolves when every generated record has been ACKed (or the device stopped). */
  idle(): Promise<void> {
    if (this.pending.length === 0 || this.state === 'stopped' || this.state === 'rejected') return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stop(): void {
    if (this.state === 'stopped') return;
    this.setState('stopped');
    if (this.ackTimer) clearTimeout(this.ackTimer);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.socket?.destroy();
    this.socket = null;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private setState(state: DeviceState): void {
    if (this.state === 'stopped') return;
    this.state = state;
    this.o.onStateChange?.(state);
  }

  private flush(): void {
    if (this.state !== 'online' || this.inflight || this.pending.length === 0 || !this.socket) return;
    if (this.pending.length < this.minRecords && !this.resendNext) return;
    const count = Math.min(this.o.recordsPerPacket, this.pending.length, 255);
    const packet = encodeAvlPacket(this.o.codec, this.pending.slice(0, count));
    this.inflight = { count, sentAt: performance.now(), resend: this.resendNext };
    if (this.resendNext) this.stats.resent += count;
    this.resendNext = false;
    this.stats.packets++;
    this.socket.write(packet);
    this.ackTimer = setTimeout(() => this.drop(), this.o.ackTimeoutMs);
  }

  /** No or wrong ACK: drop the link, reconnect, resend what is not acknowledged. */
  private drop(): void {
    this.resendNext = this.inflight !== null;
    this.inflight = null;
    this.socket?.destroy();
  }

  private onData(chunk: Buffer): void {
    this.inbox = this.inbox.length === 0 ? chunk : Buffer.concat([this.inbox, chunk]);
    while (this.inbox.length > 0) {
      if (this.state === 'handshake') {
        const ok = this.inbox[0] === 0x01;
        this.inbox = this.inbox.subarray(1);
        if (!ok) {
          this.setState('rejected');
          this.socket?.destroy();
          for (const w of this.idleWaiters.splice(0)) w();
          return;
        }
        this.setState('online');
        this.flush();
        continue;
      }
      if (this.inbox.length < 4) return;
      const first = this.inbox.readUInt32BE(0);
      if (first !== 0) {
        this.inbox = this.inbox.subarray(4);
        this.onAck(first);
        continue;
      }
      if (this.inbox.length < 8) return;
      const total = this.inbox.readUInt32BE(4) + 12;
      if (this.inbox.length < total) return;
      const frame = this.inbox.subarray(0, total);
      this.inbox = this.inbox.subarray(total);
      this.onFrame(frame);
    }
  }

  private onAck(count: number): void {
    const inflight = this.inflight;
    if (!inflight) return;
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.ackTimer = null;
    if (count !== inflight.count) return this.drop();
    this.inflight = null;
    this.pending.splice(0, count);
    this.stats.acked += count;
    this.o.onAck?.(performance.now() - inflight.sentAt, count);
    if (this.pending.length === 0) for (const w of this.idleWaiters.splice(0)) w();
    this.flush();
  }

  private onFrame(frame: Buffer): void {
    let decoded;
    try {
      decoded = decodePacket(frame, { nowMs: Date.now() });
    } catch {
      return; // a real device ignores what it cannot parse
    }
    for (const m of decoded.messages) {
      if (m.type !== MSG_COMMAND) continue;
      const text = m.text ?? m.payloadHex;
      this.stats.commands++;
      this.o.onCommand?.(text);
      const answer = this.o.respond?.(text);
      if (answer !== undefined && this.socket) this.socket.write(encodeCodec12(Buffer.from(answer, 'latin1'), MSG_RESPONSE));
    }
  }

  private onClose(socket: net.Socket): void {
    if (this.socket !== socket) return;
    this.socket = null;
    if (this.ackTimer) clearTimeout(this.ackTimer);
    if (this.inflight) {
      this.resendNext = true;
      this.inflight = null;
    }
    if (this.state === 'stopped' || this.state === 'rejected') return;
    this.setState('disconnected');
    this.reconnectTimer = setTimeout(() => this.connect(), this.o.reconnectDelayMs);
  }
}
