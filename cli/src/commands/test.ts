import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Command } from '../command.ts';
import { repoRoot } from '../paths.ts';

export const command: Command = {
  name: 'test',
  summary: 'run every test (unit, integration against real Postgres/Redis/Directus, faults)',
  usage: 'test [--unit | --integration | --faults] [vitest args…]',
  allowPositionals: true,
  options: { unit: { type: 'boolean' }, integration: { type: 'boolean' }, faults: { type: 'boolean' } },
  help: `Runs vitest under the project's Node 24. With no flag every project runs: unit (pure
modules), integration (real services; Postgres, PostGIS and Redis are provisioned and a Directus
11 is booted on a fresh database for the run) and faults (processes killed and restarted).
Extra positionals are passed to vitest (file filters).`,
  async run(args) {
    const projects = (['unit', 'integration', 'faults'] as const).filter((p) => args.values[p]);
    const vitest = join(repoRoot, 'node_modules', 'vitest', 'vitest.mjs');
    const argv = [vitest, 'run', ...projects.flatMap((p) => ['--project', p]), ...args.positionals];
    return new Promise<number>((resolve) => {
      const child = spawn(process.execPath, argv, { cwd: repoRoot, stdio: 'inherit', env: { ...process.env, FORCE_COLOR: process.env.CI ? '0' : process.env.FORCE_COLOR } });
      child.once('close', (code) => resolve(code ?? 1));
    });
  },
};
