import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { collectCodes, render } from '../scripts/errors-doc.ts';

test('docs/errors.md lists every error code of the sources (regenerate: node scripts/errors-doc.ts --write)', () => {
  expect(collectCodes().size).toBeGreaterThan(50);
  expect(readFileSync(join(import.meta.dirname, '..', 'docs', 'errors.md'), 'utf8')).toBe(render());
});
