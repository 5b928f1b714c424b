/**
 * Postgres connection settings. With no user in the URL the client takes PGUSER, else the OS
 * user: CI's environment may lack USER, and pg would otherwise fall back to `undefined`.
 */
import os from 'node:os';
import pg from 'pg';

export function pgUser(env: Record<string, string | undefined>): string {
  if (env.PGUSER) return env.PGUSER;
  try {
    return os.userInfo().username;
  } catch {
    return 'postgres';
  }
}

export function pgConfig(databaseUrl: string, env: Record<string, string | undefined> = {}, extra: pg.PoolConfig = {}): pg.PoolConfig {
  const u = new URL(databaseUrl);
  const host = u.searchParams.get('host') ?? (decodeURIComponent(u.hostname) || '127.0.0.1');
  return {
    host,
    port: u.port ? Number(u.port) : 5432,
    database: decodeURIComponent(u.pathname.replace(/^\//, '')) || 'trm',
    user: u.username ? decodeURIComponent(u.username) : pgUser(env),
    password: u.password ? decodeURIComponent(u.password) : env.PGPASSWORD,
    application_name: extra.application_name ?? 'trm',
    ...extra,
  };
}

export function createPool(databaseUrl: string, env: Record<string, string | undefined> = {}, extra: pg.PoolConfig = {}): pg.Pool {
  return new pg.Pool(pgConfig(databaseUrl, env, extra));
}

/** The same URL pointing at another database on the same server. */
export function withDatabase(databaseUrl: string, database: string): string {
  const u = new URL(databaseUrl);
  u.pathname = `/${database}`;
  return u.toString();
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
