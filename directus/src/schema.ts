/**
 * Schema as code: snapshots/schema.yaml is the source of truth for the business collections.
 * `applySnapshot` diffs it against the running Directus (POST /schema/diff) and then, by mode:
 * `auto` applies, `dry-run` only reports, `skip` does nothing. Whatever the mode, a diff that
 * would drop a collection or a field holding data (or change the type of a column holding
 * data) is refused unless allowDataLoss: the research reproduced `schema apply --yes` dropping
 * a table with its rows, and that must not happen by accident.
 */
import { readFile, writeFile } from 'node:fs/promises';
import type pg from 'pg';
import { parse, stringify } from 'yaml';
import { TrmError } from '../../common/src/errors.ts';
import { quoteIdent } from '../../common/src/pg.ts';
import type { Rest } from './rest.ts';

export type ApplyMode = 'auto' | 'dry-run' | 'skip';

export interface Snapshot {
  version: number;
  directus: string;
  vendor?: string;
  collections: { collection: string; meta?: unknown; schema?: unknown }[];
  fields: { collection: string; field: string; type?: string; meta?: unknown; schema?: unknown }[];
  systemFields?: unknown[];
  relations: { collection: string; field: string; related_collection: string | null; meta?: unknown; schema?: unknown }[];
}

interface DiffEntry {
  kind: 'N' | 'D' | 'E' | 'A';
  path?: (string | number)[];
  lhs?: unknown;
  rhs?: unknown;
}

export interface SchemaDiff {
  hash: string;
  diff: {
    collections: { collection: string; diff: DiffEntry[] }[];
    fields: { collection: string; field: string; diff: DiffEntry[] }[];
    systemFields?: { collection: string; field: string; diff: DiffEntry[] }[];
    relations: { collection: string; field: string; related_collection: string | null; diff: DiffEntry[] }[];
  };
}

export interface Change {
  kind: 'create' | 'delete' | 'update';
  target: 'collection' | 'field' | 'relation';
  name: string;
  /** rows that would be lost (collection / field deletions, column type changes) */
  rowsAtRisk?: number;
}

export interface ApplyReport {
  mode: ApplyMode;
  changes: Change[];
  applied: boolean;
  refused: Change[];
}

export async function readSnapshot(file: string): Promise<Snapshot> {
  return parse(await readFile(file, 'utf8')) as Snapshot;
}

/** The snapshot without `positions` when the server keeps it in a TimescaleDB hypertable
 *  (a two-column primary key Directus cannot register; see db-init/002_positions.sql). */
export function forLayout(snapshot: Snapshot, layout: string): Snapshot {
  if (layout !== 'timescale') return snapshot;
  return {
    ...snapshot,
    collections: snapshot.collections.filter((c) => c.collection !== 'positions'),
    fields: snapshot.fields.filter((f) => f.collection !== 'positions'),
    relations: snapshot.relations.filter((r) => r.collection !== 'positions'),
  };
}

export async function diffSnapshot(api: Rest, snapshot: Snapshot): Promise<SchemaDiff | undefined> {
  // 204 (no body) when nothing differs
  const result = await api.request<SchemaDiff | undefined>('POST', '/schema/diff', snapshot);
  return result && result.diff ? result : undefined;
}

function topLevel(diff: DiffEntry[]): 'create' | 'delete' | 'update' {
  const root = diff.find((d) => !d.path || d.path.length === 0);
  if (root?.kind === 'N') return 'create';
  if (root?.kind === 'D') return 'delete';
  return 'update';
}

function typeChanged(diff: DiffEntry[]): boolean {
  return diff.some((d) => d.kind === 'E' && d.path?.join('.') === 'schema.data_type') || diff.some((d) => d.kind === 'E' && d.path?.join('.') === 'type');
}

