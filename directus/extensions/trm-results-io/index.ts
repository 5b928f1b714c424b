/**
 * Directus endpoint `trm-results-io`: bulk writes of the computed result collections
 * (docs/recompute.md, "Bulk result writes").
 *
 *   POST /trm-results-io/<collection>   { delete?: id[], update?: [{ id, …fields }], create?: [{ …fields }] }
 *     → 200 { data: { deleted: id[], updated: id[], created: id[] } }   (created in request order)
 *
 * Only stage_times, waypoint_passes and speed_infringements, which the recompute writes by the
 * thousand. Directus's own batch endpoints write row by row (a savepoint, the payload validation
 * built per row, the INSERT); this one applies a request set-based in one transaction: one DELETE
 * … = ANY, one UPDATE … FROM unnest per field set, one INSERT … SELECT FROM unnest per field set.
 * What Directus does around a write is kept:
 *
 *   - access: an admin, or a user whose policies grant the steps' actions on the collection on
 *     every row and field, without validation or presets (the service account); anyone else 403;
 *   - filter hooks `items.create|update|delete` and `<collection>.items.*` run per row (per
 *     request for deletes) inside the transaction, as ItemsService runs them;
 *   - values as PayloadService stores them (bulk.ts), database errors through Directus's
 *     translation (a unique violation is RECORD_NOT_UNIQUE);
 *   - after COMMIT, the same action events ItemsService emits for the REST batch endpoints:
 *     per created row `{ payload, key, collection }`, per updated row `{ payload, keys: [id],
 *     collection }`, per request of deletes `{ payload: ids, keys: ids, collection }`, so hooks
 *     and Directus's WebSocket subscriptions see every change as before; the cache is purged as
 *     ItemsService purges it.
 *
 * The collections have no revisions (accountability null), so there is no activity to write.
 */
import { createError } from '@directus/errors';
import { allocateIdsStatement, checkCreate, checkPatch, deleteStatement, insertStatements, missing, parseBulk, updateStatements, type CollectionOverview, type Row, type SqlValue, type Statement } from './bulk.ts';
import { directusInternals, type Accountability, type DirectusInternals, type Permission } from './directus-internals.ts';
import { BulkError, BULK_ERR, BULK_STATUS } from './errors.ts';

/** The collections this endpoint writes: the recompute's results. */
export const RESULT_COLLECTIONS = new Set(['stage_times', 'waypoint_passes', 'speed_infringements']);

