import { defineConfig } from 'vitest/config';

// Two projects: `unit` (pure modules, colocated *.test.ts) and `integration` (*.int.test.ts,
// real Postgres, Redis and Directus, provisioned once per run by tests/global-setup.ts).
const exclude = ['**/node_modules/**', 'directus/node_modules/**', '.trm/**'];

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['**/*.test.ts'],
          exclude: [...exclude, '**/*.int.test.ts', '**/*.faults.test.ts'],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['**/*.int.test.ts'],
          exclude,
          globalSetup: ['tests/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // integration files share one Postgres server and one Directus; each file works in
          // its own database / stream prefix, but two at once is all a 2-core machine wants.
          maxWorkers: 2,
          fileParallelism: true,
        },
      },
      {
        test: {
          name: 'faults',
          include: ['**/*.faults.test.ts'],
          exclude,
          globalSetup: ['tests/global-setup.ts'],
          testTimeout: 600_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
