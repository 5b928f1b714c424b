import type { Command } from '../command.ts';
import { login, ping, rest } from '../../../directus/src/rest.ts';
import { writeSnapshot } from '../../../directus/src/schema.ts';
import { applySchema, snapshotPath } from '../stack/directus.ts';
import { loadSecrets, loadStackConfig } from '../stack-config.ts';

async function adminApi(env: NodeJS.ProcessEnv) {
  const config = loadStackConfig(env);
  if (!(await ping(config.directusUrl))) throw new Error(`Directus is not running at ${config.directusUrl}; start it with \`npx trm directus\` (or \`npm start\`)`);
  const secrets = loadSecrets(env);
  const { accessToken } = await login(config.directusUrl, secrets.adminEmail, secrets.adminPassword);
  return { config, api: rest(config.directusUrl, accessToken) };
}

export const applyCommand: Command = {
  name: 'schema:apply',
  summary: 'apply snapshots/schema.yaml to the running Directus (refuses data loss)',
  usage: 'schema:apply [--mode auto|dry-run] [--allow-data-loss]',
  options: { mode: { type: 'string' }, 'allow-data-loss': { type: 'boolean' } },
  help: `Diffs snapshots/schema.yaml against the running Directus (DIRECTUS_URL, admin credentials from
.trm/secrets.json or DIRECTUS_ADMIN_EMAIL/PASSWORD) and prints the changes. --mode (default
DIRECTUS_SCHEMA_APPLY_MODE, else dry-run): auto applies, dry-run only prints. A diff that drops a
collection or field holding rows is refused in every mode unless --allow-data-loss.`,
  async run(args, env) {
    const { config, api } = await adminApi(env);
    const mode = (args.values.mode as string | undefined) ?? config.schemaApplyMode;
    if (mode !== 'auto' && mode !== 'dry-run' && mode !== 'skip') throw new Error(`--mode must be auto or dry-run, got ${mode}`);
    await applySchema(api, { databaseUrl: config.databaseUrl, mode, allowDataLoss: Boolean(args.values['allow-data-loss']), say: (l) => process.stdout.write(`${l}\n`), env });
    return 0;
  },
};

export const snapshotCommand: Command = {
  name: 'schema:snapshot',
  summary: 'write snapshots/schema.yaml from the running Directus',
  usage: 'schema:snapshot',
  help: 'Reads the schema of the running Directus (GET /schema/snapshot) and writes snapshots/schema.yaml.',
  async run(_args, env) {
    const { api } = await adminApi(env);
    const file = await snapshotPath();
    await writeSnapshot(api, file);
    process.stdout.write(`written ${file}\n`);
    return 0;
  },
};
