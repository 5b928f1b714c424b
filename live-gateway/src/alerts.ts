/**
 * Safety alerts on /live (docs/live.md, "Alerts"; docs/safety.md, "The alerts stream").
 *
 * - Who: decideAlertAccess() — a subscriber's token may read `alerts` of the event (not 403)
 *   AND the event's organisation is the user's organisation (an official of another
 *   organisation gets 200 with no rows on a public event). Never anonymous, never competitors.
 *   Decided once per subscription (cached per user and event like AccessCache), re-checked
 *   with the periodic re-check.
 * - What: the alert reader — a plain `XREAD BLOCK` of `safety:alerts` from `$` on a connection
 *   of its own, so every gateway instance sees every entry (no consumer group).
 * - Snapshot: the event's alerts not closed, read with the user's token after the stream's last
 *   id was noted; entries after that id follow it (alertFeed in session.ts).
 */
import type { Redis } from '../../common/src/redis.ts';
import type { Logger } from '../../common/src/log.ts';
import { errorMessage } from '../../common/src/errors.ts';
import { parseStreamFields, type AlertMessage } from '../../safety/src/alert-stream.ts';
import type { Identity } from './auth.ts';
import type { DirectusClient } from './directus.ts';
import { gwError } from './errors.ts';
import { streamEntries } from './consumer.ts';

const q = (filter: unknown): string => encodeURIComponent(JSON.stringify(filter));

/** May this identity receive the alerts of `event`? Throws UNAVAILABLE when Directus cannot answer. */
export async function decideAlertAccess(directus: DirectusClient, event: number, identity: Identity | null): Promise<boolean> {
  if (!identity) return false;
  const rows = await directus.get(`/items/alerts?filter=${q({ event: { _eq: event } })}&limit=1&fields=id`, identity.token);
  if (rows.status !== 200) return false;
  const [ev, me] = await Promise.all([directus.get(`/items/events/${event}?fields=organization`, identity.token), directus.get('/users/me?fields=organization', identity.token)]);
  if (ev.status !== 200 || me.status !== 200) return false;
  const orgOf = (data: unknown): unknown => {
    const o = (data as { organization?: unknown } | undefined)?.organization;
    return o !== null && typeof o === 'object' ? (o as { id?: unknown }).id : o;
  };
  const eventOrg = orgOf(ev.data);
  return eventOrg !== undefined && eventOrg !== null && eventOrg === orgOf(me.data);
}

export interface AlertSnapshotRow {
  id: number;
  key: string | null;
  event: number;
  stage: number | null;
  entry: number | null;
  device: string | null;
  kind: string;
  severity: string;
  status: string;
  position: unknown;
  opened_at: string | null;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
  note: string | null;
}

const SNAPSHOT_FIELDS = 'id,key,event,stage,entry,device,kind,severity,status,position,opened_at,acknowledged_at,acknowledged_by,note';

/** The event's alerts not closed, oldest first, read with the subscriber's token. */
export async function loadAlertSnapshot(directus: DirectusClient, event: number, token: string): Promise<AlertSnapshotRow[]> {
  const filter = q({ _and: [{ event: { _eq: event } }, { status: { _neq: 'closed' } }] });
  const reply = await directus.get(`/items/alerts?filter=${filter}&sort=id&limit=-1&fields=${SNAPSHOT_FIELDS}`, token);
  if (reply.status !== 200 || !Array.isArray(reply.data)) throw gwError('UNAVAILABLE', `Directus answered ${reply.status} to the alerts snapshot`);
  return reply.data as AlertSnapshotRow[];
}

/** Orders Redis stream ids (`ms-seq`). */
export function compareStreamIds(a: string, b: string): number {
  const [am, as = '0'] = a.split('-');
  const [bm, bs = '0'] = b.split('-');
  const d = BigInt(am) - BigInt(bm);
  if (d !== 0n) return d < 0n ? -1 : 1;
  const e = BigInt(as) - BigInt(bs);
  return e === 0n ? 0 : e < 0n ? -1 : 1;
}

