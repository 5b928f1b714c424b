/**
 * Configuration of the stack on this machine, shared by `up`, `directus`, `db:init`,
 * `schema:*` and the test set-up. Secrets come from the environment when given, otherwise they
 * are generated once into .trm/secrets.json (mode 600, git-ignored) so they never reach git.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaults, loadConfig, oneOf, optionalStr, str, url } from '../../common/src/config.ts';
import { stateDir } from './paths.ts';

export interface Secrets {
  directusSecret: string;
  adminEmail: string;
  adminPassword: string;
  serviceToken: string;
}

export function loadSecrets(env: NodeJS.ProcessEnv, file = join(stateDir, 'secrets.json')): Secrets {
  let stored: Partial<Secrets> = {};
  if (existsSync(file)) stored = JSON.parse(readFileSync(file, 'utf8')) as Partial<Secrets>;
  const secrets: Secrets = {
    directusSecret: env.DIRECTUS_SECRET || stored.directusSecret || randomBytes(32).toString('base64url'),
    adminEmail: env.DIRECTUS_ADMIN_EMAIL || stored.adminEmail || 'admin@example.com',
    adminPassword: env.DIRECTUS_ADMIN_PASSWORD || stored.adminPassword || `trm-${randomBytes(9).toString('base64url')}`,
    serviceToken: env.DIRECTUS_TOKEN || stored.serviceToken || randomBytes(24).toString('base64url'),
  };
  if (JSON.stringify(stored) !== JSON.stringify(secrets)) {
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  }
  return secrets;
}

const spec = {
  databaseUrl: url('DATABASE_URL', defaults.databaseUrl),
  redisUrl: url('REDIS_URL', defaults.redisUrl),
  directusUrl: url('DIRECTUS_URL', defaults.directusUrl),
  schemaApplyMode: oneOf('DIRECTUS_SCHEMA_APPLY_MODE', ['auto', 'dry-run', 'skip'] as const, 'dry-run'),
  logLevel: str('LOG_LEVEL', 'info'),
  publicUrl: optionalStr('DIRECTUS_PUBLIC_URL'),
};

export type StackConfig = ReturnType<typeof loadStackConfig>;

export function loadStackConfig(env: NodeJS.ProcessEnv) {
  const config = loadConfig(spec, env);
  const directusPort = Number(new URL(config.directusUrl).port || 8055);
  return { ...config, directusPort };
}
