/**
 * Directus hook `trm-results`: the Directus side of penalties (issue 7) and start orders
 * (issue 8); docs/penalties.md and docs/start-order.md, "Function".
 *
 *   filter penalties.items.create          an official's penalty (no source_kind, or manual):
 *                                          source_kind manual, a key when none, the event of
 *                                          its entry; an override needs a reason (and an
 *                                          amount to adjust)
 *   filter penalties.items.update          the same override check against the stored row
 *   action penalties.items.create|update|delete
 *                                          a manual penalty or an override changed → the BullMQ
 *                                          job `evaluate-penalties` for its entry
 *   action penalty_rules.items.*           a rule changed → evaluate-penalties for its event
 *   action stages.items.update             status became `confirmed` → `start-orders` for the
 *                                          next stage of the event (by sequence, liaisons
 *                                          skipped); start_order_strategy / params changed on a
 *                                          planned stage → `start-orders` for that stage
 *
 * The function's own writes (computed penalties; effective_ms of manual rows) carry none of the
 * fields that trigger, so a run never queues another. Jobs go through common/src/triggers.ts's
 * producers, so the payloads are those the functions parse. Redis is TRM_REDIS_URL, keys
 * prefixed with TRM_REDIS_PREFIX; the connection opens on first use. Loaded by Directus's plain
 * import() under Node 24's type stripping, like trm-timing.
 */
import { randomUUID } from 'node:crypto';
import { InvalidPayloadError } from '@directus/errors';
import { Queue } from 'bullmq';
import { createRedis } from '../../../common/src/redis.ts';
import { redisKeys } from '../../../common/src/redis-keys.ts';
import { enqueuePenaltyEvaluation, enqueueStartOrder, type PenaltyEvaluationRequest } from '../../../common/src/triggers.ts';
import { nextStage } from '../../../functions/src/generate-start-order/plan.ts';

interface Accountability {
  user?: string | null;
  admin?: boolean;
}
type Row = Record<string, unknown>;
interface Query {
  where(w: Row): Query;
  whereIn(col: string, values: readonly unknown[]): Query;
  first(...cols: string[]): Promise<Row | undefined>;
  select(...cols: string[]): Promise<Row[]>;
}
type Knex = (table: string) => Query;
type HookContext = { database: Knex; accountability: Accountability | null };
interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}
interface Registry {
  filter(event: string, handler: (payload: unknown, meta: Row, context: HookContext) => unknown): void;
  action(event: string, handler: (meta: Row, context: HookContext) => unknown): void;
}
interface ExtensionContext {
  database: Knex;
  env: Record<string, unknown>;
  logger: Logger;
}

const OVERRIDE_FIELDS = ['override', 'override_amount_ms', 'override_reason'];
const MANUAL_FIELDS = ['amount_ms', 'exclusion', 'stage', 'entry', 'explanation'];
const START_ORDER_SETTINGS = ['start_order_strategy', 'start_order_params'];
/** Rows remembered by a filter for the action that follows (dropped after this, ms). */
const STASH_TTL_MS = 5 * 60_000;

const isManual = (row: Row | undefined) => !row?.source_kind || row.source_kind === 'manual';
const has = (payload: Row, fields: readonly string[]) => fields.some((f) => f in payload);

function checkOverride(row: Row): void {
  const override = row.override ?? 'none';
  if (override === 'none') return;
  if (override !== 'waive' && override !== 'adjust') throw new InvalidPayloadError({ reason: 'penalties: "override" must be none, waive or adjust' });
  if (typeof row.override_reason !== 'string' || row.override_reason.trim() === '') throw new InvalidPayloadError({ reason: `penalties: a ${override} override needs an override_reason` });
  if (override === 'adjust' && (row.override_amount_ms === null || row.override_amount_ms === undefined || !Number.isFinite(Number(row.override_amount_ms)))) throw new InvalidPayloadError({ reason: 'penalties: an adjust override needs override_amount_ms' });
}

