/**
 * One /live client: authentication, subscriptions, token expiry, periodic re-check.
 *
 * States:
 *   anonymous --(valid token: header, ?access_token= or {"type":"auth"})--> authenticated
 *   authenticated --(new valid token, same or other user)--> authenticated (timer reset;
 *                   another user's subscriptions are asked again)
 *   authenticated --(exp reached without re-auth)--> anonymous: TOKEN_EXPIRED, and every
 *                   subscription that needed the token is dropped (public ones keep flowing)
 *   any --(socket closed)--> closed
 * Messages are handled one at a time in arrival order (a subscribe waiting for Directus holds
 * the next message back), so a client may send auth then subscribe without waiting.
 */
import type { Logger } from '../../common/src/log.ts';
import type { AccessCache, AccessDecision } from './access.ts';
import { compareStreamIds, encodeAlertSnapshot, type AlertSnapshotRow } from './alerts.ts';
import type { Identity, TokenVerifier } from './auth.ts';
import { CLOSE, GatewayError, gwError, type WireCode } from './errors.ts';
import type { Hub } from './hub.ts';
import { encodeError, encodeSnapshot, parseClientMessage, type LivePosition } from './protocol.ts';
import type { AlertFeed, Session } from './session.ts';

export interface ConnectionDeps {
  verifier: TokenVerifier;
  access: AccessCache;
  hub: Hub;
  loadSnapshot(event: number): Promise<LivePosition[]>;
  now(): number;
  maxSubscriptions: number;
  log: Logger;
  onError(code: WireCode): void;
  /** safety alerts (alerts.ts); absent: no subscriber gets alerts */
  alerts?: {
    /** may this identity receive the event's alerts (cached per user and event) */
    decide(event: number, identity: Identity | null, nowMs: number, maxAgeMs?: number): Promise<boolean>;
    /** the alerts stream's newest id now */
    lastId(): Promise<string>;
    loadSnapshot(event: number, token: string): Promise<AlertSnapshotRow[]>;
  };
}

// setTimeout's longest delay (~24.8 days); a later expiry re-arms.
const MAX_TIMER_MS = 2 ** 31 - 1;
// Client messages waiting their turn (a subscribe waits for Directus, up to its timeout): a
// client sending faster than it is answered is closed (1008) rather than queued without bound.
export const MAX_PENDING_MESSAGES = 256;

export class LiveConnection {
  private identity: Identity | null = null;
  private chain: Promise<void> = Promise.resolve();
  private expiryTimer: NodeJS.Timeout | undefined;
  private readonly session: Session;
  private readonly deps: ConnectionDeps;
  private readonly log: Logger;
  private pending = 0;

  constructor(session: Session, deps: ConnectionDeps) {
    this.session = session;
    this.deps = deps;
    this.log = deps.log;
    deps.hub.add(session);
  }

  /** A token from the upgrade request (header or query), handled before any message. */
  authenticateInitial(token: string): void {
    this.enqueue(() => this.authenticate(token));
  }

  onMessage(raw: string): void {
    this.enqueue(async () => {
      const message = parseClientMessage(raw);
      switch (message.type) {
        case 'auth':
          return this.authenticate(message.token);
        case 'subscribe':
          return this.subscribe(message.event);
        case 'unsubscribe':
          this.deps.hub.unsubscribe(this.session, message.event);
          this.session.send(JSON.stringify({ type: 'unsubscribed', event: message.event }));
          return;
        case 'ping':
          this.session.send('{"type":"pong"}');
          return;
      }
    });
  }

  onClose(): void {
    clearTimeout(this.expiryTimer);
    this.session.closed = true;
    this.deps.hub.remove(this.session);
  }