interface Knex {
  transaction<T>(fn: (trx: Knex) => Promise<T>): Promise<T>;
  raw(sql: string, bindings: readonly unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}
interface Schema {
  collections: Record<string, CollectionOverview & { accountability?: string | null }>;
}
interface Request {
  params: Record<string, string>;
  body: unknown;
  accountability?: Accountability | null;
  schema: Schema;
}
interface Response {
  json(body: unknown): void;
}
type Next = (error?: unknown) => void;
interface Router {
  post(path: string, handler: (req: Request, res: Response, next: Next) => void): void;
}
interface EndpointContext {
  database: Knex;
  env: Record<string, unknown>;
  logger: { warn(msg: string): void };
}

// one Directus error class per code (the status from errors.ts)
const errorClasses = new Map<string, ReturnType<typeof createError<{ reason: string }>>>();
function directusError(e: BulkError): Error {
  let cls = errorClasses.get(e.code);
  if (!cls) errorClasses.set(e.code, (cls = createError<{ reason: string }>(e.code, (ext) => ext.reason, BULK_STATUS[e.code] ?? 400)));
  return new cls({ reason: e.message });
}

const isEmpty = (o: Record<string, unknown> | null | undefined) => !o || Object.keys(o).length === 0;

/** Whether the caller may write every row and field of the collection with these actions. */
async function mayWrite(d: DirectusInternals, accountability: Accountability | null | undefined, collection: string, actions: string[], context: { knex: unknown; schema: unknown }): Promise<boolean> {
  if (!accountability) return false;
  if (accountability.admin) return true;
  if (!accountability.user) return false;
  const policies = await d.fetchPolicies(accountability, context);
  for (const action of actions) {
    const permissions: Permission[] = await d.fetchPermissions({ action, policies, collections: [collection], accountability }, context);
    const unrestricted = permissions.some((p) => (p.fields ?? []).includes('*') && (action === 'create' || isEmpty(p.permissions)));
    // a validation or a preset of any policy would apply to every row: not applied here, so refused
    if (!unrestricted || permissions.some((p) => !isEmpty(p.validation) || !isEmpty(p.presets))) return false;
  }
  return true;
}

export default {
  id: 'trm-results-io',
  handler(router: Router, { database, env, logger }: EndpointContext): void {
    const maxRows = Number(env.MAX_BATCH_MUTATION ?? 5000) || 5000;

    async function write(req: Request): Promise<{ deleted: number[]; updated: number[]; created: number[] }> {
      const d = await directusInternals();
      const collection = req.params.collection;
      const info = req.schema.collections[collection];
      if (!RESULT_COLLECTIONS.has(collection) || !info) throw new BulkError(BULK_ERR.COLLECTION, `${collection} is not written through this endpoint (only ${[...RESULT_COLLECTIONS].join(', ')})`);
      const request = parseBulk(req.body, info.primary, maxRows);
      const actions = [...(request.delete.length ? ['delete'] : []), ...(request.update.length ? ['update'] : []), ...(request.create.length ? ['create'] : [])];
      const accountability = req.accountability ?? null;
      if (!(await mayWrite(d, accountability, collection, actions, { knex: database, schema: req.schema }))) {
        throw new BulkError(BULK_ERR.FORBIDDEN, `not allowed to ${actions.join('/') || 'write'} ${collection} in bulk`);
      }
      const now = new Date().toISOString();
      const user = accountability?.user ?? null;
      const scope = (action: string) => ['items.' + action, `${collection}.items.${action}`];

      const done = await database.transaction(async (trx) => {
        const hookContext = { database: trx, schema: req.schema, accountability };
        const run = async (s: Statement, data: unknown) => {
          try {
            return (await trx.raw(s.sql, s.bindings)).rows;
          } catch (error) {
            throw await d.translateDatabaseError(error, data);
          }
        };
        // deletes → updates → creates, as the REST path's order (a key freed can be taken again)
        let deleted: number[] = [];
        if (request.delete.length) {
          const ids = (await d.emitter.emitFilter(scope('delete'), request.delete, { collection }, hookContext)).map(Number);
          const rows = await run(deleteStatement(info, ids), ids);
          const gone = missing(ids, rows.map((r) => r[info.primary]));
          if (gone.length) throw new BulkError(BULK_ERR.NOT_FOUND, `${collection} ${gone.slice(0, 10).join(', ')}${gone.length > 10 ? ' …' : ''}: not found, nothing deleted`);
          deleted = ids;
        }
        const updates: { id: number; payload: Row; values: Record<string, SqlValue> }[] = [];
        for (const [i, u] of request.update.entries()) {
          const payload = await d.emitter.emitFilter(scope('update'), u.patch, { keys: [u.id], collection }, hookContext);
          updates.push({ id: u.id, payload, values: checkPatch(info, payload, i) });
        }
        if (updates.length) {
          const found: unknown[] = [];
          for (const s of updateStatements(info, updates, now, user)) found.push(...(await run(s, updates.map((u) => u.payload))).map((r) => r[info.primary]));
          const gone = missing(updates.map((u) => u.id), found);
          if (gone.length) throw new BulkError(BULK_ERR.NOT_FOUND, `${collection} ${gone.slice(0, 10).join(', ')}${gone.length > 10 ? ' …' : ''}: not found, nothing updated`);
        }
        const creates: { payload: Row; values: Record<string, SqlValue> }[] = [];
        for (const [i, row] of request.create.entries()) {
          const payload = await d.emitter.emitFilter(scope('create'), row, { collection }, hookContext);
          creates.push({ payload, values: checkCreate(info, payload, i) });
        }
        let created: number[] = [];
        if (creates.length) {
          created = (await run(allocateIdsStatement(info, creates.length), null)).map((r) => Number(r.id));
          for (const s of insertStatements(info, creates.map((c) => c.values), created, now, user)) await run(s, creates.map((c) => c.payload));
        }
        return { deleted, updates, creates, created };
      });

      const cache = d.cache();
      if (d.shouldClearCache(cache, undefined, collection)) await cache!.clear();
      // after COMMIT, as ItemsService: the process-wide emitter, a context on the root database
      const actionContext = { database: d.getDatabase(), schema: req.schema, accountability };
      if (done.deleted.length) d.emitter.emitAction(scope('delete'), { payload: done.deleted, keys: done.deleted, collection }, actionContext);
      for (const u of done.updates) d.emitter.emitAction(scope('update'), { payload: u.payload, keys: [u.id], collection }, actionContext);
      done.creates.forEach((c, i) => d.emitter.emitAction(scope('create'), { payload: c.payload, key: done.created[i], collection }, actionContext));
      return { deleted: done.deleted, updated: done.updates.map((u) => u.id), created: done.created };
    }

    router.post('/:collection', (req, res, next) => {
      write(req).then(
        (data) => res.json({ data }),
        (error: unknown) => {
          if (error instanceof BulkError) return next(directusError(error));
          if (!(error as { extensions?: unknown })?.extensions) logger.warn(`[trm-results-io] ${req.params.collection}: ${(error as Error)?.message}`);
          next(error);
        },
      );
    });
  },
};