export default function register({ filter, action }: Registry, { database, env, logger }: ExtensionContext): void {
  const keys = redisKeys(String(env.TRM_REDIS_PREFIX ?? ''));
  const redisUrl = String(env.TRM_REDIS_URL ?? 'redis://127.0.0.1:6379');
  const queues: Record<string, Queue> = {};
  const queue = (name: string): Queue => {
    if (!queues[name]) {
      const connection = createRedis(redisUrl);
      connection.on('error', (error) => logger.warn(`[trm-results] redis: ${error.message}`));
      queues[name] = new Queue(name, { connection, prefix: keys.bullPrefix });
    }
    return queues[name];
  };
  const stash = new Map<string, { rows: Row[]; at: number }>();
  const remember = (event: string, ids: readonly unknown[], rows: Row[]) => {
    const now = Date.now();
    for (const [k, s] of stash) if (now - s.at > STASH_TTL_MS) stash.delete(k);
    stash.set(`${event}:${ids.map(String).sort().join(',')}`, { rows, at: now });
  };
  const recall = (event: string, ids: readonly unknown[]): Row[] => {
    const k = `${event}:${ids.map(String).sort().join(',')}`;
    const rows = stash.get(k)?.rows ?? [];
    stash.delete(k);
    return rows;
  };

  async function evaluate(requests: PenaltyEvaluationRequest[]): Promise<void> {
    const seen = new Set<string>();
    for (const r of requests) {
      if (seen.has(`${r.scope}:${r.id}`)) continue;
      seen.add(`${r.scope}:${r.id}`);
      try {
        const job = await enqueuePenaltyEvaluation(queue(keys.queues.penalties), keys, r);
        logger.info(`[trm-results] evaluate-penalties ${r.scope} ${r.id} queued (job ${job}): ${r.reason ?? ''}`);
      } catch (error) {
        logger.error(`[trm-results] evaluate-penalties ${r.scope} ${r.id} not queued: ${(error as Error).message}`);
      }
    }
  }

  async function startOrder(stageId: unknown, reason: string, by: string | null | undefined): Promise<void> {
    try {
      const job = await enqueueStartOrder(queue(keys.queues.startOrders), keys, { stage_id: String(stageId), reason: reason.slice(0, 500), ...(by ? { requested_by: by } : {}) });
      logger.info(`[trm-results] start order of stage ${String(stageId)} queued (job ${job}): ${reason}`);
    } catch (error) {
      logger.error(`[trm-results] start order of stage ${String(stageId)} not queued: ${(error as Error).message}`);
    }
  }

  const entryRequest = (entry: unknown, reason: string, by: string | null | undefined): PenaltyEvaluationRequest => ({ scope: 'entry', id: String(entry), reason, ...(by ? { requested_by: by } : {}) });

  // -- penalties -------------------------------------------------------------------------------

  filter('penalties.items.create', async (payload, _meta, { database: db }) => {
    const p = payload as Row;
    if (!isManual(p)) return p;
    if (p.entry === undefined || p.entry === null) throw new InvalidPayloadError({ reason: 'penalties: a manual penalty needs its entry' });
    const entry = await db('entries').where({ id: typeof p.entry === 'object' ? (p.entry as Row).id : p.entry }).first('id', 'event');
    if (!entry) throw new InvalidPayloadError({ reason: `penalties: entry ${String(p.entry)} does not exist` });
    checkOverride(p);
    return { ...p, source_kind: 'manual', key: p.key ?? `manual:${randomUUID()}`, event: p.event ?? entry.event };
  });

  filter('penalties.items.update', async (payload, meta, { database: db }) => {
    const p = payload as Row;
    const ids = (meta.keys as unknown[]) ?? [];
    const rows = await db('penalties').whereIn('id', ids).select('id', 'entry', 'source_kind', 'override', 'override_amount_ms', 'override_reason');
    remember('penalties.update', ids, rows);
    if (has(p, OVERRIDE_FIELDS)) for (const row of rows) checkOverride({ ...row, ...p });
    return p;
  });

  filter('penalties.items.delete', async (ids, _meta, { database: db }) => {
    remember('penalties.delete', ids as unknown[], await db('penalties').whereIn('id', ids as unknown[]).select('id', 'entry', 'source_kind', 'override'));
    return ids;
  });

  action('penalties.items.create', async (meta, { accountability }) => {
    const p = meta.payload as Row;
    if (isManual(p) && p.entry != null) await evaluate([entryRequest(typeof p.entry === 'object' ? (p.entry as Row).id : p.entry, `manual penalty #${String(meta.key)} created`, accountability?.user)]);
  });

  action('penalties.items.update', async (meta, { accountability }) => {
    const p = meta.payload as Row;
    const rows = recall('penalties.update', (meta.keys as unknown[]) ?? []);
    const triggering = rows.filter((row) => has(p, OVERRIDE_FIELDS) || (isManual(row) && has(p, MANUAL_FIELDS)));
    const what = has(p, OVERRIDE_FIELDS) ? `override ${String(p.override ?? 'changed')}` : 'manual penalty changed';
    const requests = triggering.flatMap((row) => [row.entry, ...(p.entry != null && p.entry !== row.entry ? [p.entry] : [])].map((entry) => entryRequest(entry, `penalty #${String(row.id)}: ${what}`, accountability?.user)));
    await evaluate(requests);
  });

  action('penalties.items.delete', async (meta, { accountability }) => {
    const rows = recall('penalties.delete', (meta.keys as unknown[]) ?? (meta.payload as unknown[]) ?? []);
    await evaluate(rows.filter((row) => isManual(row) || (row.override && row.override !== 'none')).map((row) => entryRequest(row.entry, `penalty #${String(row.id)} deleted`, accountability?.user)));
  });

  // -- penalty rules ---------------------------------------------------------------------------

  const ruleEvents = async (ids: readonly unknown[]) => (await database('penalty_rules').whereIn('id', ids).select('id', 'event')).map((r) => r.event);
  const eventRequests = (events: unknown[], reason: string, by: string | null | undefined): PenaltyEvaluationRequest[] =>
    [...new Set(events.filter((e) => e != null).map(String))].map((event) => ({ scope: 'event', id: event, reason, ...(by ? { requested_by: by } : {}) }));

  filter('penalty_rules.items.update', async (payload, meta, { database: db }) => {
    remember('rules.update', (meta.keys as unknown[]) ?? [], await db('penalty_rules').whereIn('id', (meta.keys as unknown[]) ?? []).select('id', 'event'));
    return payload;
  });
  filter('penalty_rules.items.delete', async (ids, _meta, { database: db }) => {
    remember('rules.delete', ids as unknown[], await db('penalty_rules').whereIn('id', ids as unknown[]).select('id', 'event'));
    return ids;
  });
  action('penalty_rules.items.create', async (meta, { accountability }) => {
    await evaluate(eventRequests(await ruleEvents([meta.key]), `penalty rule #${String(meta.key)} created`, accountability?.user));
  });
  action('penalty_rules.items.update', async (meta, { accountability }) => {
    const ids = (meta.keys as unknown[]) ?? [];
    const events = [...recall('rules.update', ids).map((r) => r.event), ...(await ruleEvents(ids))];
    await evaluate(eventRequests(events, `penalty rule ${ids.map((i) => `#${String(i)}`).join(',')} updated`, accountability?.user));
  });
  action('penalty_rules.items.delete', async (meta, { accountability }) => {
    const rows = recall('rules.delete', (meta.keys as unknown[]) ?? (meta.payload as unknown[]) ?? []);
    await evaluate(eventRequests(rows.map((r) => r.event), `penalty rule ${rows.map((r) => `#${String(r.id)}`).join(',')} deleted`, accountability?.user));
  });

  // -- stages → start orders -------------------------------------------------------------------

  action('stages.items.update', async (meta, { accountability }) => {
    const p = meta.payload as Row;
    const ids = (meta.keys as unknown[]) ?? [];
    if (!ids.length) return;
    const stages = await database('stages').whereIn('id', ids).select('id', 'event', 'code', 'kind', 'sequence', 'status');
    for (const stage of stages) {
      if (p.status === 'confirmed') {
        const siblings = (await database('stages').where({ event: stage.event }).select('id', 'code', 'kind', 'sequence')) as { id: number; code: string; kind: string | null; sequence: number }[];
        const next = nextStage(siblings, stage as unknown as { id: number; kind: string | null; sequence: number });
        if (next) await startOrder(next.id, `stage ${String(stage.code)} confirmed`, accountability?.user);
        else logger.info(`[trm-results] stage ${String(stage.code)} confirmed: it is the last stage, no start order to generate`);
      }
      if (has(p, START_ORDER_SETTINGS) && (stage.status ?? 'planned') === 'planned') await startOrder(stage.id, `stage ${String(stage.code)} start-order settings changed`, accountability?.user);
    }
  });
}
