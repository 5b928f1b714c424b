/**
 * Idempotent provisioning of the backing services, shared by `npm start` and `npm test`:
 * use PostgreSQL and Redis when they answer; otherwise, when root on Debian, install and start
 * them from Debian's packages; otherwise stop with a message naming exactly what is missing.
 * PostGIS the same way. The `trm` database is created when absent.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { TrmError } from '../../../common/src/errors.ts';
import { pgConfig, quoteIdent, withDatabase } from '../../../common/src/pg.ts';
import { stateDir } from '../paths.ts';
import { aptInstall, canInstallDebianPackages, commandExists, probeTcp, run, waitFor, type Say } from './system.ts';

function hostPort(url: string, defaultPort: number): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname || '127.0.0.1', port: u.port ? Number(u.port) : defaultPort };
}

function missing(what: string, how: string): TrmError {
  return new TrmError('PROVISION_ERR_MISSING', `${what}\n  ${how}`);
}

async function pgQuery<T extends pg.QueryResultRow>(databaseUrl: string, env: NodeJS.ProcessEnv, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client(pgConfig(databaseUrl, env, { connectionTimeoutMillis: 5000 }));
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

async function canLogIn(databaseUrl: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  try {
    await pgQuery(withDatabase(databaseUrl, 'postgres'), env, 'SELECT 1');
    return true;
  } catch {
    return false;
  }
}

function clusterVersions(): string[] {
  return existsSync('/etc/postgresql') ? readdirSync('/etc/postgresql').filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
}

export async function ensurePostgres(databaseUrl: string, env: NodeJS.ProcessEnv, say: Say): Promise<void> {
  const { host, port } = hostPort(databaseUrl, 5432);
  if (await probeTcp(host, port)) {
    if (!(await canLogIn(databaseUrl, env))) {
      const user = pgConfig(databaseUrl, env).user;
      throw missing(`PostgreSQL answers on ${host}:${port} but does not let user "${user}" in.`, 'Set DATABASE_URL (or PGUSER/PGPASSWORD) to a role that can create databases.');
    }
    return;
  }
  const local = host === '127.0.0.1' || host === 'localhost';
  if (!local || !canInstallDebianPackages()) {
    throw missing(`PostgreSQL is not answering on ${host}:${port}.`, local ? 'Install PostgreSQL 15+ with PostGIS 3 and start it (on Debian, as root: apt-get install postgresql postgresql-15-postgis-3), or point DATABASE_URL at a running server.' : 'Start that server or change DATABASE_URL.');
  }
  let installedHere = false;
  if (clusterVersions().length === 0) {
    say('PostgreSQL is not installed: installing it from Debian packages');
    await aptInstall(['postgresql'], say);
    installedHere = true;
  }
  const version = clusterVersions()[0];
  if (!version) throw missing('PostgreSQL was installed but no cluster exists.', 'Create one with pg_createcluster and start it.');
  if (installedHere) {
    // A cluster this command installed is a developer's local one: let local TCP clients in
    // without a password, as the machines TRM is developed on do.
    const hba = `/etc/postgresql/${version}/main/pg_hba.conf`;
    const text = readFileSync(hba, 'utf8');
    if (!text.includes('# trm: local trust')) writeFileSync(hba, `# trm: local trust\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\nlocal all all trust\n${text}`);
  }
  say(`starting PostgreSQL ${version}`);
  await run('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start'], { quiet: true }).catch((error: Error) => {
    if (!/already running/i.test(error.message)) throw error;
  });
  await waitFor('PostgreSQL', () => probeTcp(host, port), 30_000);
  const user = pgConfig(databaseUrl, env).user!;
  if (!(await canLogIn(databaseUrl, env))) {
    say(`creating PostgreSQL role "${user}"`);
    await run('runuser', ['-u', 'postgres', '--', 'psql', '-v', 'ON_ERROR_STOP=1', '-c', `CREATE ROLE ${quoteIdent(user)} SUPERUSER LOGIN`], { quiet: true });
  }
}

/** PostGIS must be installable in the server; installs the Debian package when it is not. */
export async function ensurePostgis(databaseUrl: string, env: NodeJS.ProcessEnv, say: Say): Promise<void> {
  const adminUrl = withDatabase(databaseUrl, 'postgres');
  const has = async () => (await pgQuery(adminUrl, env, "SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")).length > 0;
  if (await has()) return;
  const [{ server_version_num: num }] = await pgQuery<{ server_version_num: string }>(adminUrl, env, 'SHOW server_version_num');
  const major = Math.floor(Number(num) / 10000);
  const pkg = `postgresql-${major}-postgis-3`;
  const { host } = hostPort(databaseUrl, 5432);
  if (!(host === '127.0.0.1' || host === 'localhost') || !canInstallDebianPackages()) {
    throw missing(`PostGIS is not installed on the PostgreSQL ${major} server at ${host}.`, `Install it (on Debian: apt-get install ${pkg}) and run this again.`);
  }
  say(`PostGIS is missing: installing ${pkg}`);
  await aptInstall([pkg], say);
  if (!(await has())) throw missing(`${pkg} was installed but PostGIS is still not available to the server.`, 'Check that the package matches the running server version.');
}

export async function ensureDatabase(databaseUrl: string, env: NodeJS.ProcessEnv, say: Say, options: { template?: string } = {}): Promise<boolean> {
  const name = pgConfig(databaseUrl, env).database!;
  const adminUrl = withDatabase(databaseUrl, 'postgres');
  const rows = await pgQuery(adminUrl, env, 'SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  if (rows.length > 0) return false;
  say(`creating database ${name}`);
  await pgQuery(adminUrl, env, `CREATE DATABASE ${quoteIdent(name)}${options.template ? ` TEMPLATE ${quoteIdent(options.template)}` : ''}`).catch((error: { code?: string }) => {
    if (error.code !== '42P04') throw error; // created meanwhile by another process
  });
  return true;
}

export async function dropDatabase(databaseUrl: string, env: NodeJS.ProcessEnv): Promise<void> {
  const name = pgConfig(databaseUrl, env).database!;
  await pgQuery(withDatabase(databaseUrl, 'postgres'), env, `DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
}

export async function ensureRedis(redisUrl: string, say: Say): Promise<void> {
  const { host, port } = hostPort(redisUrl, 6379);
  if (await probeTcp(host, port)) return;
  const local = host === '127.0.0.1' || host === 'localhost';
  if (!local) throw missing(`Redis is not answering on ${host}:${port}.`, 'Start it or change REDIS_URL.');
  if (!commandExists('redis-server')) {
    if (!canInstallDebianPackages()) throw missing(`Redis is not answering on ${host}:${port} and redis-server is not installed.`, 'Install Redis 7 (on Debian, as root: apt-get install redis-server) or point REDIS_URL at a running server.');
    say('Redis is not installed: installing redis-server from Debian packages');
    await aptInstall(['redis-server'], say);
  }
  const dir = join(stateDir, 'redis');
  mkdirSync(dir, { recursive: true });
  say(`starting redis-server on ${host}:${port} (AOF in ${dir})`);
  await run('redis-server', ['--daemonize', 'yes', '--bind', host, '--port', String(port), '--dir', dir, '--appendonly', 'yes', '--save', '', '--logfile', join(dir, 'redis.log')], { quiet: true });
  await waitFor('Redis', () => probeTcp(host, port), 15_000);
}

export function osUser(): string {
  return os.userInfo().username;
}
