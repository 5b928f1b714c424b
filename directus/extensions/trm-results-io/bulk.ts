/**
 * The pure part of the bulk result write (index.ts): parse a request body, check and convert each
 * row against the collection as Directus's schema overview describes it, and build the set-based
 * SQL (one statement per step and field set, arrays bound with unnest). No I/O, no clock: `now`
 * and the user come in as arguments.
 *
 * Values are those Directus would store for the same REST payload: instants as given (any
 * Date.parse-able string, stored as timestamptz), JSON fields as JSON text (null stays SQL null),
 * `date-created` / `user-created` set on create and `date-updated` / `user-updated` on update, as
 * PayloadService's specials do; anything else (the primary key, other specials, aliases) is not
 * writable here.
 */
import { BulkError, BULK_ERR } from './errors.ts';

/** The parts of Directus's schema overview (SchemaOverview.collections[c]) used here. */
export interface FieldOverview {
  field: string;
  type: string;
  dbType: string | null;
  nullable: boolean;
  defaultValue: unknown;
  special: string[];
  alias?: boolean;
  generated?: boolean;
}

export interface CollectionOverview {
  collection: string;
  primary: string;
  fields: Record<string, FieldOverview>;
}

export type SqlValue = string | number | boolean | null;
export type Row = Record<string, unknown>;

/** A parsed request: row shapes checked, values not yet (filter hooks may still change them). */
export interface BulkRequest {
  delete: number[];
  update: { id: number; patch: Row }[];
  create: Row[];
}

export interface Statement {
  sql: string;
  bindings: unknown[];
}

/** Fields PayloadService fills itself (on create / on update): never taken from the payload. */
const MANAGED_ON_CREATE = { 'date-created': 'now', 'user-created': 'user' } as const;
const MANAGED_ON_UPDATE = { 'date-updated': 'now', 'user-updated': 'user' } as const;
/** Specials that change nothing on write (relations by id, read-side casts). */
const PASSIVE_SPECIALS = new Set(['m2o', 'cast-json', 'cast-boolean']);

interface TypeRule {
  /** Postgres array type the column's values are bound as (unnest) */
  pg: string;
  convert(value: unknown): SqlValue | undefined;
}

const INT4 = 2 ** 31;
const isoOf = (value: unknown): string | undefined => {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
};
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Directus field types this endpoint writes; undefined from convert = the wrong type. */
const TYPES: Record<string, TypeRule> = {
  integer: { pg: 'int4', convert: (v) => (Number.isInteger(v) && Math.abs(v as number) < INT4 ? (v as number) : undefined) },
  bigInteger: { pg: 'int8', convert: (v) => (Number.isSafeInteger(v) ? (v as number) : undefined) },
  float: { pg: 'float8', convert: (v) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined) },
  decimal: { pg: 'numeric', convert: (v) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined) },
  string: { pg: 'text', convert: (v) => (typeof v === 'string' ? v : undefined) },
  text: { pg: 'text', convert: (v) => (typeof v === 'string' ? v : undefined) },
  uuid: { pg: 'uuid', convert: (v) => (typeof v === 'string' && UUID.test(v) ? v : undefined) },
  boolean: { pg: 'bool', convert: (v) => (typeof v === 'boolean' ? v : undefined) },
  timestamp: { pg: 'timestamptz', convert: isoOf },
  json: { pg: 'text', convert: (v) => JSON.stringify(v) },
};

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
export function quote(name: string): string {
  if (!IDENT.test(name)) throw new Error(`unexpected identifier ${JSON.stringify(name)}`);
  return `"${name}"`;
}

const bad = (message: string) => new BulkError(BULK_ERR.BAD_INPUT, message);
const isObject = (v: unknown): v is Row => typeof v === 'object' && v !== null && !Array.isArray(v);
const isId = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) > 0;

/**
 * The envelope `{ delete?: id[], update?: [{ id, …fields }], create?: [{ …fields }] }`: shapes,
 * ids (positive integers, each at most once per step) and the row count (at most maxRows).
 */