  /** Periodic re-check (default every 60 s): drops subscriptions Directus no longer allows. */
  async recheck(maxAgeMs: number): Promise<void> {
    for (const [event] of this.session.subscriptions) {
      let decision: AccessDecision;
      try {
        decision = await this.deps.access.decide(event, this.identity, this.deps.now(), maxAgeMs);
      } catch (error) {
        // Directus down: existing subscriptions keep flowing until it answers again
        this.log.warn({ err: error, event }, 're-check failed, subscription kept');
        continue;
      }
      if (this.session.closed) return;
      if (!decision.allowed && this.session.subscriptions.has(event)) {
        this.deps.hub.unsubscribe(this.session, event);
        this.sendError(decision.code, `no longer allowed to follow event ${event}`, event);
        this.log.info({ event, code: decision.code, user: this.identity?.userId }, 'subscription revoked on re-check');
      } else if (decision.allowed && this.session.subscriptions.has(event)) {
        // (not re-added when the client unsubscribed while Directus was answering)
        const sub = this.session.subscriptions.get(event)!;
        sub.public = decision.public;
        // alerts are only ever withdrawn here; a right gained later needs a new subscribe
        // (it comes with the alerts snapshot)
        if (sub.alerts && !(await this.mayReadAlerts(event, maxAgeMs, true))) {
          if (this.session.subscriptions.get(event) === sub) sub.alerts = undefined;
          this.log.info({ event, user: this.identity?.userId }, 'alert feed revoked on re-check');
        }
      }
    }
  }

  /** Directus down: `keepOnError` (re-check keeps the feed) or not (a new subscribe gets none). */
  private async mayReadAlerts(event: number, maxAgeMs: number | undefined, keepOnError: boolean): Promise<boolean> {
    if (!this.deps.alerts || !this.identity) return false;
    try {
      return await this.deps.alerts.decide(event, this.identity, this.deps.now(), maxAgeMs);
    } catch (error) {
      this.log.warn({ err: error, event }, 'alert permission check failed');
      return keepOnError;
    }
  }

  private enqueue(task: () => Promise<void>): void {
    if (this.pending >= MAX_PENDING_MESSAGES) {
      this.log.warn({ pending: this.pending }, 'client flooding messages: closed');
      this.session.close(CLOSE.POLICY, 'too many messages in flight');
      return;
    }
    this.pending++;
    this.chain = this.chain.then(task).finally(() => this.pending--).catch((error: unknown) => {
      if (error instanceof GatewayError) {
        this.sendError(error.wire, error.message, (error.details?.event as number | undefined) ?? undefined);
        if (error.wire === 'UNAVAILABLE') this.log.warn({ err: error }, 'request failed: dependency unavailable');
        return;
      }
      this.log.error({ err: error }, 'unexpected error handling a client message');
      this.sendError('UNAVAILABLE', 'internal error');
    });
  }

  private sendError(code: WireCode, message: string, event?: number): void {
    this.deps.onError(code);
    this.session.send(encodeError(code, message, event === undefined ? {} : { event }));
  }

  private async authenticate(token: string): Promise<void> {
    const identity = await this.deps.verifier.verify(token);
    if (this.session.closed) return;
    const previous = this.identity;
    this.identity = identity;
    this.armExpiry();
    this.session.send(JSON.stringify({ type: 'authenticated', user: identity.userId, expires_at: identity.expiresAtMs }));
    // another user (or none before): what was allowed before must be asked again
    if (previous?.userId !== identity.userId && this.session.subscriptions.size > 0) await this.recheck(Number.POSITIVE_INFINITY);
  }

  private armExpiry(): void {
    clearTimeout(this.expiryTimer);
    const exp = this.identity?.expiresAtMs;
    if (exp == null) return;
    const delay = Math.max(0, exp - this.deps.now());
    this.expiryTimer = setTimeout(() => (delay > MAX_TIMER_MS ? this.armExpiry() : this.expire()), Math.min(delay, MAX_TIMER_MS));
    this.expiryTimer.unref();
  }

