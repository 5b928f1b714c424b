/**
 * db-init runner: applies db-init/NNN_*.sql in order, each in its own transaction, and records
 * name + sha256 checksum in migrations_applied. A file already applied whose checksum changed
 * stops the run (DBINIT_ERR_CHECKSUM): an applied migration is history, fix forward with a new
 * file. A session advisory lock serialises concurrent runs (several services booting at once).
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import { TrmError } from '../../../common/src/errors.ts';

export interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrationReport {
  applied: string[];
  skipped: string[];
}

const FILE_PATTERN = /^(\d{3})_[a-z0-9_]+\.sql$/;
// pg_advisory_lock key: "trm-db-init" folded into a bigint
const LOCK_KEY = 0x74726d_64626900n;

export async function readMigrations(dir: string): Promise<MigrationFile[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.sql')).sort();
  const files: MigrationFile[] = [];
  const seen = new Set<string>();
  for (const name of names) {
    const m = FILE_PATTERN.exec(name);
    if (!m) throw new TrmError('DBINIT_ERR_BAD_NAME', `db-init file "${name}" must be named NNN_lower_snake.sql`);
    if (seen.has(m[1])) throw new TrmError('DBINIT_ERR_DUPLICATE_NUMBER', `two db-init files share the number ${m[1]}`);
    seen.add(m[1]);
    const sql = await readFile(join(dir, name), 'utf8');
    files.push({ name, sql, checksum: createHash('sha256').update(sql).digest('hex') });
  }
  return files;
}

export async function migrate(client: pg.ClientBase, files: MigrationFile[], log: (line: string) => void = () => {}): Promise<MigrationReport> {
  await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY.toString()]);
  try {
    await client.query(`CREATE TABLE IF NOT EXISTS migrations_applied (
      name       text PRIMARY KEY,
      checksum   text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const { rows } = await client.query<{ name: string; checksum: string }>('SELECT name, checksum FROM migrations_applied');
    const applied = new Map(rows.map((r) => [r.name, r.checksum]));
    // Check every applied file before applying anything new: a tampered history stops the run.
    for (const file of files) {
      const previous = applied.get(file.name);
      if (previous !== undefined && previous !== file.checksum) {
        throw new TrmError('DBINIT_ERR_CHECKSUM', `db-init/${file.name} was changed after it was applied (recorded sha256 ${previous.slice(0, 12)}…, file now ${file.checksum.slice(0, 12)}…); restore it and add a new numbered file instead`, { details: { file: file.name } });
      }
    }
    const report: MigrationReport = { applied: [], skipped: [] };
    for (const file of files) {
      if (applied.has(file.name)) {
        report.skipped.push(file.name);
        continue;
      }
      log(`applying db-init/${file.name}`);
      try {
        await client.query('BEGIN');
        await client.query(file.sql);
        await client.query('INSERT INTO migrations_applied (name, checksum) VALUES ($1, $2)', [file.name, file.checksum]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw new TrmError('DBINIT_ERR_FAILED', `db-init/${file.name} failed: ${(error as Error).message}`, { cause: error, details: { file: file.name } });
      }
      report.applied.push(file.name);
    }
    return report;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY.toString()]).catch(() => {});
  }
}
