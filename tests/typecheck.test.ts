/**
 * The services run their .ts sources under Node 24's type stripping, which throws on
 * non-erasable syntax (parameter properties, enums) only when the line runs. tsc with
 * erasableSyntaxOnly finds it everywhere at once, together with every type error.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, test } from 'vitest';

const root = join(import.meta.dirname, '..');

test('the whole workspace typechecks (strict, erasable syntax only)', () => {
  const result = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', root], { encoding: 'utf8', timeout: 240_000 });
  expect(result.stdout + result.stderr).toBe('');
  expect(result.status).toBe(0);
}, 300_000);