export function parseBulk(body: unknown, primary: string, maxRows: number): BulkRequest {
  if (!isObject(body)) throw bad('the body must be an object { delete?, update?, create? }');
  for (const k of Object.keys(body)) if (k !== 'delete' && k !== 'update' && k !== 'create') throw bad(`unknown member "${k}" (expected delete, update, create)`);
  const list = (k: string): unknown[] => {
    const v = body[k];
    if (v === undefined) return [];
    if (!Array.isArray(v)) throw bad(`"${k}" must be an array`);
    return v;
  };
  const del = list('delete');
  const upd = list('update');
  const cre = list('create');
  const rows = del.length + upd.length + cre.length;
  if (rows > maxRows) throw new BulkError(BULK_ERR.TOO_MANY_ROWS, `${rows} rows in one request; at most ${maxRows}`);
  const seen = (what: string) => {
    const ids = new Set<number>();
    return (id: unknown, i: number): number => {
      if (!isId(id)) throw bad(`${what}[${i}]: "${primary}" must be a positive integer`);
      if (ids.has(id)) throw bad(`${what}[${i}]: ${primary} ${id} appears twice`);
      ids.add(id);
      return id;
    };
  };
  const delId = seen('delete');
  const updId = seen('update');
  return {
    delete: del.map((id, i) => delId(id, i)),
    update: upd.map((item, i) => {
      if (!isObject(item)) throw bad(`update[${i}] must be an object`);
      const { [primary]: id, ...patch } = item;
      if (Object.keys(patch).length === 0) throw bad(`update[${i}]: no field to update`);
      return { id: updId(id, i), patch };
    }),
    create: cre.map((row, i) => {
      if (!isObject(row)) throw bad(`create[${i}] must be an object`);
      return row;
    }),
  };
}

function writable(info: CollectionOverview, name: string): FieldOverview | undefined {
  const f = Object.hasOwn(info.fields, name) ? info.fields[name] : undefined;
  if (!f || name === info.primary || f.alias || f.generated) return undefined;
  if (f.special?.some((s) => !PASSIVE_SPECIALS.has(s))) return undefined;
  return TYPES[f.type] ? f : undefined;
}

function convertRow(info: CollectionOverview, row: Row, where: string): Record<string, SqlValue> {
  const out: Record<string, SqlValue> = {};
  for (const [name, value] of Object.entries(row)) {
    const f = writable(info, name);
    if (!f) throw bad(`${where}: "${name}" is not a writable field of ${info.collection}`);
    if (value === undefined) continue; // not sent (a filter hook may leave one)
    if (value === null) {
      if (!f.nullable) throw bad(`${where}: "${name}" cannot be null`);
      out[name] = null;
      continue;
    }
    const converted = TYPES[f.type].convert(value);
    if (converted === undefined) throw bad(`${where}: "${name}" must be a${f.type === 'integer' ? 'n' : ''} ${f.type}, got ${JSON.stringify(value)?.slice(0, 60)}`);
    out[name] = converted;
  }
  return out;
}

/** A row to create, checked and converted; every non-nullable field without default present. */
export function checkCreate(info: CollectionOverview, row: Row, index: number): Record<string, SqlValue> {
  const out = convertRow(info, row, `create[${index}]`);
  for (const f of Object.values(info.fields)) {
    if (f.nullable || f.defaultValue !== null || !writable(info, f.field)) continue;
    if (!(f.field in out)) throw bad(`create[${index}]: "${f.field}" is required`);
  }
  return out;
}

/** A patch of an update, checked and converted. */
export function checkPatch(info: CollectionOverview, patch: Row, index: number): Record<string, SqlValue> {
  return convertRow(info, patch, `update[${index}]`);
}

/** Fields PayloadService would fill on this action, with the value to give them. */
function managed(info: CollectionOverview, action: 'create' | 'update', now: string, user: string | null): [FieldOverview, SqlValue][] {
  const rules: Record<string, 'now' | 'user'> = action === 'create' ? MANAGED_ON_CREATE : MANAGED_ON_UPDATE;
  const out: [FieldOverview, SqlValue][] = [];
  for (const f of Object.values(info.fields)) {
    const rule = f.special?.map((s) => rules[s]).find(Boolean);
    if (rule && TYPES[f.type]) out.push([f, rule === 'now' ? now : user]);
  }
  return out;
}

