/**
 * The functions' Directus adapter (recompute, evaluate-penalties, generate-start-order): REST
 * over fetch with the service token. Reads use `limit=-1`; writes use the batch endpoints (POST
 * an array, PATCH an array of items carrying their primary key, DELETE an array of keys) in
 * chunks of `batchSize`, so Directus runs its hooks and pushes the changes over its WebSocket.
 * Directus writes a batch row by row in one transaction (a few SQL round trips per row), so the
 * batches of a call, and of concurrent calls on the same client, are sent `writeConcurrency` at
 * once: each is its own transaction on its own connection of Directus's pool. The rows of one
 * call are disjoint, so the order between its batches does not matter; a call resolves once all
 * its batches have answered, and fails with the first failed batch's error.
 * The only module of those functions that speaks HTTP. Failures are a TrmError with the
 * caller's `errorCode` (retryable on 5xx, 429 and network errors).
 */
import { TrmError } from '../../../common/src/errors.ts';

/** Default code of a failed Directus request (each function passes its own). */
export const DIRECTUS_IO_ERR = 'DIRECTUS_IO_ERR_REQUEST';

export interface DirectusApi {
  /** GET /items/<collection> with a filter and fields; every row (limit -1) */
  list<T>(collection: string, filter: Record<string, unknown>, fields: readonly string[], sort?: readonly string[]): Promise<T[]>;
  get<T>(collection: string, id: number | string, fields: readonly string[]): Promise<T | undefined>;
  createMany<T = Record<string, unknown>>(collection: string, rows: readonly Record<string, unknown>[], fields?: readonly string[]): Promise<T[]>;
  updateMany(collection: string, rows: readonly ({ id: number | string } & Record<string, unknown>)[]): Promise<void>;
  deleteMany(collection: string, ids: readonly (number | string)[]): Promise<void>;
  updateOne(collection: string, id: number | string, patch: Record<string, unknown>): Promise<void>;
  /**
   * Deletes, updates and creates of one computed result collection (stage_times, waypoint_passes,
   * speed_infringements) through TRM's bulk endpoint (directus/extensions/trm-results-io): one
   * set-based transaction per request instead of Directus's row-by-row batch. Created ids in the
   * order of `create`.
   */
  writeResults(collection: string, write: ResultWrite): Promise<{ created: number[] }>;
}

export interface ResultWrite {
  delete?: readonly number[];
  update?: readonly ({ id: number } & Record<string, unknown>)[];
  create?: readonly Record<string, unknown>[];
}

export interface DirectusApiOptions {
  url: string;
  token: string;
  /** rows per batch request (Directus's MAX_BATCH_MUTATION is 5000 in TRM) */
  batchSize?: number;
  /** JSON bytes per batch request (Directus's MAX_PAYLOAD_SIZE defaults to 1 MB) */
  batchBytes?: number;
  timeoutMs?: number;
  /**
   * write requests (batches of createMany / updateMany / deleteMany) in flight at once on this
   * client, across calls (default 4; 1 = one after the other). A call with fewer batches than
   * this is cut into smaller ones (at least MIN_PARALLEL_BATCH rows each) to use them.
   */
  writeConcurrency?: number;
  /** code of the errors thrown (e.g. RECOMPUTE_ERR_DIRECTUS) */
  errorCode?: string;
}

/** Rows below which a call is not cut further to spread it over the concurrent requests. */
export const MIN_PARALLEL_BATCH = 100;
/**
 * The same for the bulk result endpoint, where a request costs Directus a fixed part (auth,
 * schema, permissions) and little per row: larger pieces, still several for a large call so the
 * database applies them on its own connections at once.
 */
export const MIN_PARALLEL_BULK = 500;

/** Directus codes after which a result write is retried: a concurrent run got there first. */
const RACE_CODES = new Set(['RECORD_NOT_UNIQUE', 'BULK_ERR_NOT_FOUND']);

