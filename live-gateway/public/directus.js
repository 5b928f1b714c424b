/**
 * Directus from the browser: REST (login, refresh, items) and the realtime WebSocket
 * (`/websocket`, research/directus.md §5). Plain ES module, no build step.
 *
 * Realtime state machine: connecting → (auth sent) → authenticated → subscribed … ; on close
 * (Directus restarted, network) → wait (1 s, doubling to 15 s) → connecting again, and every
 * subscription is sent again (its `init` message replaces what the page held).
 */

/**
 * @typedef {{ accessToken: string, refreshToken: string, expiresAtMs: number }} Tokens
 */

export class DirectusRest {
  /** @param {string} url */
  constructor(url) {
    this.url = url.replace(/\/+$/, '');
    /** @type {string | undefined} */
    this.token = undefined;
  }

  /**
   * @param {string} method
   * @param {string} path
   * @param {unknown} [body]
   * @returns {Promise<any>}
   */
  async request(method, path, body) {
    /** @type {Record<string, string>} */
    const headers = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(this.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const json = await res.json().catch(() => undefined);
    if (!res.ok) {
      const first = json?.errors?.[0];
      const error = new Error(first?.message ?? `Directus ${method} ${path}: ${res.status}`);
      Object.assign(error, { status: res.status, code: first?.extensions?.code });
      throw error;
    }
    return json?.data;
  }

  /**
   * @param {string} collection
   * @param {{ fields?: string[], filter?: object, sort?: string[], limit?: number }} query
   */
  items(collection, query) {
    const params = new URLSearchParams();
    if (query.fields) params.set('fields', query.fields.join(','));
    if (query.filter) params.set('filter', JSON.stringify(query.filter));
    if (query.sort) params.set('sort', query.sort.join(','));
    params.set('limit', String(query.limit ?? -1));
    return this.request('GET', `/items/${collection}?${params}`);
  }

  /** @returns {Promise<Tokens>} */
  async login(email, password) {
    return toTokens(await this.request('POST', '/auth/login', { email, password, mode: 'json' }));
  }

  /** @returns {Promise<Tokens>} */
  async refresh(refreshToken) {
    return toTokens(await this.request('POST', '/auth/refresh', { refresh_token: refreshToken, mode: 'json' }));
  }
}

/** @param {{ access_token: string, refresh_token: string, expires: number }} data */
function toTokens(data) {
  return { accessToken: data.access_token, refreshToken: data.refresh_token, expiresAtMs: Date.now() + data.expires };
}

/**
 * @typedef {{ collection: string, query: object }} Subscription
 * @typedef {(uid: string, event: 'init' | 'create' | 'update' | 'delete', data: any[]) => void} OnSubscription
 */

export class DirectusRealtime {
  /**
   * @param {string} httpUrl Directus's base URL (http → ws)
   * @param {{ token: string, onSubscription: OnSubscription, onStatus: (text: string) => void }} o
   */
  constructor(httpUrl, o) {
    this.url = `${httpUrl.replace(/^http/, 'ws').replace(/\/+$/, '')}/websocket`;
    this.token = o.token;
    this.onSubscription = o.onSubscription;
    this.onStatus = o.onStatus;
    /** @type {Map<string, Subscription>} */
    this.subscriptions = new Map();
    /** @type {WebSocket | undefined} */
    this.ws = undefined;
    this.authenticated = false;
    this.closed = false;
    this.retryMs = 1000;
    this.connect();
  }

  connect() {
    const ws = (this.ws = new WebSocket(this.url));
    this.authenticated = false;
    ws.onopen = () => ws.send(JSON.stringify({ type: 'auth', access_token: this.token }));
    ws.onmessage = (e) => this.handle(JSON.parse(e.data));
    ws.onclose = () => {
      if (this.closed) return;
      this.onStatus('results: reconnecting to Directus…');
      setTimeout(() => !this.closed && this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 15_000);
    };
  }

  /** @param {any} m */
  handle(m) {
    if (m.type === 'ping') return this.ws?.send(JSON.stringify({ type: 'pong' }));
    if (m.type === 'auth') {
      if (m.status === 'ok') {
        const first = !this.authenticated;
        this.authenticated = true;
        this.retryMs = 1000;
        this.onStatus('results: live (Directus WebSocket)');
        if (first) for (const [uid, s] of this.subscriptions) this.send(uid, s);
      } else this.onStatus(`results: Directus refused the token (${m.error?.code ?? 'error'})`);
      return;
    }
    if (m.type === 'subscription' && m.uid && m.event !== 'error') {
      const data = Array.isArray(m.data) ? m.data : [m.data];
      this.onSubscription(m.uid, m.event, data);
      return;
    }
    if (m.status === 'error') this.onStatus(`results: ${m.error?.code ?? 'error'} ${m.error?.message ?? ''}`);
  }

  /** @param {string} uid @param {Subscription} s */
  send(uid, s) {
    this.ws?.send(JSON.stringify({ type: 'subscribe', uid, collection: s.collection, query: s.query }));
  }

  /** @param {string} uid @param {string} collection @param {object} query */
  subscribe(uid, collection, query) {
    this.subscriptions.set(uid, { collection, query });
    if (this.authenticated) this.send(uid, { collection, query });
  }

  /** a refreshed token: re-authenticate in-band, subscriptions stay */
  setToken(token) {
    this.token = token;
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ type: 'auth', access_token: token }));
  }

  close() {
    this.closed = true;
    this.ws?.close();
  }
}
