/**
 * Integration test set-up, once per `vitest run`: provisions Postgres (+PostGIS) and Redis the
 * same way `npm start` does, builds the template database the test files clone, and boots one
 * Directus 11 on its own fresh database and a free port, with the schema applied and the
 * access rules synchronised. Test files get the coordinates through `inject('trm')`.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { withDatabase } from '../common/src/pg.ts';
import { ensureTemplateDatabase } from '../common/src/testing/db.ts';
import { stateDir } from '../cli/src/paths.ts';
import { dropDatabase, ensurePostgis, ensurePostgres, ensureRedis } from '../cli/src/provision/services.ts';
import { bootDirectus, SERVICE_EMAIL, type BootedDirectus } from '../cli/src/stack/directus.ts';
import { freePort } from '../common/src/net.ts';

export interface TrmTestContext {
  databaseServerUrl: string;
  directusDatabaseUrl: string;
  redisUrl: string;
  /** key prefix of the TRM streams the Directus extensions of this run write to */
  directusRedisPrefix: string;
  directusUrl: string;
  directusSecret: string;
  adminEmail: string;
  adminPassword: string;
  adminToken: string;
  serviceToken: string;
  serviceEmail: string;
  roles: Record<string, string>;
}

declare module 'vitest' {
  export interface ProvidedContext {
    trm: TrmTestContext;
  }
}

/**
 * One stack per vitest process. The integration and faults projects both name this set-up, and
 * vitest calls it once per project: a second boot would drop the first one's database under its
 * running Directus (regression: every Directus call of the first project then answered 401
 * INVALID_CREDENTIALS in a full `npm test`). The first call boots; later calls share it; the
 * last teardown stops it.
 */
interface SharedStack {
  context: Promise<TrmTestContext>;
  users: number;
  /** the booted Directus, kept here because vitest may load this module once per project */
  directus?: BootedDirectus;
}
const shared = globalThis as typeof globalThis & { __trmTestStack?: SharedStack };

export async function setup(project: TestProject): Promise<void> {
  shared.__trmTestStack ??= { context: boot(), users: 0 };
  shared.__trmTestStack.users += 1;
  project.provide('trm', await shared.__trmTestStack.context);
}

async function boot(): Promise<TrmTestContext> {
  const env = process.env;
  const say = (line: string) => process.stderr.write(`[test setup] ${line}\n`);
  const serverUrl = env.TRM_TEST_DATABASE_URL ?? env.DATABASE_URL ?? 'postgres://127.0.0.1:5432/trm';
  const redisUrl = env.TRM_TEST_REDIS_URL ?? env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  await ensurePostgres(serverUrl, env, say);
  await ensurePostgis(serverUrl, env, say);
  await ensureRedis(redisUrl, say);
  await ensureTemplateDatabase(env);

  const directusDatabaseUrl = withDatabase(serverUrl, `trm_test_directus_${process.pid}`);
  await dropDatabase(directusDatabaseUrl, env);
  const secrets = { directusSecret: randomBytes(32).toString('base64url'), adminEmail: 'admin@example.com', adminPassword: `pw-${randomBytes(8).toString('hex')}`, serviceToken: randomBytes(24).toString('base64url') };
  const started = Date.now();
  const directusRedisPrefix = `t:dx${process.pid}:`;
  const directus = await bootDirectus({
    databaseUrl: directusDatabaseUrl,
    redisUrl,
    redisPrefix: directusRedisPrefix,
    port: await freePort(),
    secrets,
    mode: 'auto',
    provision: false,
    say,
    env,
    logFile: join(stateDir, 'logs', `directus-test-${process.pid}.log`),
    // short-lived tokens let the gateway tests see TOKEN_EXPIRED without waiting 15 minutes
    extraEnv: { ACCESS_TOKEN_TTL: env.TRM_TEST_ACCESS_TOKEN_TTL ?? '15m', REDIS_ENABLED: 'false' },
  });
  // a static admin token: the login token expires long before a full suite ends
  const adminToken = randomBytes(24).toString('base64url');
  await directus.admin.request('PATCH', '/users/me', { token: adminToken });
  shared.__trmTestStack!.directus = directus;
  say(`Directus ready on ${directus.url} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return {
    databaseServerUrl: serverUrl,
    directusDatabaseUrl,
    redisUrl,
    directusRedisPrefix,
    directusUrl: directus.url,
    directusSecret: secrets.directusSecret,
    adminEmail: secrets.adminEmail,
    adminPassword: secrets.adminPassword,
    adminToken,
    serviceToken: secrets.serviceToken,
    serviceEmail: SERVICE_EMAIL,
    roles: directus.access.roles,
  };
}

export async function teardown(): Promise<void> {
  const stack = shared.__trmTestStack;
  if (stack && --stack.users > 0) return;
  shared.__trmTestStack = undefined;
  const directus = stack?.directus;
  await directus?.stop();
  if (directus && !process.env.TRM_KEEP_TEST_DB) {
    const { directusDatabaseUrl } = { directusDatabaseUrl: withDatabase(process.env.TRM_TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://127.0.0.1:5432/trm', `trm_test_directus_${process.pid}`) };
    await dropDatabase(directusDatabaseUrl, process.env).catch(() => undefined);
  }
}
