/**
 * A Directus of one fault test's own (its own database on the shared Postgres server, its own
 * port and TRM key prefix), so the test may stop and restart it without touching the Directus
 * every other test file of the run shares. Booted with the same pipeline as `trm up`
 * (cli/src/stack/directus.ts): db-init, bootstrap, start, schema, access rules.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { withDatabase } from '../../common/src/pg.ts';
import { serverUrl } from '../../common/src/testing/db.ts';
import { testRedisUrl } from '../../common/src/testing/redis.ts';
import { dropDatabase } from '../../cli/src/provision/services.ts';
import { stateDir } from '../../cli/src/paths.ts';
import { bootDirectus, type BootedDirectus } from '../../cli/src/stack/directus.ts';
import { start, type RunningDirectus } from '../../directus/src/process.ts';
import { login, rest, type Rest } from '../../directus/src/rest.ts';
import { freePort } from './support.ts';

export interface OwnDirectus {
  url: string;
  databaseUrl: string;
  redisUrl: string;
  redisPrefix: string;
  secret: string;
  serviceToken: string;
  admin: Rest;
  roles: Record<string, string>;
  /** SIGTERM and wait */
  stop(): Promise<void>;
  /** start again on the same port and database (schema and access are already there) */
  restart(): Promise<void>;
  destroy(): Promise<void>;
  createUser(role: string, organization: string | null, label?: string): Promise<{ id: string; accessToken: string; api: Rest }>;
}

export async function bootOwnDirectus(label: string): Promise<OwnDirectus> {
  const env = process.env;
  const databaseUrl = withDatabase(serverUrl(env), `trm_t_${label}_${randomBytes(4).toString('hex')}`);
  const redisUrl = testRedisUrl(env);
  const redisPrefix = `t:${label}:${randomBytes(4).toString('hex')}:`;
  const secrets = { directusSecret: randomBytes(32).toString('base64url'), adminEmail: 'admin@example.com', adminPassword: `pw-${randomBytes(8).toString('hex')}`, serviceToken: randomBytes(24).toString('base64url') };
  const port = await freePort();
  const logFile = join(stateDir, 'logs', `directus-faults-${label}-${process.pid}.log`);
  const extraEnv = { REDIS_ENABLED: 'false' };
  const booted: BootedDirectus = await bootDirectus({ databaseUrl, redisUrl, redisPrefix, port, secrets, mode: 'auto', provision: false, say: () => {}, env, logFile, extraEnv });
  const adminToken = randomBytes(24).toString('base64url');
  await booted.admin.request('PATCH', '/users/me', { token: adminToken });
  let running: RunningDirectus | null = booted.running;
  const url = booted.url;
  return {
    url,
    databaseUrl,
    redisUrl,
    redisPrefix,
    secret: secrets.directusSecret,
    serviceToken: secrets.serviceToken,
    admin: rest(url, adminToken),
    roles: booted.access.roles,
    async stop() {
      await running?.stop();
      running = null;
    },
    async restart() {
      running = await start({ databaseUrl, port, secret: secrets.directusSecret, adminEmail: secrets.adminEmail, adminPassword: secrets.adminPassword, redisUrl, redisPrefix, logFile, extraEnv, env });
    },
    async destroy() {
      await running?.stop();
      running = null;
      await dropDatabase(databaseUrl, env).catch(() => undefined);
    },
    async createUser(role, organization, userLabel = 'user') {
      const email = `${userLabel}-${randomBytes(4).toString('hex')}@example.com`;
      const password = `pw-${randomBytes(8).toString('hex')}`;
      const roleId = booted.access.roles[role];
      if (!roleId) throw new Error(`unknown role ${role}`);
      const user = await rest(url, adminToken).request<{ id: string }>('POST', '/users', { email, password, role: roleId, organization, status: 'active' });
      const tokens = await login(url, email, password);
      return { id: user.id, accessToken: tokens.accessToken, api: rest(url, tokens.accessToken) };
    },
  };
}
