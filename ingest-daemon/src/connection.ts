/**
 * One device socket. State machine:
 *
 *   HANDSHAKE ──IMEI frame──▶ CHECKING ──known──▶ ONLINE ──close/error/idle──▶ CLOSED
 *       │                        └──unknown: write 00, end──────────────────────▲
 *       └──data before IMEI, bad IMEI, handshake timeout────────────────────────┘
 *
 * Frames are handled one at a time in arrival order (a device waits for each ACK anyway); while
 * one is being stored the socket is paused once a few more are queued, so a fast sender is held
 * back by TCP rather than buffered here. An AVL packet is ACKed only after the sink stored all
 * its records; a sink failure closes the connection without ACK (the device reconnects and
 * resends). A bad CRC or a structurally bad packet is not ACKed, logged (hex, throttled) and
 * counted, and the connection carries on. Codec 12/13 frames are never ACKed.
 *
 * Commands (Codec 12) go out one at a time, only between AVL uploads, and a type 0x06 response
 * answers the oldest outstanding command (the protocol has no correlation id).
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../../common/src/log.ts';
import { TrmError, errorMessage } from '../../common/src/errors.ts';
import { IMEI_ACCEPT, IMEI_REJECT, MSG_RESPONSE, CODEC_12 } from './codec/constants.ts';
import { decodePacket } from './codec/decode.ts';
import { encodeCodec12 } from './codec/codec12.ts';
import { Framer, type Frame } from './codec/framer.ts';
import { decodeImei } from './codec/imei.ts';
import type { CommandEvent, DeviceCommand } from './command-consumer.ts';
import type { IngestConfig } from './config.ts';
import { CodecError, IngestErrorCode } from './errors.ts';
import type { DeviceDirectory } from './known-devices.ts';
import type { IngestMetrics } from './metrics.ts';
import type { PositionSink } from './position-sink.ts';
import { throttle } from './throttle.ts';

export type ConnectionState = 'handshake' | 'checking' | 'online' | 'closed';

export interface ConnectionDeps {
  config: IngestConfig;
  devices: DeviceDirectory;
  sink: PositionSink;
  metrics: IngestMetrics;
  log: Logger;
  now: () => number;
  /** the handshake accepted this IMEI; returns false to refuse (server closing) */
  onOnline(conn: DeviceConnection): boolean;
  onClosed(conn: DeviceConnection): void;
  publish(event: Omit<CommandEvent, 'at' | 'instance'>): void;
}

/** frames queued behind the one being handled before the socket is paused */
const MAX_QUEUED_FRAMES = 8;

interface Outstanding {
  command: DeviceCommand;
  timer: NodeJS.Timeout;
}

export class DeviceConnection {
  state: ConnectionState = 'handshake';
  imei: string | undefined;
  readonly remote: string;
  private readonly socket: Socket;
  private readonly deps: ConnectionDeps;
  private readonly framer: Framer;
  private log: Logger;
  private readonly queue: { frame: Frame; at: number }[] = [];
  private busy = false;
  private paused = false;
  private draining = false;
  private handshakeTimer: NodeJS.Timeout | null;
  private frameTimer: NodeJS.Timeout | null = null;
  private readonly commands: DeviceCommand[] = [];
  private outstanding: Outstanding | null = null;
  private readonly hexLog = throttle(10_000);
  private idleResolve: (() => void) | null = null;
  private closeReason: string | undefined;

