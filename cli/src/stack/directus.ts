/**
 * The Directus boot pipeline: db:init → bootstrap → start → schema apply → access sync.
 * Directus has to run for the REST schema diff/apply (the CLI apply would leave a running
 * server's schema cache stale), so "ready" is announced only after the schema and the access
 * rules are in place.
 */
import { join } from 'node:path';
import pg from 'pg';
import { pgConfig } from '../../../common/src/pg.ts';
import { syncAccess, type AccessIds } from '../../../directus/src/access.ts';
import { bootstrap, ensureInstalled, start, type RunningDirectus } from '../../../directus/src/process.ts';
import { login, rest, type Rest } from '../../../directus/src/rest.ts';
import { applySnapshot, forLayout, readSnapshot, type ApplyMode, type ApplyReport } from '../../../directus/src/schema.ts';
import { dbInit } from '../commands/db-init.ts';
import { repoRoot, stateDir } from '../paths.ts';
import type { Secrets } from '../stack-config.ts';

export const SERVICE_EMAIL = 'service@example.com';

export interface BootOptions {
  databaseUrl: string;
  redisUrl?: string;
  redisPrefix?: string;
  port: number;
  secrets: Secrets;
  mode: ApplyMode;
  allowDataLoss?: boolean;
  provision?: boolean;
  say: (line: string) => void;
  logFile?: string;
  extraEnv?: Record<string, string>;
  env: NodeJS.ProcessEnv;
}

export interface BootedDirectus {
  running: RunningDirectus;
  url: string;
  admin: Rest;
  schema: ApplyReport;
  access: AccessIds;
  stop(): Promise<void>;
}

export async function snapshotPath(): Promise<string> {
  return join(repoRoot, 'snapshots', 'schema.yaml');
}

export async function withDb<T>(databaseUrl: string, env: NodeJS.ProcessEnv, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(pgConfig(databaseUrl, env, { application_name: 'trm schema' }));
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function applySchema(admin: Rest, o: Pick<BootOptions, 'databaseUrl' | 'mode' | 'allowDataLoss' | 'say' | 'env'>): Promise<ApplyReport> {
  return withDb(o.databaseUrl, o.env, async (db) => {
    const { rows } = await db.query<{ layout: string }>('SELECT trm_positions_layout() AS layout');
    const snapshot = forLayout(await readSnapshot(await snapshotPath()), rows[0].layout);
    return applySnapshot({ api: admin, db, snapshot, mode: o.mode, allowDataLoss: o.allowDataLoss, say: o.say });
  });
}

export async function bootDirectus(o: BootOptions): Promise<BootedDirectus> {
  await ensureInstalled(o.say);
  await dbInit(o.databaseUrl, o.env, o.say, { provision: o.provision });
  const directusOptions = {
    databaseUrl: o.databaseUrl,
    port: o.port,
    secret: o.secrets.directusSecret,
    adminEmail: o.secrets.adminEmail,
    adminPassword: o.secrets.adminPassword,
    redisUrl: o.redisUrl,
    redisPrefix: o.redisPrefix,
    logFile: o.logFile ?? join(stateDir, 'logs', 'directus.log'),
    extraEnv: o.extraEnv,
    env: o.env,
  };
  o.say('directus: bootstrap');
  await bootstrap(directusOptions);
  o.say('directus: starting');
  const running = await start(directusOptions);
  try {
    const { accessToken } = await login(running.url, o.secrets.adminEmail, o.secrets.adminPassword);
    const admin = rest(running.url, accessToken);
    const schema = await applySchema(admin, o);
    if (schema.applied) await admin.request('POST', '/utils/cache/clear?system=true').catch(() => undefined);
    const pendingCollections = schema.changes.some((c) => c.target === 'collection' && c.kind === 'create') && !schema.applied;
    let access: AccessIds = { roles: {}, policies: {}, serviceUserId: '' };
    if (pendingCollections) o.say('directus: WARNING the schema is not applied (dry-run), so roles and permissions were not synchronised; run with DIRECTUS_SCHEMA_APPLY_MODE=auto');
    else access = await syncAccess(admin, { serviceEmail: SERVICE_EMAIL, serviceToken: o.secrets.serviceToken });
    return { running, url: running.url, admin, schema, access, stop: () => running.stop() };
  } catch (error) {
    await running.stop();
    throw error;
  }
}
