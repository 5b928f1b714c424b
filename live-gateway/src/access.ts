/**
 * May this identity (or nobody) read event X? One Directus question per subscription, with the
 * subscriber's own token, so Directus's policies (organisation, public_live) decide; the
 * answer is cached per (user, event) for the re-check interval.
 *
 * Directus answers 403 both for "not yours" and "does not exist", so on a refusal the gateway
 * asks anonymously (public_live events are readable by anyone) and then, with the service
 * token, whether the event exists at all.
 */
import { gwError, type WireCode } from './errors.ts';
import type { DirectusClient } from './directus.ts';
import type { Identity } from './auth.ts';

export type AccessDecision =
  | { allowed: true; /** readable without a token (public_live) */ public: boolean }
  | { allowed: false; code: Exclude<WireCode, 'BAD_REQUEST' | 'UNAVAILABLE'> };

/** Throws an UNAVAILABLE GatewayError when Directus cannot answer. */
export async function decideAccess(directus: DirectusClient, event: number, identity: Identity | null, serviceToken: string | undefined): Promise<AccessDecision> {
  const path = `/items/events/${event}?fields=id`;
  if (identity) {
    const mine = await directus.get(path, identity.token);
    if (mine.status === 200) return { allowed: true, public: false };
    if (mine.status === 401) return { allowed: false, code: mine.code === 'TOKEN_EXPIRED' ? 'TOKEN_EXPIRED' : 'UNAUTHENTICATED' };
  }
  const anonymous = await directus.get(path, null);
  if (anonymous.status === 200) return { allowed: true, public: true };
  if (serviceToken) {
    const service = await directus.get(path, serviceToken);
    if (service.status === 403 || service.status === 404) return { allowed: false, code: 'NOT_FOUND' };
    if (service.status !== 200) throw gwError('UNAVAILABLE', `Directus answered ${service.status} to the service token`);
  }
  return { allowed: false, code: identity ? 'FORBIDDEN' : 'UNAUTHENTICATED' };
}

interface Cached {
  decision: AccessDecision;
  atMs: number;
}

/** Decisions cached per (user, event) for `ttlMs`; concurrent identical questions share one call. */
export class AccessCache {
  private readonly decided = new Map<string, Cached>();
  private readonly pending = new Map<string, Promise<AccessDecision>>();
  private readonly directus: DirectusClient;
  private readonly serviceToken: string | undefined;
  private readonly ttlMs: number;

  constructor(options: { directus: DirectusClient; serviceToken?: string; ttlMs: number }) {
    this.directus = options.directus;
    this.serviceToken = options.serviceToken;
    this.ttlMs = options.ttlMs;
  }

  /**
   * `maxAgeMs`: oldest cached answer acceptable; the periodic re-check passes a shorter one so
   * one round asks Directus once per (user, event), however many connections share it.
   */
  decide(event: number, identity: Identity | null, nowMs: number, maxAgeMs = this.ttlMs): Promise<AccessDecision> {
    const key = `${identity?.userId ?? ''}:${event}`;
    const hit = this.decided.get(key);
    if (hit && nowMs - hit.atMs < maxAgeMs) return Promise.resolve(hit.decision);
    let call = this.pending.get(key);
    if (!call) {
      call = decideAccess(this.directus, event, identity, this.serviceToken).then(
        (decision) => {
          this.pending.delete(key);
          // an expired token says nothing about the user's rights: not cached
          if (decision.allowed || decision.code !== 'TOKEN_EXPIRED') this.decided.set(key, { decision, atMs: nowMs });
          return decision;
        },
        (error: unknown) => {
          this.pending.delete(key);
          throw error;
        },
      );
      this.pending.set(key, call);
    }
    return call;
  }

  /** Forgets answers older than the TTL (called by the re-check timer). */
  prune(nowMs: number): void {
    for (const [key, cached] of this.decided) if (nowMs - cached.atMs >= this.ttlMs) this.decided.delete(key);
  }
}