export function directusApi(o: DirectusApiOptions): DirectusApi {
  const base = o.url.replace(/\/+$/, '');
  const batchSize = o.batchSize ?? 1000;
  const timeoutMs = o.timeoutMs ?? 60_000;
  const batchBytes = o.batchBytes ?? 768 * 1024;
  const errorCode = o.errorCode ?? DIRECTUS_IO_ERR;
  const writeConcurrency = Math.max(1, o.writeConcurrency ?? 4);

  /**
   * Consecutive slices of at most batchSize rows and about batchBytes of JSON each; with
   * writeConcurrency > 1, also of at most ⌈rows / writeConcurrency⌉ rows (not below
   * MIN_PARALLEL_BATCH), so a call has a batch for each concurrent request.
   */
  function* batches<T>(rows: readonly T[], minParallel = MIN_PARALLEL_BATCH): Generator<T[]> {
    const maxRows = Math.min(batchSize, Math.max(minParallel, Math.ceil(rows.length / writeConcurrency)));
    let part: T[] = [];
    let bytes = 0;
    for (const row of rows) {
      const size = JSON.stringify(row).length + 1;
      if (part.length > 0 && (part.length >= maxRows || bytes + size > batchBytes)) {
        yield part;
        part = [];
        bytes = 0;
      }
      part.push(row);
      bytes += size;
    }
    if (part.length) yield part;
  }

  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${o.token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
    } catch (cause) {
      throw new TrmError(errorCode, `Directus ${method} ${path.split('?')[0]}: ${(cause as Error).message}`, { cause, retryable: true });
    }
    const text = await res.text();
    if (!res.ok) {
      let detail = text.slice(0, 300);
      let directusCode: string | undefined;
      try {
        const first = (JSON.parse(text) as { errors?: { message: string; extensions?: { code?: string } }[] }).errors?.[0];
        if (first) detail = `${first.extensions?.code ?? ''} ${first.message}`;
        directusCode = first?.extensions?.code;
      } catch {
        // not JSON: keep the text
      }
      // RECORD_NOT_UNIQUE: a concurrent run created the same natural key first; a retry re-reads
      // the stored rows and updates instead (BULK_ERR_NOT_FOUND: it deleted one first)
      const retryable = res.status >= 500 || res.status === 429 || (directusCode !== undefined && RACE_CODES.has(directusCode));
      throw new TrmError(errorCode, `Directus ${method} ${path.split('?')[0]} → ${res.status} ${detail}`, { retryable, details: { status: res.status, ...(directusCode ? { directusCode } : {}) } });
    }
    if (res.status === 204 || text === '') return undefined as T;
    return (JSON.parse(text) as { data: T }).data;
  }

  // write requests in flight, and the ones waiting for a slot (FIFO)
  let writing = 0;
  const waiting: (() => void)[] = [];
  async function limited<T>(fn: () => Promise<T>): Promise<T> {
    if (writing >= writeConcurrency) await new Promise<void>((resolve) => waiting.push(resolve));
    else writing++;
    try {
      return await fn();
    } finally {
      const next = waiting.shift();
      if (next) next(); // the slot passes to the next waiting request
      else writing--;
    }
  }

  /** Sends every batch (writeConcurrency at once on this client); results in batch order. */
  async function writeBatches<R, T>(rows: readonly T[], send: (part: T[]) => Promise<R>, minParallel?: number): Promise<R[]> {
    const settled = await Promise.allSettled(Array.from(batches(rows, minParallel), (part) => limited(() => send(part))));
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    return settled.map((r) => (r as PromiseFulfilledResult<R>).value);
  }

  const query = (params: Record<string, string>) => new URLSearchParams(params).toString();

  return {
    list<T>(collection: string, filter: Record<string, unknown>, fields: readonly string[], sort?: readonly string[]) {
      const params: Record<string, string> = { limit: '-1', fields: fields.join(','), filter: JSON.stringify(filter) };
      if (sort?.length) params.sort = sort.join(',');
      return call<T[]>('GET', `/items/${collection}?${query(params)}`);
    },
    async get<T>(collection: string, id: number | string, fields: readonly string[]) {
      const rows = await call<T[]>('GET', `/items/${collection}?${query({ limit: '1', fields: fields.join(','), filter: JSON.stringify({ id: { _eq: id } }) })}`);
      return rows[0];
    },
    async createMany<T>(collection: string, rows: readonly Record<string, unknown>[], fields: readonly string[] = ['id']) {
      const parts = await writeBatches(rows, (part) => call<T[]>('POST', `/items/${collection}?${query({ fields: fields.join(',') })}`, part));
      return parts.flat();
    },
    async updateMany(collection, rows) {
      await writeBatches(rows, (part) => call('PATCH', `/items/${collection}?fields=id`, part));
    },
    async deleteMany(collection, ids) {
      await writeBatches(ids, (part) => call('DELETE', `/items/${collection}`, part));
    },
    async updateOne(collection, id, patch) {
      await call('PATCH', `/items/${collection}/${encodeURIComponent(String(id))}?fields=id`, patch);
    },
    async writeResults(collection, write) {
      type Item = { d: number } | { u: { id: number } & Record<string, unknown> } | { c: Record<string, unknown> };
      const deletes: Item[] = (write.delete ?? []).map((d) => ({ d }));
      const rest: Item[] = [...(write.update ?? []).map((u) => ({ u })), ...(write.create ?? []).map((c) => ({ c }))];
      const path = `/trm-results-io/${encodeURIComponent(collection)}`;
      const send = async (part: Item[]) => {
        const body: { delete?: number[]; update?: Record<string, unknown>[]; create?: Record<string, unknown>[] } = {};
        for (const item of part) {
          if ('d' in item) (body.delete ??= []).push(item.d);
          else if ('u' in item) (body.update ??= []).push(item.u);
          else (body.create ??= []).push(item.c);
        }
        return (await call<{ created: number[] }>('POST', path, body)).created;
      };
      const all = [...deletes, ...rest];
      if (all.length === 0) return { created: [] };
      const parts = [...batches(all, MIN_PARALLEL_BULK)];
      if (parts.length === 1) return { created: await limited(() => send(parts[0])) };
      // several requests: the deletes commit before anything is created (a freed key can be taken
      // again); updates and creates touch disjoint rows, so their requests go at once
      if (deletes.length) await writeBatches(deletes, send, MIN_PARALLEL_BULK);
      return { created: (await writeBatches(rest, send, MIN_PARALLEL_BULK)).flat() };
    },
  };
}