/** Lists the changes, counting the rows each destructive one would lose. */
export async function assessDiff(diff: SchemaDiff, db: pg.ClientBase | pg.Pool): Promise<Change[]> {
  const changes: Change[] = [];
  const count = async (sql: string): Promise<number> => {
    try {
      const { rows } = await db.query<{ n: string }>(sql);
      return Number(rows[0]?.n ?? 0);
    } catch (error) {
      if ((error as { code?: string }).code === '42P01' || (error as { code?: string }).code === '42703') return 0; // no such table/column: nothing to lose
      throw error;
    }
  };
  for (const c of diff.diff.collections) {
    const kind = topLevel(c.diff);
    const change: Change = { kind, target: 'collection', name: c.collection };
    if (kind === 'delete') change.rowsAtRisk = await count(`SELECT count(*) AS n FROM ${quoteIdent(c.collection)}`);
    changes.push(change);
  }
  for (const f of [...diff.diff.fields, ...(diff.diff.systemFields ?? [])]) {
    const kind = topLevel(f.diff);
    const change: Change = { kind, target: 'field', name: `${f.collection}.${f.field}` };
    if (kind === 'delete' || (kind === 'update' && typeChanged(f.diff))) {
      change.rowsAtRisk = await count(`SELECT count(*) AS n FROM ${quoteIdent(f.collection)} WHERE ${quoteIdent(f.field)} IS NOT NULL`);
    }
    changes.push(change);
  }
  for (const r of diff.diff.relations) changes.push({ kind: topLevel(r.diff), target: 'relation', name: `${r.collection}.${r.field} → ${r.related_collection ?? '?'}` });
  return changes;
}

export function describe(changes: Change[]): string {
  if (changes.length === 0) return 'No changes to apply.';
  return changes.map((c) => `  ${c.kind.padEnd(6)} ${c.target.padEnd(10)} ${c.name}${c.rowsAtRisk ? `  (${c.rowsAtRisk} rows hold data)` : ''}`).join('\n');
}

export async function applySnapshot(options: { api: Rest; db: pg.ClientBase | pg.Pool; snapshot: Snapshot; mode: ApplyMode; allowDataLoss?: boolean; say?: (line: string) => void }): Promise<ApplyReport> {
  const say = options.say ?? (() => {});
  if (options.mode === 'skip') return { mode: 'skip', changes: [], applied: false, refused: [] };
  let diff = await diffSnapshot(options.api, options.snapshot);
  if (diff && options.mode === 'auto' && (await adoptExistingTables(options.api, options.db, options.snapshot, diff, say))) {
    diff = await diffSnapshot(options.api, options.snapshot);
  }
  if (!diff) {
    say('schema: no changes to apply');
    return { mode: options.mode, changes: [], applied: false, refused: [] };
  }
  const changes = await assessDiff(diff, options.db);
  const refused = changes.filter((c) => (c.rowsAtRisk ?? 0) > 0);
  say(`schema: ${changes.length} change(s) between snapshots/schema.yaml and the database:\n${describe(changes)}`);
  if (refused.length > 0 && !options.allowDataLoss) {
    throw new TrmError('SCHEMA_ERR_DATA_LOSS', `refusing to apply the schema snapshot: it would destroy data in ${refused.map((c) => `${c.target} ${c.name} (${c.rowsAtRisk} rows)`).join(', ')}. Re-run with --allow-data-loss if that is really intended.`, { details: { refused } });
  }
  if (options.mode === 'dry-run') {
    say('schema: dry-run, nothing applied (DIRECTUS_SCHEMA_APPLY_MODE=auto applies)');
    return { mode: 'dry-run', changes, applied: false, refused };
  }
  await options.api.request('POST', '/schema/apply', diff);
  say('schema: applied');
  return { mode: 'auto', changes, applied: true, refused };
}

/**
 * Tables made by db-init (positions) exist before Directus knows them; a diff would try to
 * create them. Registering the existing table (PATCH /collections/<name> with the snapshot's
 * meta) lets the apply then add only the field metadata and relations.
 */
async function adoptExistingTables(api: Rest, db: pg.ClientBase | pg.Pool, snapshot: Snapshot, diff: SchemaDiff, say: (line: string) => void): Promise<boolean> {
  let adopted = false;
  for (const c of diff.diff.collections) {
    if (topLevel(c.diff) !== 'create') continue;
    const { rows } = await db.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [`public.${quoteIdent(c.collection)}`]);
    if (!rows[0]?.t) continue;
    const meta = snapshot.collections.find((x) => x.collection === c.collection)?.meta;
    say(`schema: registering the existing table ${c.collection}`);
    await api.request('PATCH', `/collections/${c.collection}`, { meta });
    // its columns exist too: give them their metadata instead of letting the apply add them
    for (const f of snapshot.fields.filter((x) => x.collection === c.collection && x.meta)) {
      await api.request('PATCH', `/fields/${c.collection}/${f.field}`, { meta: f.meta });
    }
    adopted = true;
  }
  return adopted;
}

export async function writeSnapshot(api: Rest, file: string): Promise<void> {
  const snapshot = await api.request<Snapshot>('GET', '/schema/snapshot');
  await writeFile(file, stringify(snapshot));
}
