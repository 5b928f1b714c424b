/**
 * `trm up` (= `npm start`): the whole stack on this machine. Provisions Postgres (+PostGIS) and
 * Redis, boots Directus with the schema applied, then supervises every built service as a child
 * process with its log in .trm/logs/. Ctrl-C stops everything, services first, Directus last.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from '../command.ts';
import { repoRoot, stateDir } from '../paths.ts';
import { ensurePostgis, ensurePostgres, ensureRedis } from '../provision/services.ts';
import { bootDirectus } from '../stack/directus.ts';
import { loadSecrets, loadStackConfig } from '../stack-config.ts';
import { commands } from './index.ts';

const SERVICES = ['ingest', 'writer', 'gateway', 'functions', 'connector'] as const;

function built(name: string): boolean {
  const c = commands.find((x) => x.name === name);
  return Boolean(c && !c.help.startsWith('Not built yet'));
}

export const command: Command = {
  name: 'up',
  summary: 'the whole stack on this machine (Postgres, Redis, Directus, every service)',
  usage: 'up [--demo]',
  options: { demo: { type: 'boolean' } },
  help: `Provisions PostgreSQL + PostGIS and Redis (installing them from Debian packages when root and
they are missing), boots Directus 11.17.4 (schema applied: DIRECTUS_SCHEMA_APPLY_MODE defaults
to auto here), then starts ingest, writer, gateway, functions and connector. Prints the URLs,
the admin credentials and one status line per service. Logs: .trm/logs/<service>.log.
--demo seeds a demo rally and drives simulated devices (arrives with issue #11).`,
  async run(args, env) {
    const config = loadStackConfig({ DIRECTUS_SCHEMA_APPLY_MODE: 'auto', ...env });
    const secrets = loadSecrets(env);
    const say = (line: string) => process.stdout.write(`trm up: ${line}\n`);
    const logs = join(stateDir, 'logs');
    mkdirSync(logs, { recursive: true });
    say('checking PostgreSQL, PostGIS and Redis');
    await ensurePostgres(config.databaseUrl, env, say);
    await ensurePostgis(config.databaseUrl, env, say);
    await ensureRedis(config.redisUrl, say);
    const directus = await bootDirectus({ databaseUrl: config.databaseUrl, redisUrl: config.redisUrl, port: config.directusPort, secrets, mode: config.schemaApplyMode, provision: false, say, env, logFile: join(logs, 'directus.log') });

    const childEnv: NodeJS.ProcessEnv = { ...env, DATABASE_URL: config.databaseUrl, REDIS_URL: config.redisUrl, DIRECTUS_URL: directus.url, DIRECTUS_TOKEN: secrets.serviceToken, DIRECTUS_SECRET: secrets.directusSecret, INGEST_ACCEPT: env.INGEST_ACCEPT ?? 'known' };
    const children = new Map<string, ChildProcess>();
    const status: string[] = [`directus   up    ${directus.url}/admin`];
    for (const name of SERVICES) {
      if (!built(name)) {
        status.push(`${name.padEnd(10)} —     not built yet`);
        continue;
      }
      const out = createWriteStream(join(logs, `${name}.log`), { flags: 'a' });
      const child = spawn(process.execPath, [join(repoRoot, 'cli', 'src', 'main.ts'), name], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout!.pipe(out);
      child.stderr!.pipe(out);
      child.once('exit', (code, signal) => {
        children.delete(name);
        if (!stopping) say(`${name} exited (${signal ?? code}); see .trm/logs/${name}.log`);
      });
      children.set(name, child);
      status.push(`${name.padEnd(10)} up    pid ${child.pid}, log .trm/logs/${name}.log`);
    }
    if (args.values.demo) status.push('demo       —     the demo rally arrives with issue #11');
    process.stdout.write(`\nTRM is running.\n  admin app:  ${directus.url}/admin\n  admin:      ${secrets.adminEmail} / ${secrets.adminPassword}\n  service token (DIRECTUS_TOKEN) in .trm/secrets.json\n\n${status.map((s) => `  ${s}`).join('\n')}\n\nCtrl-C stops everything.\n`);

    let stopping = false;
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    stopping = true;
    say('stopping services');
    await Promise.all([...children.values()].map((child) => new Promise<void>((resolve) => {
      const force = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.once('exit', () => {
        clearTimeout(force);
        resolve();
      });
      child.kill('SIGTERM');
    })));
    say('stopping Directus');
    await directus.stop();
    say('stopped');
    return 0;
  },
};
