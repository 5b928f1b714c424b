/**
 * Running Directus 11.17.4 from directus/node_modules: install (its own package, installed once
 * with the isolated-vm override and --ignore-scripts), bootstrap, start, wait for /server/ping,
 * stop. Configuration goes through the process env with CONFIG_PATH pointing at a file that
 * does not exist: a stray directus/.env would otherwise win over the env (research, gotcha 5).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TrmError } from '../../common/src/errors.ts';
import { pgConfig } from '../../common/src/pg.ts';
import { ping } from './rest.ts';

export const DIRECTUS_VERSION = '11.17.4';
export const directusDir = dirname(dirname(fileURLToPath(import.meta.url)));
const runJs = join(directusDir, 'node_modules', '@directus', 'api', 'dist', 'cli', 'run.js');

export interface DirectusOptions {
  databaseUrl: string;
  /** port Directus listens on */
  port: number;
  host?: string;
  publicUrl?: string;
  secret: string;
  adminEmail: string;
  adminPassword: string;
  /** Redis of the TRM streams and queues, for the extensions' hooks (not Directus's cache) */
  redisUrl?: string;
  /** key prefix of the TRM streams (tests namespace a whole run with it) */
  redisPrefix?: string;
  logFile?: string;
  /** extra env (ACCESS_TOKEN_TTL for tests, …) */
  extraEnv?: Record<string, string>;
  env?: NodeJS.ProcessEnv;
}

export function installedVersion(): string | undefined {
  const file = join(directusDir, 'node_modules', 'directus', 'package.json');
  if (!existsSync(file)) return undefined;
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

/** Installs directus/ (npm ci --ignore-scripts under Node 24) when absent or of another version. */
export async function ensureInstalled(say: (line: string) => void): Promise<void> {
  if (installedVersion() === DIRECTUS_VERSION && existsSync(runJs)) return;
  say(`installing Directus ${DIRECTUS_VERSION} into directus/node_modules (about 1–2 minutes, once)`);
  const nodeBin = dirname(process.execPath);
  const env = { ...process.env, PATH: `${nodeBin}:${process.env.PATH ?? ''}`, npm_config_nodedir: join(dirname(nodeBin)) };
  const args = existsSync(join(directusDir, 'package-lock.json')) ? ['ci'] : ['install'];
  await new Promise<void>((resolve, reject) => {
    const child = spawn('npm', [...args, '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: directusDir, env, stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new TrmError('DIRECTUS_ERR_INSTALL', `npm ${args[0]} in directus/ exited with ${code}`))));
  });
  if (installedVersion() !== DIRECTUS_VERSION) throw new TrmError('DIRECTUS_ERR_INSTALL', `directus/node_modules holds Directus ${installedVersion()}, expected ${DIRECTUS_VERSION}`);
}

export function directusEnv(o: DirectusOptions): NodeJS.ProcessEnv {
  const db = pgConfig(o.databaseUrl, o.env ?? process.env);
  const host = o.host ?? '127.0.0.1';
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    CONFIG_PATH: join(directusDir, '.env.does-not-exist'),
    HOST: host,
    PORT: String(o.port),
    PUBLIC_URL: o.publicUrl ?? `http://${host}:${o.port}`,
    DB_CLIENT: 'pg',
    DB_HOST: String(db.host),
    DB_PORT: String(db.port ?? 5432),
    DB_DATABASE: String(db.database),
    DB_USER: String(db.user),
    ...(db.password ? { DB_PASSWORD: String(db.password) } : {}),
    SECRET: o.secret,
    ADMIN_EMAIL: o.adminEmail,
    ADMIN_PASSWORD: o.adminPassword,
    WEBSOCKETS_ENABLED: 'true',
    WEBSOCKETS_HEARTBEAT_ENABLED: 'true',
    // the live map page is served by the live gateway (another origin) and reads Directus REST
    CORS_ENABLED: 'true',
    CORS_ORIGIN: 'true',
    // anonymous viewers of a public event get result pushes too (public policy applies)
    WEBSOCKETS_REST_AUTH: 'public',
    TELEMETRY: 'false',
    PROJECT_OWNER_ENABLED: 'false',
    IMPORT_IP_DENY_LIST: '169.254.169.254',
    EXTENSIONS_PATH: join(directusDir, 'extensions'),
    STORAGE_LOCAL_ROOT: join(directusDir, 'uploads'),
    LOG_LEVEL: 'warn',
    LOG_STYLE: 'raw',
    CACHE_ENABLED: 'false',
    // the business plane is small; the telemetry tables are not Directus's to introspect deeply
    DB_EXCLUDE_TABLES: 'spatial_ref_sys,migrations_applied',
    MAX_BATCH_MUTATION: '5000',
    QUERY_LIMIT_MAX: '-1',
    TRM_REDIS_URL: o.redisUrl ?? 'redis://127.0.0.1:6379',
    TRM_REDIS_PREFIX: o.redisPrefix ?? '',
    ...(o.extraEnv ?? {}),
  };
  mkdirSync(env.STORAGE_LOCAL_ROOT!, { recursive: true });
  return env;
}

function cli(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [runJs, ...args], { cwd: directusDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(out) : reject(new TrmError('DIRECTUS_ERR_CLI', `directus ${args.join(' ')} exited with ${code}: ${out.slice(-1500)}`))));
  });
}

/** Installs Directus's system tables and the first admin; a no-op on an initialised database. */
export async function bootstrap(o: DirectusOptions): Promise<void> {
  await cli(['bootstrap'], directusEnv(o));
}

export interface RunningDirectus {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export async function start(o: DirectusOptions, timeoutMs = 90_000): Promise<RunningDirectus> {
  const env = directusEnv(o);
  const url = `http://${env.HOST}:${o.port}`;
  if (await ping(url)) throw new TrmError('DIRECTUS_ERR_PORT_BUSY', `something already answers Directus pings on ${url}; stop it or choose another port`);
  const child = spawn(process.execPath, [runJs, 'start'], { cwd: directusDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  const log = o.logFile ? (mkdirSync(dirname(o.logFile), { recursive: true }), createWriteStream(o.logFile, { flags: 'a' })) : undefined;
  const onData = (c: Buffer) => {
    tail = (tail + c.toString()).slice(-4000);
    log?.write(c);
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  let exited = false;
  child.once('exit', () => {
    exited = true;
    log?.end();
  });
  const deadline = Date.now() + timeoutMs;
  while (!(await ping(url))) {
    if (exited) throw new TrmError('DIRECTUS_ERR_START', `Directus exited during start-up: ${tail}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new TrmError('DIRECTUS_ERR_START', `Directus did not answer /server/ping within ${timeoutMs / 1000} s: ${tail}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  let stopping: Promise<void> | undefined;
  return {
    url,
    child,
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        if (exited) return resolve();
        const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(force);
          resolve();
        });
        child.kill('SIGTERM');
      });
      return stopping;
    },
  };
}
