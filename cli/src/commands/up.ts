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
import { driveDemo, type DemoDrive } from '../../../demo/drive.ts';
import { nextDemoStart, seedDemo } from '../../../demo/seed.ts';

const DEMO_USERS = {
  operator: { email: 'operator@example.com', password: 'demo-operator' },
  viewer: { email: 'viewer@example.com', password: 'demo-viewer' },
};

const SERVICES = ['ingest', 'writer', 'gateway', 'functions', 'connector', 'safety'] as const;

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
--demo (what npm start does) seeds the demo rally through Directus — organisation "TRM Demo",
the public event "Tirana Demo Rally", stage SS1 near Tirana with its course, six entries, the
Rally Albania 2025 rule preset, demo users — and drives six simulated devices over TCP.`,
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
    const directus = await bootDirectus({ databaseUrl: config.databaseUrl, redisUrl: config.redisUrl, redisPrefix: env.TRM_REDIS_PREFIX ?? '', port: config.directusPort, secrets, mode: config.schemaApplyMode, provision: false, say, env, logFile: join(logs, 'directus.log') });

    const childEnv: NodeJS.ProcessEnv = { ...env, DATABASE_URL: config.databaseUrl, REDIS_URL: config.redisUrl, DIRECTUS_URL: directus.url, DIRECTUS_TOKEN: secrets.serviceToken, DIRECTUS_SECRET: secrets.directusSecret, INGEST_ACCEPT: env.INGEST_ACCEPT ?? 'known' };
    const children = new Map<string, ChildProcess>();
    let stopping = false;
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
    let drive: DemoDrive | undefined;
    let demoLines = '';
    if (args.values.demo) {
      const startAtMs = nextDemoStart(Date.now());
      say('seeding the demo rally (organisation "TRM Demo", event "Tirana Demo Rally", stage SS1)');
      const demo = await seedDemo(directus.admin, { startAtMs, users: DEMO_USERS, roles: directus.access.roles });
      const ingestPort = Number(env.INGEST_PORT ?? 5027);
      if (built('ingest')) {
        drive = driveDemo({ host: '127.0.0.1', port: ingestPort, startAtMs, onProgress: say });
        drive.done.then(() => !stopping && say('demo: every entry has finished its run (the stage stays on screen)'));
        status.push(`demo       up    6 simulated devices → ingest :${ingestPort}, first start ${new Date(startAtMs).toISOString()}`);
      } else status.push('demo       —     seeded; no ingest daemon to drive devices into');
      demoLines = `  demo event: ${demo.event} (public live), stage ${demo.stage}\n  operator:   ${DEMO_USERS.operator.email} / ${DEMO_USERS.operator.password}\n  viewer:     ${DEMO_USERS.viewer.email} / ${DEMO_USERS.viewer.password}\n`;
      if (built('gateway')) demoLines += `  live map:   http://127.0.0.1:${env.LIVE_PORT ?? 8090}/?event=${demo.event}\n`;
    }
    process.stdout.write(`\nTRM is running.\n  admin app:  ${directus.url}/admin\n  admin:      ${secrets.adminEmail} / ${secrets.adminPassword}\n${demoLines}  service token (DIRECTUS_TOKEN) in .trm/secrets.json\n\n${status.map((s) => `  ${s}`).join('\n')}\n\nCtrl-C stops everything.\n`);

    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    stopping = true;
    drive?.stop();
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
