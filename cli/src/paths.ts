import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is cli/src/paths.ts). */
export const repoRoot = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
/** Local state of this machine's stack (logs, generated secrets, pids); never committed. */
export const stateDir = join(repoRoot, '.trm');
export const directusDir = join(repoRoot, 'directus');
export const node24 = process.execPath;
