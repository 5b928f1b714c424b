import { join } from 'node:path';
import pg from 'pg';
import { pgConfig } from '../../../common/src/pg.ts';
import type { Command } from '../command.ts';
import { migrate, readMigrations } from '../db/migrate.ts';
import { repoRoot } from '../paths.ts';
import { ensureDatabase, ensurePostgis, ensurePostgres } from '../provision/services.ts';
import { loadStackConfig } from '../stack-config.ts';

/** Applies db-init/*.sql to DATABASE_URL (creating the database first when absent). */
export async function dbInit(databaseUrl: string, env: NodeJS.ProcessEnv, say: (line: string) => void, options: { provision?: boolean } = {}) {
  if (options.provision !== false) {
    await ensurePostgres(databaseUrl, env, say);
    await ensurePostgis(databaseUrl, env, say);
  }
  await ensureDatabase(databaseUrl, env, say);
  const client = new pg.Client(pgConfig(databaseUrl, env, { application_name: 'trm db:init' }));
  await client.connect();
  try {
    return await migrate(client, await readMigrations(join(repoRoot, 'db-init')), say);
  } finally {
    await client.end();
  }
}

export const command: Command = {
  name: 'db:init',
  summary: 'apply db-init/NNN_*.sql in order, once each, guarded by migrations_applied',
  usage: 'db:init [--no-provision]',
  options: { 'no-provision': { type: 'boolean' } },
  help: `Creates the database of DATABASE_URL when absent, then applies every db-init/NNN_*.sql not yet
applied, each in its own transaction, recording its name and sha256 in migrations_applied.
An applied file whose checksum changed stops the run (DBINIT_ERR_CHECKSUM). Running it twice is
a no-op. Unless --no-provision, PostgreSQL and PostGIS are provisioned first (see README).`,
  async run(args, env) {
    const config = loadStackConfig(env);
    const say = (line: string) => process.stderr.write(`db:init: ${line}\n`);
    const report = await dbInit(config.databaseUrl, env, say, { provision: !args.values['no-provision'] });
    process.stdout.write(`db:init: ${report.applied.length} applied${report.applied.length ? ` (${report.applied.join(', ')})` : ''}, ${report.skipped.length} already applied\n`);
    return 0;
  },
};
