import { expect, test } from 'vitest';
import { planRead } from './batch-policy.ts';
import { backoffMs } from './backoff.ts';
import { assessBacklog } from './lag.ts';

const policy = { maxRows: 100, maxWaitMs: 50, blockMs: 1000 };

test.each([
  ['empty batch: block long for the first entries', 0, null, 0, { action: 'read', count: 100, blockMs: 1000 }],
  ['filling: read the rest, block until the deadline', 40, 1000, 1020, { action: 'read', count: 60, blockMs: 30 }],
  ['full: flush', 100, 1000, 1001, { action: 'flush' }],
  ['over full (claimed entries): flush', 150, 1000, 1001, { action: 'flush' }],
  ['deadline reached: flush', 1, 1000, 1050, { action: 'flush' }],
  ['deadline in 0.2 ms: never BLOCK 0 (forever)', 1, 1000, 1049.8, { action: 'read', count: 99, blockMs: 1 }],
] as const)('%s', (_name, size, firstAt, now, plan) => {
  expect(planRead(policy, size, firstAt, now)).toEqual(plan);
});

test.each([
  [0, 0, 50],
  [0, 1, 100],
  [3, 0.5, 600],
  [10, 1, 5000],
  [50, 0, 2500],
])('backoffMs(attempt %i, random %f) = %i with base 100, max 5000', (attempt, random, ms) => {
  expect(backoffMs(attempt, 100, 5000, random)).toBe(ms);
});

test.each([
  ['idle', { lag: 0, pending: 0, length: 1000 }, { backlog: 0, ratio: 0, degraded: false }],
  ['lag + pending both count', { lag: 300, pending: 100, length: 1000 }, { backlog: 400, ratio: 0.4, degraded: false }],
  ['at the threshold', { lag: 400, pending: 100, length: 1000 }, { backlog: 500, ratio: 0.5, degraded: true }],
  ['lag unknown: stream length bounds it', { lag: null, pending: 0, length: 900 }, { backlog: 900, ratio: 0.9, degraded: true }],
])('assessBacklog: %s', (_name, info, expected) => {
  expect(assessBacklog(info, 1000, 50)).toEqual(expected);
});
