/**
 * Directus hook `trm-timing`: the operator workflow of issue 6 (docs/recompute.md).
 *
 *   filter position_flags.items.create|update  validate only: device exists, from ≤ to, and the
 *                                              device belongs to the user's organisation (403)
 *   filter position_flags.items.update|delete  remember the flags as they were (they are about
 *                                              to change or vanish)
 *   action position_flags.items.create|update|delete
 *                                              re-apply the flags over the ranges touched
 *                                              (flags.ts: positions.faulty), store `affected` on
 *                                              a created flag, and XADD one device-scoped
 *                                              request per range to recompute:requests
 *
 * Loaded by Directus with a plain import() under Node 24, which strips the types of this file
 * and of common/src (outside node_modules). The request fields are those of common/src/
 * triggers.ts's `requestRecompute`, used here. Redis is TRM_REDIS_URL, keys prefixed with
 * TRM_REDIS_PREFIX (tests namespace a run with it).
 */
import { ForbiddenError, InvalidPayloadError } from '@directus/errors';
import { Redis } from 'ioredis';
import { redisKeys } from '../../../common/src/redis-keys.ts';
import { requestRecompute, type RecomputeRequest } from '../../../common/src/triggers.ts';
import { countPositions, flagRange, mergeRanges, reconcile, toMs, type FlagRow, type Knex, type Range } from './flags.ts';

interface Accountability {
  user?: string | null;
  admin?: boolean;
}
type HookContext = { database: Knex & KnexTable; accountability: Accountability | null };
interface KnexTable {
  (table: string): { where(w: Record<string, unknown>): { first(...cols: string[]): Promise<Record<string, unknown> | undefined>; update(v: Record<string, unknown>): Promise<number> }; whereIn(col: string, values: readonly unknown[]): { select(...cols: string[]): Promise<Record<string, unknown>[]> } };
}
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
  database: Knex & KnexTable;
  env: Record<string, unknown>;
  logger: Logger;
}

/** A recompute window reaches this far around the flagged range, ms. */
const WINDOW_MARGIN_MS = 60_000;
/** Flags remembered by a filter for the action that follows (dropped after this, ms). */
const STASH_TTL_MS = 5 * 60_000;

const FLAG_FIELDS = ['id', 'device', 'from', 'to', 'faulty', 'reason'];

