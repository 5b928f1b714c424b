import { describe, expect, test } from 'vitest';
import { backoffMs, classifyStatus } from './invoker.ts';

describe('classifyStatus', () => {
  test.each([
    [200, 'ok'],
    [202, 'ok'],
    [204, 'ok'],
    [400, 'fail'],
    [404, 'fail'],
    [413, 'fail'],
    [408, 'retry'],
    [429, 'retry'],
    [500, 'retry'],
    [501, 'fail'],
    [502, 'retry'],
    [503, 'retry'],
    [504, 'retry'],
  ])('%i → %s', (status, expected) => {
    expect(classifyStatus(status)).toBe(expected);
  });
});

describe('backoffMs', () => {
  const policy = { maxAttempts: 10, backoffMs: 100, backoffMaxMs: 1000 };
  test.each([
    [1, 0, 50],
    [1, 1, 100],
    [2, 1, 200],
    [3, 0.5, 300],
    [5, 1, 1000],
    [9, 0, 500],
  ])('attempt %i, random %d → %i ms', (attempt, random, expected) => {
    expect(backoffMs(policy, attempt, () => random)).toBe(expected);
  });
});