  constructor(socket: Socket, deps: ConnectionDeps) {
    this.socket = socket;
    this.deps = deps;
    this.remote = `${socket.remoteAddress}:${socket.remotePort}`;
    this.log = deps.log.child({ remote: this.remote });
    this.framer = new Framer({ maxFrameBytes: deps.config.maxFrameBytes });
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 60_000);
    socket.setTimeout(deps.config.idleTimeoutMs);
    socket.on('timeout', () => this.fail(IngestErrorCode.IDLE_TIMEOUT, 'no data within the idle timeout'));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => this.log.debug({ err: errorMessage(error) }, 'socket error'));
    socket.on('close', () => this.onSocketClosed());
    this.handshakeTimer = setTimeout(() => this.fail(IngestErrorCode.IDLE_TIMEOUT, 'no IMEI within the handshake timeout'), deps.config.handshakeTimeoutMs);
  }

  private onData(chunk: Buffer): void {
    if (this.state === 'closed') return;
    const at = performance.now();
    let frames: Frame[];
    try {
      frames = this.framer.push(chunk);
    } catch (error) {
      const code = (error as CodecError).code ?? IngestErrorCode.BAD_FRAME;
      this.deps.metrics.frameErrors.inc(1, { code });
      this.logHex(code, chunk, errorMessage(error));
      this.close(code);
      return;
    }
    this.watchSlowSender();
    for (const frame of frames) this.queue.push({ frame, at });
    if (this.queue.length > MAX_QUEUED_FRAMES && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
    if (!this.busy) void this.pump();
  }

  /** A started frame must complete within frameTimeoutMs, whatever trickles in meanwhile. */
  private watchSlowSender(): void {
    if (this.framer.pendingBytes === 0) {
      if (this.frameTimer) clearTimeout(this.frameTimer);
      this.frameTimer = null;
    } else if (!this.frameTimer) {
      this.frameTimer = setTimeout(() => this.fail(IngestErrorCode.SLOW_SENDER, 'frame not completed within the frame timeout'), this.deps.config.frameTimeoutMs);
    }
  }

  private async pump(): Promise<void> {
    this.busy = true;
    try {
      while (this.queue.length > 0 && this.state !== 'closed') {
        const { frame, at } = this.queue.shift()!;
        await this.handle(frame, at);
      }
    } catch (error) {
      this.log.error({ err: error }, 'frame handling failed');
      this.close(IngestErrorCode.PROTOCOL);
    } finally {
      this.busy = false;
    }
    if (this.state === 'closed') return;
    if (this.paused && !this.draining) {
      this.paused = false;
      this.socket.resume();
    }
    this.idleResolve?.();
    this.sendNextCommand();
  }

  private async handle(frame: Frame, at: number): Promise<void> {
    if (frame.kind === 'keepalive') return;
    if (frame.kind === 'imei') return this.handshake(frame.bytes);
    if (this.state !== 'online') return this.fail(IngestErrorCode.PROTOCOL, 'data before the IMEI handshake');
    const m = this.deps.metrics;
    let decoded;
    try {
      decoded = decodePacket(frame.bytes, { nowMs: this.deps.now(), maxFutureMs: this.deps.config.maxFutureMs });
    } catch (error) {
      const code = (error as CodecError).code ?? IngestErrorCode.BAD_PACKET;
      if (code === IngestErrorCode.BAD_CRC) m.badCrc.inc();
      m.frameErrors.inc(1, { code });
      this.logHex(code, frame.bytes, errorMessage(error));
      return; // no ACK: the device resends
    }
    m.frames.inc(1, { codec: decoded.codec === 'gprs' ? `0x${decoded.codecId.toString(16)}` : decoded.codec });
    if (decoded.codec === 'gprs') {
      for (const msg of decoded.messages) this.onMessage(msg.codecId, msg.type, msg.text, msg.payloadHex);
      return; // Codec 12/13 are never ACKed (research §7 gotcha 6)
    }
    if (decoded.rejected.length > 0) {
      for (const r of decoded.rejected) m.recordsRejected.inc(1, { reason: r.reason });
      this.log.warn({ imei: this.imei, code: IngestErrorCode.BAD_RECORD, rejected: decoded.rejected }, 'records breaking an invariant dropped (ACKed)');
    }
    try {
      await this.deps.sink.append(this.imei!, decoded.codec, decoded.records, this.deps.now());
    } catch (error) {
      m.xaddErrors.inc();
      this.log.warn({ imei: this.imei, code: (error as TrmError).code, err: errorMessage((error as Error).cause ?? error) }, 'records not stored, closing without ACK');
      this.close(IngestErrorCode.XADD_FAILED);
      return;
    }
    if ((this.state as ConnectionState) === 'closed') return; // closed while Redis answered
    for (const reply of decoded.replies) this.write(reply);
    m.acks.inc();
    m.records.inc(decoded.records.length);
    let noFix = 0;
    for (const r of decoded.records) if (!r.fix) noFix++;
    if (noFix > 0) m.noFix.inc(noFix);
    m.ackLatency.observe((performance.now() - at) / 1000);
  }

  private async handshake(bytes: Buffer): Promise<void> {
    if (this.state !== 'handshake') return this.fail(IngestErrorCode.PROTOCOL, 'second IMEI frame');
    let imei: string;
    try {
      imei = decodeImei(bytes);
    } catch (error) {
      this.deps.metrics.handshakes.inc(1, { result: 'bad' });
      this.logHex(IngestErrorCode.BAD_IMEI, bytes, errorMessage(error));
      this.write(Buffer.from([IMEI_REJECT]));
      this.close(IngestErrorCode.BAD_IMEI);
      return;
    }
    this.state = 'checking';
    this.imei = imei;
    this.log = this.log.child({ imei });
    const known = await this.deps.devices.isKnown(imei).catch(() => false);
    if ((this.state as ConnectionState) !== 'checking') return; // closed while Postgres answered
    if (!known || !this.deps.onOnline(this)) {
      this.deps.metrics.handshakes.inc(1, { result: 'unknown' });
      this.log.info({ code: IngestErrorCode.UNKNOWN_DEVICE }, 'IMEI refused');
      this.write(Buffer.from([IMEI_REJECT]));
      this.close(IngestErrorCode.UNKNOWN_DEVICE);
      return;
    }
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
    this.state = 'online';
    this.deps.metrics.handshakes.inc(1, { result: 'accepted' });
    this.deps.metrics.online.inc();
    this.write(Buffer.from([IMEI_ACCEPT]));
    this.log.debug('device logged in');
  }

  private onMessage(codecId: number, type: number, text: string | undefined, payloadHex: string): void {
    if (codecId === CODEC_12 && type === MSG_RESPONSE && this.outstanding) {
      const { command, timer } = this.outstanding;
      clearTimeout(timer);
      this.outstanding = null;
      this.deps.metrics.commandsResponded.inc();
      this.deps.publish({ id: command.id, imei: command.imei, status: 'responded', response: text ?? payloadHex });
      this.log.info({ command: command.id }, 'command answered');
      return;
    }
    this.log.info({ codecId, type, text, payloadHex: text ? undefined : payloadHex.slice(0, 512) }, 'device message');
  }

  /** Queues a Codec 12 command; it is written once no frame is being handled and none is outstanding. */
  enqueueCommand(command: DeviceCommand): void {
    if (this.state !== 'online') return this.failCommand(command, IngestErrorCode.NOT_CONNECTED);
    if (this.commands.length >= this.deps.config.maxQueuedCommands) return this.failCommand(command, IngestErrorCode.COMMAND_QUEUE_FULL);
    this.commands.push(command);
    this.sendNextCommand();
  }

  private sendNextCommand(): void {
    if (this.state !== 'online' || this.busy || this.outstanding || this.draining || this.commands.length === 0) return;
    const command = this.commands.shift()!;
    let frame: Buffer;
    try {
      frame = encodeCodec12(command.text);
    } catch (error) {
      this.failCommand(command, (error as CodecError).code ?? IngestErrorCode.BAD_COMMAND);
      this.sendNextCommand();
      return;
    }
    const timer = setTimeout(() => {
      if (this.outstanding?.command !== command) return;
      this.outstanding = null;
      this.failCommand(command, IngestErrorCode.COMMAND_TIMEOUT);
      this.sendNextCommand();
    }, this.deps.config.commandTimeoutMs);
    this.outstanding = { command, timer };
    this.write(frame);
    this.deps.metrics.commandsSent.inc();
    this.deps.publish({ id: command.id, imei: command.imei, status: 'sent' });
  }

  private failCommand(command: DeviceCommand, code: string): void {
    this.deps.metrics.commandsFailed.inc(1, { code });
    this.deps.publish({ id: command.id, imei: command.imei, status: 'failed', error: code });
  }

  private write(bytes: Buffer): void {
    if (this.state === 'closed' || this.socket.destroyed) return;
    this.socket.write(bytes);
    if (this.socket.writableLength > this.deps.config.maxWriteBufferBytes) this.fail(IngestErrorCode.SLOW_READER, 'device does not read its ACKs');
  }

  private logHex(code: string, bytes: Buffer, message: string): void {
    const suppressed = this.hexLog.take(this.deps.now());
    if (suppressed < 0) return;
    this.log.warn({ code, imei: this.imei, hex: bytes.subarray(0, 2048).toString('hex'), bytes: bytes.length, suppressed }, message);
  }

  private fail(code: string, message: string): void {
    if (this.state === 'closed') return;
    this.log.info({ code, imei: this.imei }, message);
    this.close(code);
  }

  /** Stops reading, lets the frame being stored finish (so its ACK goes out), then closes. */
  async drain(timeoutMs: number): Promise<void> {
    if (this.state === 'closed') return;
    this.draining = true;
    this.socket.pause();
    this.queue.length = 0;
    if (this.busy) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => (this.idleResolve = resolve)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
      ]);
      clearTimeout(timer);
    }
    this.close('SHUTDOWN');
  }

  /** Idempotent. Ends the socket gracefully (what was written gets flushed), destroys it soon after. */
  close(reason = 'closed'): void {
    if (this.state === 'closed') return;
    const wasOnline = this.state === 'online';
    this.state = 'closed';
    this.closeReason = reason;
    if (wasOnline) this.deps.metrics.online.dec();
    this.deps.metrics.disconnects.inc(1, { reason });
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    if (this.frameTimer) clearTimeout(this.frameTimer);
    this.queue.length = 0;
    if (this.outstanding) {
      clearTimeout(this.outstanding.timer);
      this.failCommand(this.outstanding.command, IngestErrorCode.DISCONNECTED);
      this.outstanding = null;
    }
    for (const command of this.commands.splice(0)) this.failCommand(command, IngestErrorCode.DISCONNECTED);
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1_000).unref();
    this.deps.onClosed(this);
  }

  private onSocketClosed(): void {
    this.close(this.closeReason ?? 'peer closed');
  }
}