  private expire(): void {
    if (this.session.closed || !this.identity) return;
    this.identity = null;
    this.enqueue(async () => {
      // what stays readable without a token (public_live) keeps flowing; Directus down: dropped
      const dropped: number[] = [];
      for (const [event, sub] of this.session.subscriptions) {
        let keep = sub.public;
        if (!keep) {
          try {
            keep = (await this.deps.access.decide(event, null, this.deps.now())).allowed;
          } catch {
            keep = false;
          }
        }
        if (this.session.closed || this.identity) return; // closed, or re-authenticated meanwhile
        if (keep) {
          this.session.subscriptions.set(event, { public: true }); // no alert feed without a token
        } else {
          this.deps.hub.unsubscribe(this.session, event);
          dropped.push(event);
        }
      }
      this.deps.onError('TOKEN_EXPIRED');
      this.session.send(JSON.stringify({ type: 'error', code: 'TOKEN_EXPIRED', message: 'access token expired: send {"type":"auth"} with a new one and subscribe again', events: dropped }));
    });
  }

  /**
   * The alert feed of a new subscription: registered first (entries read from now on wait in
   * it), then the stream's newest id, then the snapshot of alerts not closed (it covers every
   * entry up to that id: the hook publishes after its commit), then the waiting entries after
   * that id. A failure leaves the position subscription without alerts and tells the client.
   */
  private async startAlertFeed(event: number): Promise<void> {
    const sub = this.session.subscriptions.get(event);
    const deps = this.deps.alerts;
    if (!sub || !deps || !this.identity) return;
    const feed: AlertFeed = { from: '0-0', pending: [] };
    sub.alerts = feed;
    try {
      feed.from = await deps.lastId();
      const rows = await deps.loadSnapshot(event, this.identity.token);
      if (this.session.closed || sub.alerts !== feed) return;
      this.session.send(encodeAlertSnapshot(event, rows));
      const waiting = feed.pending ?? [];
      feed.pending = null;
      for (const { id, encoded } of waiting) if (compareStreamIds(id, feed.from) > 0) this.session.sendAlert(encoded);
    } catch (error) {
      if (sub.alerts === feed) sub.alerts = undefined;
      this.log.warn({ err: error, event }, 'alerts snapshot failed: subscription without alerts');
      this.sendError('UNAVAILABLE', 'cannot read the alerts now; subscribe again to receive them', event);
    }
  }

  private async subscribe(event: number): Promise<void> {
    if (!this.session.subscriptions.has(event) && this.session.subscriptions.size >= this.deps.maxSubscriptions) {
      throw gwError('BAD_REQUEST', `at most ${this.deps.maxSubscriptions} subscriptions per connection`, { details: { event } });
    }
    let decision: AccessDecision;
    try {
      decision = await this.deps.access.decide(event, this.identity, this.deps.now());
    } catch (error) {
      throw gwError('UNAVAILABLE', 'cannot check permissions now (Directus unavailable); try again', { cause: error, details: { event } });
    }
    if (this.session.closed) return;
    if (!decision.allowed) throw gwError(decision.code, messages[decision.code](event), { details: { event } });
    const alerts = await this.mayReadAlerts(event, undefined, false);
    if (this.session.closed) return;
    this.deps.hub.subscribe(this.session, event, decision.public);
    // live positions of this event wait until the snapshot is out, so they follow it
    this.session.hold();
    try {
      if (alerts) await this.startAlertFeed(event);
      const positions = await this.deps.loadSnapshot(event);
      this.session.send(encodeSnapshot(event, positions));
    } catch (error) {
      this.deps.hub.unsubscribe(this.session, event);
      throw gwError('UNAVAILABLE', 'cannot read the last positions now; try again', { cause: error, details: { event } });
    } finally {
      this.session.release(this.deps.now());
    }
  }
}

const messages: Record<Exclude<WireCode, 'BAD_REQUEST' | 'UNAVAILABLE'>, (event: number) => string> = {
  UNAUTHENTICATED: (e) => `event ${e} is not public: authenticate first`,
  FORBIDDEN: (e) => `not allowed to follow event ${e}`,
  NOT_FOUND: (e) => `event ${e} does not exist`,
  TOKEN_EXPIRED: () => 'access token expired: send {"type":"auth"} with a new one',
};
