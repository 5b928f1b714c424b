#!/usr/bin/env node
// `npx trm …`: run the TypeScript CLI under the project's Node 24 (the `node` package), which
// strips types natively; re-exec when npx started us on an older node.
import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const cliDir = dirname(dirname(realpathSync(fileURLToPath(import.meta.url))));
const root = dirname(cliDir);
const main = join(cliDir, 'src', 'main.ts');
const major = Number(process.versions.node.split('.')[0]);
if (major >= 24) {
  await import(pathToFileURL(main).href);
} else {
  const node24 = join(root, 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(node24)) {
    console.error(`trm: Node ${process.versions.node} is too old and the project's Node 24 is not installed; run \`npm install\` in ${root}`);
    process.exit(2);
  }
  const result = spawnSync(node24, [main, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}
