/**
 * Directus hook `trm-safety`: the alert workflow of issue 13 (docs/safety.md).
 *
 *   filter alerts.items.create   validate only: kind, severity, status open, no stamps; event
 *                                and device from the entry; key = `${entry}:${kind}`; tenancy
 *                                (the user's organisation owns the event, 403); dedup: under a
 *                                transaction-scoped advisory lock on the key, a second alert
 *                                while one with the same key is not closed → 409
 *                                SAFETY_DUPLICATE_OPEN (the open one's id in extensions)
 *   filter alerts.items.update   transitions open → acknowledged → closed (400
 *                                SAFETY_BAD_TRANSITION), identity fields immutable, stamps
 *                                acknowledged_by/at, closed_by/at from the accountability
 *   filter alerts.items.delete   remember the rows (for the action)
 *   action alerts.items.create|update|delete
 *                                XADD one entry per alert to safety:alerts (safety/src/
 *                                alert-stream.ts), after the commit: the one publisher of
 *                                every alert change, whoever made it
 *
 * Audit: alerts has accountability "all", so Directus records activity and revisions of every
 * change made through it, stamps included (they are part of the same payload).
 * Redis is TRM_REDIS_URL, keys prefixed with TRM_REDIS_PREFIX, as trm-timing.
 */
import { createError, ForbiddenError, InvalidPayloadError } from '@directus/errors';
import { Redis } from 'ioredis';
import { CONTROL_STREAM_MAXLEN, redisKeys } from '../../../common/src/redis-keys.ts';
import { toStreamFields, type AlertChange, type AlertMessage } from '../../../safety/src/alert-stream.ts';
import { ALERT_KINDS, SEVERITIES, SEVERITY, type AlertKind, type AlertStatus } from '../../../safety/src/kinds.ts';
import { IMMUTABLE_FIELDS, isStatus, STAMPED_FIELDS, stampsFor, transitionError } from '../../../safety/src/transitions.ts';

interface Accountability {
  user?: string | null;
  admin?: boolean;
}
interface Knex {
  raw(sql: string, bindings: readonly unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}
type HookContext = { database: Knex; accountability: Accountability | null };
interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}
interface Registry {
  filter(event: string, handler: (payload: unknown, meta: Record<string, unknown>, context: HookContext) => unknown): void;
  action(event: string, handler: (meta: Record<string, unknown>, context: HookContext) => unknown): void;
}
interface ExtensionContext {
  database: Knex;
  env: Record<string, unknown>;
  logger: Logger;
}

const DuplicateOpenError = createError<{ id: number; key: string }>('SAFETY_DUPLICATE_OPEN', (e) => `alert #${e.id} with key ${e.key} is not closed yet: one open alert per entry and kind`, 409);
const BadTransitionError = createError<{ reason: string }>('SAFETY_BAD_TRANSITION', (e) => e.reason, 400);

const STASH_TTL_MS = 5 * 60_000;

/** Rows as published: the alert, the entry's race number, the position as GeoJSON. */
const ROW_SQL = `SELECT a.id, a.key, a.event, a.stage, a.entry, e.number, a.device, a.kind, a.severity, a.status,
    ST_AsGeoJSON(a.position)::json AS position, a.opened_at, a.acknowledged_at, a.acknowledged_by,
    a.closed_at, a.closed_by, a.note, a.user_updated, a.user_created
  FROM alerts a LEFT JOIN entries e ON e.id = a.entry WHERE a.id = ANY(?::int[])`;

type Row = Record<string, unknown>;