export default function register({ filter, action }: Registry, { database, env, logger }: ExtensionContext): void {
  const keys = redisKeys(String(env.TRM_REDIS_PREFIX ?? ''));
  const redisUrl = String(env.TRM_REDIS_URL ?? 'redis://127.0.0.1:6379');
  let redis: Redis | undefined;
  const client = () => (redis ??= new Redis(redisUrl, { maxRetriesPerRequest: 3, lazyConnect: false }));
  const stash = new Map<number, { flag: FlagRow; at: number }>();

  const remember = async (db: KnexTable, ids: readonly unknown[]) => {
    const now = Date.now();
    for (const [id, s] of stash) if (now - s.at > STASH_TTL_MS) stash.delete(id);
    const rows = (await db('position_flags').whereIn('id', ids).select(...FLAG_FIELDS)) as unknown as FlagRow[];
    for (const flag of rows) stash.set(Number(flag.id), { flag, at: now });
  };
  const recall = (ids: readonly unknown[]): FlagRow[] => {
    const out: FlagRow[] = [];
    for (const id of ids) {
      const s = stash.get(Number(id));
      if (s) out.push(s.flag);
      stash.delete(Number(id));
    }
    return out;
  };

  async function validate(payload: Record<string, unknown>, accountability: Accountability | null, db: KnexTable, existing?: FlagRow): Promise<void> {
    const device = payload.device ?? existing?.device;
    if (device === undefined || device === null || typeof device === 'object') throw new InvalidPayloadError({ reason: 'position_flags: "device" must be an IMEI' });
    const row = await db('devices').where({ imei: String(device) }).first('imei', 'organization');
    if (!row) throw new InvalidPayloadError({ reason: `position_flags: device ${String(device)} does not exist` });
    const from = payload.from !== undefined ? payload.from : existing?.from;
    const to = payload.to !== undefined ? payload.to : existing?.to;
    if (from == null || Number.isNaN(toMs(from as string))) throw new InvalidPayloadError({ reason: 'position_flags: "from" must be an instant' });
    if (to != null && (Number.isNaN(toMs(to as string)) || toMs(to as string) < toMs(from as string))) throw new InvalidPayloadError({ reason: 'position_flags: "to" must be an instant not before "from"' });
    // tenancy: the access rules cannot filter a create through device → organization
    if (accountability?.user && !accountability.admin) {
      const user = await db('directus_users').where({ id: accountability.user }).first('organization');
      if (!user?.organization || user.organization !== row.organization) throw new ForbiddenError();
    }
  }

  async function apply(ranges: Range[], why: string, requestedBy: string | null | undefined): Promise<void> {
    for (const range of mergeRanges(ranges)) {
      const changed = await reconcile(database, range);
      const request: RecomputeRequest = {
        scope: 'device',
        id: range.device,
        from: new Date(range.fromMs - WINDOW_MARGIN_MS).toISOString(),
        to: new Date(range.toMs + WINDOW_MARGIN_MS).toISOString(),
        reason: why.slice(0, 500),
        ...(requestedBy ? { requested_by: requestedBy } : {}),
      };
      // two ioredis copies (Directus's and the workspace's) differ only in types
      const entry = await requestRecompute(client() as unknown as Parameters<typeof requestRecompute>[0], keys, request);
      logger.info(`[trm-timing] ${why}: ${changed} positions changed on ${range.device}; recompute requested (${entry})`);
    }
  }

  const reasonOf = (verb: string, flags: readonly FlagRow[]) =>
    `position_flag ${flags.map((f) => `#${f.id}`).join(',')} ${verb}${flags.length === 1 ? ` (${flags[0].faulty ? 'faulty' : 'valid'}${flags[0].reason ? `: ${flags[0].reason}` : ''})` : ''}`;

  filter('position_flags.items.create', async (payload, _meta, { database: db, accountability }) => {
    await validate(payload as Record<string, unknown>, accountability, db);
    return payload;
  });

  filter('position_flags.items.update', async (payload, meta, { database: db, accountability }) => {
    const ids = (meta.keys as unknown[]) ?? [];
    await remember(db, ids);
    for (const id of ids) {
      const existing = stash.get(Number(id))?.flag;
      if (existing) await validate(payload as Record<string, unknown>, accountability, db, existing);
    }
    return payload;
  });

  filter('position_flags.items.delete', async (keys, _meta, { database: db }) => {
    await remember(db, keys as unknown[]);
    return keys;
  });

  action('position_flags.items.create', async (meta, { accountability }) => {
    try {
      const flag = (await database('position_flags').where({ id: meta.key }).first(...FLAG_FIELDS)) as unknown as FlagRow | undefined;
      if (!flag) return;
      const range = flagRange(flag);
      await apply([range], reasonOf('created', [flag]), accountability?.user);
      await database('position_flags').where({ id: flag.id }).update({ affected: await countPositions(database, range) });
    } catch (error) {
      logger.error(`[trm-timing] position_flags create ${String(meta.key)}: ${(error as Error).message}`);
      throw error;
    }
  });

  action('position_flags.items.update', async (meta, { accountability }) => {
    try {
      const before = recall(meta.keys as unknown[]);
      const after = (await database('position_flags').whereIn('id', meta.keys as unknown[]).select(...FLAG_FIELDS)) as unknown as FlagRow[];
      await apply([...before, ...after].map(flagRange), reasonOf('updated', after), accountability?.user);
      for (const flag of after) await database('position_flags').where({ id: flag.id }).update({ affected: await countPositions(database, flagRange(flag)) });
    } catch (error) {
      logger.error(`[trm-timing] position_flags update: ${(error as Error).message}`);
      throw error;
    }
  });

  action('position_flags.items.delete', async (meta, { accountability }) => {
    try {
      const gone = recall(meta.keys as unknown[]);
      if (gone.length) await apply(gone.map(flagRange), reasonOf('deleted', gone), accountability?.user);
    } catch (error) {
      logger.error(`[trm-timing] position_flags delete: ${(error as Error).message}`);
      throw error;
    }
  });
}
