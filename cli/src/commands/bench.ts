/**
 * `trm bench <name>`: runs bench/<name>.bench.ts, which measures TRM against a baseline in the
 * same run, and writes bench/results/<name>.json. Ratios, not absolute figures, are what count
 * on a shared machine.
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Command } from '../command.ts';
import { repoRoot } from '../paths.ts';

export interface BenchModule {
  description: string;
  run(options: { quick: boolean; env: NodeJS.ProcessEnv; log: (line: string) => void }): Promise<Record<string, unknown>>;
}

async function available(): Promise<string[]> {
  const files = await readdir(join(repoRoot, 'bench')).catch(() => [] as string[]);
  return files.filter((f) => f.endsWith('.bench.ts')).map((f) => f.replace(/\.bench\.ts$/, '')).sort();
}

export const command: Command = {
  name: 'bench',
  summary: 'run a benchmark against its same-run baseline and write bench/results/<name>.json',
  usage: 'bench <name> [--quick]',
  allowPositionals: true,
  options: { quick: { type: 'boolean' } },
  help: `Benchmarks live in bench/<name>.bench.ts. --quick runs a smaller load (for smoke checks).
Each result file holds the figures, the baseline measured in the same run and their ratio.`,
  async run(args, env) {
    const names = await available();
    const name = args.positionals[0];
    if (!name || !names.includes(name)) {
      process.stderr.write(`trm bench: ${name ? `unknown benchmark "${name}"` : 'name a benchmark'}; available: ${names.join(', ') || '(none yet)'}\n`);
      return 2;
    }
    const mod = (await import(pathToFileURL(join(repoRoot, 'bench', `${name}.bench.ts`)).href)) as BenchModule;
    const log = (line: string) => process.stdout.write(`[bench ${name}] ${line}\n`);
    log(mod.description);
    const startedAt = new Date().toISOString();
    const result = await mod.run({ quick: Boolean(args.values.quick), env, log });
    const out = { name, startedAt, finishedAt: new Date().toISOString(), quick: Boolean(args.values.quick), node: process.version, ...result };
    await mkdir(join(repoRoot, 'bench', 'results'), { recursive: true });
    const file = join(repoRoot, 'bench', 'results', `${name}.json`);
    await writeFile(file, `${JSON.stringify(out, null, 2)}\n`);
    log(`written ${file}`);
    return 0;
  },
};
