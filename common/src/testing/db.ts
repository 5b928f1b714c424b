/**
 * Test databases: each integration test file works in its own database, cloned from a
 * template that has db-init applied (CREATE DATABASE … TEMPLATE takes ~0.2 s). The template is
 * built once per run by tests/global-setup.ts; when a file runs without it (a single file from
 * an editor), the template is built on first use.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { pgConfig, quoteIdent, withDatabase } from '../pg.ts';

export const TEMPLATE_DATABASE = 'trm_test_template';
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

export function serverUrl(env: NodeJS.ProcessEnv = process.env): string {
  return env.TRM_TEST_DATABASE_URL ?? env.DATABASE_URL ?? 'postgres://127.0.0.1:5432/trm';
}

async function adminQuery(env: NodeJS.ProcessEnv, sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client(pgConfig(withDatabase(serverUrl(env), 'postgres'), env));
  await client.connect();
  try {
    return await client.query(sql, params);
  } finally {
    await client.end();
  }
}

/** Builds (or rebuilds, when `fresh`) the template database with db-init applied. */
export async function ensureTemplateDatabase(env: NodeJS.ProcessEnv = process.env, options: { fresh?: boolean } = {}): Promise<string> {
  const url = withDatabase(serverUrl(env), TEMPLATE_DATABASE);
  const exists = (await adminQuery(env, 'SELECT 1 FROM pg_database WHERE datname = $1', [TEMPLATE_DATABASE])).rowCount! > 0;
  if (exists && !options.fresh && (await templateIsCurrent(url, env))) return url;
  if (exists) await adminQuery(env, `DROP DATABASE ${quoteIdent(TEMPLATE_DATABASE)} WITH (FORCE)`);
  const { dbInit } = (await import(join(repoRoot, 'cli/src/commands/db-init.ts'))) as typeof import('../../../cli/src/commands/db-init.ts');
  await dbInit(url, env, () => {}, { provision: false });
  return url;
}

/** true when the template has exactly the db-init files of the working tree applied */
async function templateIsCurrent(url: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  const { readMigrations } = (await import(join(repoRoot, 'cli/src/db/migrate.ts'))) as typeof import('../../../cli/src/db/migrate.ts');
  const files = await readMigrations(join(repoRoot, 'db-init'));
  const client = new pg.Client(pgConfig(url, env));
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string; checksum: string }>('SELECT name, checksum FROM migrations_applied ORDER BY name');
    return rows.length === files.length && rows.every((r, i) => r.name === files[i].name && r.checksum === files[i].checksum);
  } catch {
    return false;
  } finally {
    await client.end();
  }
}

export interface TestDatabase {
  name: string;
  url: string;
  pool: pg.Pool;
  drop(): Promise<void>;
}

/** A fresh database with db-init applied, for one test file. */
export async function createTestDatabase(label = 'db', env: NodeJS.ProcessEnv = process.env): Promise<TestDatabase> {
  await ensureTemplateDatabase(env);
  const name = `trm_t_${label.replace(/[^a-z0-9]/gi, '').toLowerCase().slice(0, 20)}_${randomBytes(4).toString('hex')}`;
  // A template must have no other connections while it is copied; retry briefly if one lingers.
  for (let attempt = 0; ; attempt++) {
    try {
      await adminQuery(env, `CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(TEMPLATE_DATABASE)}`);
      break;
    } catch (error) {
      if (attempt >= 20 || (error as { code?: string }).code !== '55006') throw error;
      await new Promise((r) => setTimeout(r, 100 + attempt * 50));
    }
  }
  const url = withDatabase(serverUrl(env), name);
  const pool = new pg.Pool(pgConfig(url, env, { max: 4 }));
  let dropped: Promise<void> | undefined;
  return {
    name,
    url,
    pool,
    drop() {
      dropped ??= pool.end().then(() => adminQuery(env, `DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`)).then(() => undefined);
      return dropped;
    },
  };
}
