/** A test WebSocket client for /live: records every message (batches flattened) and waits for matches. */
import WebSocket from 'ws';

export type Msg = Record<string, unknown> & { type: string };

export class WsTestClient {
  readonly messages: Msg[] = [];
  closed: { code: number; reason: string } | undefined;
  private cursor = 0;
  private wake: (() => void) | undefined;
  private readonly ws: WebSocket;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString()) as Msg;
      if (m.type === 'batch') this.messages.push(...(m.messages as Msg[]));
      else this.messages.push(m);
      this.wake?.();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.wake?.();
    });
  }

  static open(url: string, headers: Record<string, string> = {}): Promise<WsTestClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers });
      const client = new WsTestClient(ws);
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
    });
  }

  send(message: unknown): void {
    this.ws.send(JSON.stringify(message));
  }

  /** The next message (after the previous match) satisfying `pred`; messages skipped stay in `messages`. */
  async next(pred: (m: Msg) => boolean, what = 'message', giveUpMs = 10_000): Promise<Msg> {
    // not a timing assertion: a readable failure instead of the test's bare timeout
    const deadline = Date.now() + giveUpMs;
    for (;;) {
      if (Date.now() > deadline) throw new Error(`no ${what} after ${giveUpMs} ms; got ${JSON.stringify(this.messages).slice(0, 2000)}`);
      while (this.cursor < this.messages.length) {
        const m = this.messages[this.cursor++];
        if (pred(m)) return m;
      }
      if (this.closed) throw new Error(`socket closed (${this.closed.code} ${this.closed.reason}) while waiting for ${what}; got ${JSON.stringify(this.messages)}`);
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 500).unref();
      });
    }
  }

  nextType(type: string): Promise<Msg> {
    return this.next((m) => m.type === type, type);
  }

  async waitClosed(): Promise<{ code: number; reason: string }> {
    while (!this.closed) await new Promise<void>((resolve) => (this.wake = resolve));
    return this.closed;
  }

  /** Stops reading from the socket (a slow client); resume() reads again. */
  pause(): void {
    this.ws.pause();
  }

  resume(): void {
    this.ws.resume();
  }

  close(): void {
    this.ws.close();
  }
}
