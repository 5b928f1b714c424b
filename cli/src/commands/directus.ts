import { join } from 'node:path';
import type { Command } from '../command.ts';
import { stateDir } from '../paths.ts';
import { ensureRedis } from '../provision/services.ts';
import { bootDirectus } from '../stack/directus.ts';
import { loadSecrets, loadStackConfig } from '../stack-config.ts';

export const command: Command = {
  name: 'directus',
  summary: 'boot Directus 11.17.4: db:init → bootstrap → start → schema apply → access rules',
  usage: 'directus [--allow-data-loss]',
  options: { 'allow-data-loss': { type: 'boolean' } },
  help: `Installs directus/ when needed, applies db-init, bootstraps Directus against DATABASE_URL, starts
it on DIRECTUS_URL's port, applies snapshots/schema.yaml according to DIRECTUS_SCHEMA_APPLY_MODE
(auto | dry-run | skip; default dry-run) and synchronises roles, policies, permissions and the
service account. A snapshot that would drop data is refused unless --allow-data-loss.
Runs until Ctrl-C. Logs: .trm/logs/directus.log.`,
  async run(args, env) {
    const config = loadStackConfig(env);
    const secrets = loadSecrets(env);
    const say = (line: string) => process.stderr.write(`${line}\n`);
    await ensureRedis(config.redisUrl, say);
    const booted = await bootDirectus({ databaseUrl: config.databaseUrl, redisUrl: config.redisUrl, redisPrefix: env.TRM_REDIS_PREFIX ?? '', port: config.directusPort, secrets, mode: config.schemaApplyMode, allowDataLoss: Boolean(args.values['allow-data-loss']), say, env, logFile: join(stateDir, 'logs', 'directus.log') });
    process.stdout.write(`Directus ready: ${booted.url}/admin  (admin ${secrets.adminEmail} / ${secrets.adminPassword})\n`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
      booted.running.child.once('exit', resolve);
    });
    await booted.stop();
    return 0;
  },
};
