/**
 * The gateway's `/live` WebSocket (docs/live.md): `auth` (when logged in) then `subscribe`, then
 * a snapshot and live positions, alone or in `batch` frames.
 *
 * State machine: connecting → open (auth?, subscribe sent) → following (snapshot received);
 * close → wait (1 s, doubling to 15 s) → connecting. A new token while open is sent in-band
 * (re-authentication before `exp`); logging in or out reconnects, so the subscription is
 * decided again for the new user.
 */

/**
 * @typedef {{ event: number, entry: number, number: number, crew: string, imei: string, ts: number,
 *   lat: number, lon: number, speed: number, heading: number, alt: number, sats: number }} Position
 */

export class LiveSocket {
  /**
   * @param {{ path: string, event: number, token?: string, onPositions: (p: Position[]) => void,
   *   onStatus: (text: string) => void, onError: (code: string, message: string) => void }} o
   */
  constructor(o) {
    this.o = o;
    this.token = o.token;
    /** @type {WebSocket | undefined} */
    this.ws = undefined;
    this.retryMs = 1000;
    this.closed = false;
    this.connect();
  }

  connect() {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = (this.ws = new WebSocket(`${scheme}://${location.host}${this.o.path}`));
    this.o.onStatus('live: connecting…');
    ws.onopen = () => {
      if (this.token) ws.send(JSON.stringify({ type: 'auth', access_token: this.token }));
      ws.send(JSON.stringify({ type: 'subscribe', event: this.o.event }));
    };
    ws.onmessage = (e) => this.handle(JSON.parse(e.data));
    ws.onclose = (e) => {
      if (this.closed || ws !== this.ws) return;
      this.o.onStatus(`live: disconnected (${e.code}), retrying…`);
      setTimeout(() => !this.closed && ws === this.ws && this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 15_000);
    };
  }

  /** @param {any} m */
  handle(m) {
    switch (m.type) {
      case 'batch':
        for (const inner of m.messages) this.handle(inner);
        return;
      case 'snapshot':
        this.retryMs = 1000;
        this.o.onStatus('live: following');
        this.o.onPositions(m.positions);
        return;
      case 'position':
        this.o.onPositions([m]);
        return;
      case 'error':
        this.o.onError(m.code, m.message);
        return;
      default: // authenticated, pong, unsubscribed
    }
  }

  /** @param {string | undefined} token @param {{ reconnect: boolean }} how */
  setToken(token, how) {
    this.token = token;
    if (how.reconnect) {
      const old = this.ws;
      this.connect();
      old?.close();
    } else if (token && this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ type: 'auth', access_token: token }));
  }

  close() {
    this.closed = true;
    this.ws?.close();
  }
}