export default function register({ filter, action }: Registry, { database, env, logger }: ExtensionContext): void {
  const keys = redisKeys(String(env.TRM_REDIS_PREFIX ?? ''));
  const redisUrl = String(env.TRM_REDIS_URL ?? 'redis://127.0.0.1:6379');
  let redis: Redis | undefined;
  const client = () => (redis ??= new Redis(redisUrl, { maxRetriesPerRequest: 3 }));
  const deleted = new Map<string, { rows: Row[]; at: number }>();

  const fail = (reason: string) => new InvalidPayloadError({ reason: `alerts: ${reason}` });
  const iso = (v: unknown): string | null => (v === null || v === undefined ? null : new Date(v as string).toISOString());

  async function userOrganization(db: Knex, accountability: Accountability | null): Promise<string | null | undefined> {
    if (!accountability?.user || accountability.admin) return undefined; // admin or system: no tenancy check
    const { rows } = await db.raw('SELECT organization FROM directus_users WHERE id = ?', [accountability.user]);
    return (rows[0]?.organization as string | null | undefined) ?? null;
  }

  filter('alerts.items.create', async (input, _meta, { database: db, accountability }) => {
    const p = input as Record<string, unknown>;
    if (!ALERT_KINDS.includes(p.kind as AlertKind)) throw fail(`"kind" must be one of ${ALERT_KINDS.join(', ')}`);
    const kind = p.kind as AlertKind;
    if (p.status !== undefined && p.status !== null && p.status !== 'open') throw fail('an alert is created open');
    for (const f of STAMPED_FIELDS) if (p[f] !== undefined && p[f] !== null) throw fail(`"${f}" is filled by the workflow`);
    if (p.severity === undefined || p.severity === null) p.severity = SEVERITY[kind];
    else if (!(SEVERITIES as readonly string[]).includes(String(p.severity))) throw fail(`"severity" must be one of ${SEVERITIES.join(', ')}`);
    p.status = 'open';
    if (p.entry !== undefined && p.entry !== null) {
      if (typeof p.entry === 'object') throw fail('"entry" must be an id');
      const { rows } = await db.raw('SELECT id, event, device FROM entries WHERE id = ?', [p.entry]);
      if (!rows[0]) throw fail(`entry ${String(p.entry)} does not exist`);
      if (p.event !== undefined && p.event !== null && Number(p.event) !== Number(rows[0].event)) throw fail(`entry ${String(p.entry)} is not in event ${String(p.event)}`);
      p.event = rows[0].event;
      if (p.device === undefined || p.device === null) p.device = rows[0].device;
      p.key = `${String(rows[0].id)}:${kind}`;
    } else p.key = null;
    if (p.event === undefined || p.event === null || typeof p.event === 'object') throw fail('"event" (or "entry") is required');
    const { rows: events } = await db.raw('SELECT id, organization FROM events WHERE id = ?', [p.event]);
    if (!events[0]) throw fail(`event ${String(p.event)} does not exist`);
    // tenancy: the access rules cannot filter a create through event → organization
    const org = await userOrganization(db, accountability);
    if (org !== undefined && org !== null && org !== events[0].organization) throw new ForbiddenError();
    if (p.opened_at === undefined || p.opened_at === null) p.opened_at = new Date().toISOString();
    if (p.key) {
      // the create runs in a transaction: the lock serialises creates of one key until commit
      await db.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`trm-alert:${String(p.key)}`]);
      const { rows: open } = await db.raw("SELECT id FROM alerts WHERE key = ? AND status <> 'closed' ORDER BY id LIMIT 1", [p.key]);
      if (open[0]) throw new DuplicateOpenError({ id: Number(open[0].id), key: String(p.key) });
    }
    return p;
  });

  filter('alerts.items.update', async (input, meta, { database: db, accountability }) => {
    const p = input as Record<string, unknown>;
    const ids = ((meta.keys as unknown[]) ?? []).map(Number);
    for (const f of IMMUTABLE_FIELDS) if (f in p) throw fail(`"${f}" cannot change`);
    for (const f of STAMPED_FIELDS) if (f in p) throw fail(`"${f}" is filled from who changes the status`);
    if (p.severity !== undefined && !(SEVERITIES as readonly string[]).includes(String(p.severity))) throw fail(`"severity" must be one of ${SEVERITIES.join(', ')}`);
    if (!('status' in p)) return p;
    if (!isStatus(p.status)) throw fail('"status" must be open, acknowledged or closed');
    const to = p.status;
    const { rows } = await db.raw('SELECT id, status FROM alerts WHERE id = ANY(?::int[])', [ids]);
    const from = new Set(rows.map((r) => r.status as AlertStatus));
    if (from.size > 1) throw fail('a status change applies to alerts that share one status; change them in groups');
    const current = [...from][0];
    if (current === undefined) return p; // nothing to update; Directus answers for the keys
    const error = transitionError(current, to);
    if (error) throw new BadTransitionError({ reason: error });
    Object.assign(p, stampsFor(current, to, accountability?.user ?? null, new Date().toISOString()));
    return p;
  });

  filter('alerts.items.delete', async (input, _meta, { database: db }) => {
    const ids = (input as unknown[]).map(Number);
    const { rows } = await db.raw(ROW_SQL, [ids]);
    const now = Date.now();
    for (const [k, s] of deleted) if (now - s.at > STASH_TTL_MS) deleted.delete(k);
    deleted.set(ids.slice().sort().join(','), { rows, at: now });
    return input;
  });

  function message(row: Row, change: AlertChange, by: string | null): AlertMessage {
    const at = change === 'opened' ? iso(row.opened_at) : change === 'acknowledged' ? iso(row.acknowledged_at) : change === 'closed' ? iso(row.closed_at) : null;
    return {
      change,
      id: Number(row.id),
      key: (row.key as string | null) ?? null,
      event: Number(row.event),
      stage: row.stage === null ? null : Number(row.stage),
      entry: row.entry === null ? null : Number(row.entry),
      number: row.number === null || row.number === undefined ? null : Number(row.number),
      device: (row.device as string | null) ?? null,
      kind: row.kind as AlertKind,
      severity: row.severity as AlertMessage['severity'],
      status: row.status as AlertStatus,
      position: (row.position as AlertMessage['position']) ?? null,
      at: at ?? new Date().toISOString(),
      by,
      opened_at: iso(row.opened_at),
      note: (row.note as string | null) ?? null,
    };
  }

  async function publish(messages: AlertMessage[]): Promise<void> {
    if (!messages.length) return;
    const pipeline = client().pipeline();
    for (const m of messages) pipeline.xadd(keys.alerts, 'MAXLEN', '~', String(CONTROL_STREAM_MAXLEN), '*', ...toStreamFields(m));
    const results = await pipeline.exec();
    const failed = results?.find(([error]) => error);
    if (failed) throw failed[0];
  }

  action('alerts.items.create', async (meta, { accountability }) => {
    try {
      const { rows } = await database.raw(ROW_SQL, [[Number(meta.key)]]);
      await publish(rows.map((r) => message(r, 'opened', accountability?.user ?? null)));
    } catch (error) {
      logger.error(`[trm-safety] publishing alert ${String(meta.key)} failed: ${(error as Error).message}`);
    }
  });

  action('alerts.items.update', async (meta, { accountability }) => {
    try {
      const payload = (meta.payload ?? {}) as Record<string, unknown>;
      const { rows } = await database.raw(ROW_SQL, [((meta.keys as unknown[]) ?? []).map(Number)]);
      const change: AlertChange = payload.status === 'acknowledged' ? 'acknowledged' : payload.status === 'closed' ? 'closed' : 'updated';
      await publish(rows.map((r) => message(r, change, accountability?.user ?? null)));
    } catch (error) {
      logger.error(`[trm-safety] publishing alert update failed: ${(error as Error).message}`);
    }
  });

  action('alerts.items.delete', async (meta, { accountability }) => {
    try {
      const ids = ((meta.keys as unknown[]) ?? (meta.payload as unknown[]) ?? []).map(Number);
      const k = ids.slice().sort().join(',');
      const stash = deleted.get(k);
      deleted.delete(k);
      await publish((stash?.rows ?? []).map((r) => message({ ...r, status: 'closed' }, 'deleted', accountability?.user ?? null)));
    } catch (error) {
      logger.error(`[trm-safety] publishing alert deletion failed: ${(error as Error).message}`);
    }
  });
}