/** Rows grouped by their set of fields (in first-seen order), each with its indexes. */
function bySignature(rows: readonly Record<string, SqlValue>[]): { fields: string[]; indexes: number[] }[] {
  const groups = new Map<string, { fields: string[]; indexes: number[] }>();
  rows.forEach((row, i) => {
    const fields = Object.keys(row).sort();
    const sig = fields.join(',');
    let g = groups.get(sig);
    if (!g) groups.set(sig, (g = { fields, indexes: [] }));
    g.indexes.push(i);
  });
  return [...groups.values()];
}

const castOf = (f: FieldOverview) => (f.type === 'json' ? `::${f.dbType === 'jsonb' ? 'jsonb' : 'json'}` : '');

/**
 * INSERTs of the rows with their pre-allocated ids (from the collection's sequence, so each row's
 * id is known without relying on RETURNING order): one statement per field set.
 */
export function insertStatements(info: CollectionOverview, rows: readonly Record<string, SqlValue>[], ids: readonly number[], now: string, user: string | null): Statement[] {
  const pk = info.fields[info.primary];
  const extra = managed(info, 'create', now, user);
  return bySignature(rows).map(({ fields, indexes }) => {
    const cols = [info.primary, ...fields];
    const types = [TYPES[pk.type].pg, ...fields.map((f) => TYPES[info.fields[f].type].pg)];
    const select = [...cols.map((c) => `v.${quote(c)}${c === info.primary ? '' : castOf(info.fields[c])}`), ...extra.map(([f]) => `?::${TYPES[f.type].pg}`)];
    const sql = `INSERT INTO ${quote(info.collection)} (${[...cols, ...extra.map(([f]) => f.field)].map(quote).join(', ')}) SELECT ${select.join(', ')} FROM unnest(${types.map((t) => `?::${t}[]`).join(', ')}) AS v(${cols.map(quote).join(', ')})`;
    const arrays = [indexes.map((i) => ids[i]), ...fields.map((f) => indexes.map((i) => rows[i][f]))];
    return { sql, bindings: [...extra.map(([, v]) => v), ...arrays] };
  });
}

/** UPDATEs setting each row's own values: one statement per field set; RETURNING the ids found. */
export function updateStatements(info: CollectionOverview, updates: readonly { id: number; values: Record<string, SqlValue> }[], now: string, user: string | null): Statement[] {
  const pk = info.fields[info.primary];
  const extra = managed(info, 'update', now, user);
  return bySignature(updates.map((u) => u.values)).map(({ fields, indexes }) => {
    const set = [...fields.map((f) => `${quote(f)} = v.${quote(f)}${castOf(info.fields[f])}`), ...extra.map(([f]) => `${quote(f.field)} = ?::${TYPES[f.type].pg}`)];
    const types = [TYPES[pk.type].pg, ...fields.map((f) => TYPES[info.fields[f].type].pg)];
    const t = quote(info.collection);
    const id = quote(info.primary);
    const sql = `UPDATE ${t} SET ${set.join(', ')} FROM unnest(${types.map((x) => `?::${x}[]`).join(', ')}) AS v(${[info.primary, ...fields].map(quote).join(', ')}) WHERE ${t}.${id} = v.${id} RETURNING ${t}.${id}`;
    const arrays = [indexes.map((i) => updates[i].id), ...fields.map((f) => indexes.map((i) => updates[i].values[f]))];
    return { sql, bindings: [...extra.map(([, v]) => v), ...arrays] };
  });
}

export function deleteStatement(info: CollectionOverview, ids: readonly number[]): Statement {
  const id = quote(info.primary);
  return { sql: `DELETE FROM ${quote(info.collection)} WHERE ${id} = ANY(?::${TYPES[info.fields[info.primary].type].pg}[]) RETURNING ${id}`, bindings: [[...ids]] };
}

/** Ids for `count` new rows from the primary key's sequence. */
export function allocateIdsStatement(info: CollectionOverview, count: number): Statement {
  return { sql: 'SELECT nextval(pg_get_serial_sequence(?, ?)) AS id FROM generate_series(1, ?)', bindings: [quote(info.collection), info.primary, count] };
}

/** The ids asked for that the database did not return (updated or deleted rows not found). */
export function missing(asked: readonly number[], found: readonly unknown[]): number[] {
  const got = new Set(found.map(Number));
  return asked.filter((id) => !got.has(id));
}