export function encodeAlert(m: AlertMessage): string {
  return JSON.stringify({ type: 'alert', ...m });
}

export function encodeAlertSnapshot(event: number, alerts: readonly AlertSnapshotRow[]): string {
  return JSON.stringify({ type: 'alerts', event, alerts });
}

export interface AlertReader {
  readonly healthy: boolean;
  /** the stream's newest id now ('0-0' when empty): what a snapshot taken after it covers */
  lastId(): Promise<string>;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** XREAD BLOCK of the alerts stream from `$`, in a loop; `blocking` is its own connection. */
export function createAlertReader(options: {
  redis: Redis;
  blocking: Redis;
  stream: string;
  blockMs: number;
  log: Logger;
  onAlert(id: string, message: AlertMessage): void;
}): AlertReader {
  const { redis, blocking, stream, log } = options;
  let running = false;
  let healthy = false;
  let loop: Promise<void> | undefined;
  let cursor = '$';

  async function lastId(): Promise<string> {
    const newest = (await redis.xrevrange(stream, '+', '-', 'COUNT', 1)) as [string, string[]][];
    return newest.length > 0 ? newest[0][0] : '0-0';
  }

  async function readOnce(): Promise<void> {
    const reply = await blocking.call('XREAD', 'COUNT', 500, 'BLOCK', options.blockMs, 'STREAMS', stream, cursor);
    healthy = true;
    if (!reply) return;
    for (const [id, fields] of streamEntries(reply)) {
      cursor = id;
      if (!fields) continue;
      const m = parseStreamFields(fields);
      if (!m) continue;
      try {
        options.onAlert(id, m);
      } catch (error) {
        log.error({ err: error, id }, 'alert fan-out failed');
      }
    }
  }

  async function run(): Promise<void> {
    let backoffMs = 100;
    while (running) {
      try {
        await readOnce();
        backoffMs = 100;
      } catch (error) {
        if (!running) break;
        healthy = false;
        log.warn({ err: errorMessage(error), backoffMs }, 'alert reader failed, retrying');
        await new Promise((resolve) => setTimeout(resolve, backoffMs));
        backoffMs = Math.min(backoffMs * 2, 5000);
      }
    }
  }

  return {
    get healthy() {
      return healthy && blocking.status === 'ready';
    },
    lastId,
    async start() {
      if (running) return;
      // from the newest id now rather than `$` on every read: nothing is lost between reads
      cursor = await lastId();
      healthy = true;
      running = true;
      loop = run();
    },
    async close() {
      running = false;
      healthy = false;
      blocking.disconnect();
      await loop;
    },
  };
}

/** decideAlertAccess answers cached per (user, event) for `ttlMs`; concurrent questions share one call. */
export class AlertAccessCache {
  private readonly decided = new Map<string, { allowed: boolean; atMs: number }>();
  private readonly pending = new Map<string, Promise<boolean>>();
  private readonly directus: DirectusClient;
  private readonly ttlMs: number;

  constructor(options: { directus: DirectusClient; ttlMs: number }) {
    this.directus = options.directus;
    this.ttlMs = options.ttlMs;
  }

  decide(event: number, identity: Identity | null, nowMs: number, maxAgeMs = this.ttlMs): Promise<boolean> {
    if (!identity) return Promise.resolve(false);
    const key = `${identity.userId}:${event}`;
    const hit = this.decided.get(key);
    if (hit && nowMs - hit.atMs < maxAgeMs) return Promise.resolve(hit.allowed);
    let call = this.pending.get(key);
    if (!call) {
      call = decideAlertAccess(this.directus, event, identity).finally(() => this.pending.delete(key));
      call.then((allowed) => this.decided.set(key, { allowed, atMs: nowMs }), () => {});
      this.pending.set(key, call);
    }
    return call;
  }

  prune(nowMs: number): void {
    for (const [key, cached] of this.decided) if (nowMs - cached.atMs >= this.ttlMs) this.decided.delete(key);
  }
}
