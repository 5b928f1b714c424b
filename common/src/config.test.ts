import { describe, expect, test } from 'vitest';
import { ConfigError, int, loadConfig, oneOf, port, str, url } from './config.ts';
import { pgConfig } from './pg.ts';
import { isRetryable, PermanentError, TrmError } from './errors.ts';

describe('loadConfig', () => {
  const spec = { redisUrl: url('REDIS_URL', 'redis://127.0.0.1:6379'), port: port('PORT', 5027), mode: oneOf('MODE', ['any', 'known'] as const, 'known'), name: str('NAME'), batch: int('BATCH', 10, { min: 1 }) };

  test('applies defaults and parses values', () => {
    expect(loadConfig(spec, { NAME: 'x', PORT: '0' })).toEqual({ redisUrl: 'redis://127.0.0.1:6379', port: 0, mode: 'known', name: 'x', batch: 10 });
  });

  test('reports every invalid key in one error', () => {
    try {
      loadConfig(spec, { PORT: '70000', MODE: 'some', BATCH: '0', REDIS_URL: 'nope' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as Error).message;
      for (const key of ['PORT', 'MODE', 'NAME', 'BATCH', 'REDIS_URL']) expect(message).toContain(key);
    }
  });
});

describe('pgConfig', () => {
  test('takes PGUSER when the URL has no user, never undefined', () => {
    expect(pgConfig('postgres://127.0.0.1:5432/trm', { PGUSER: 'alice' }).user).toBe('alice');
    expect(typeof pgConfig('postgres://127.0.0.1:5432/trm', {}).user).toBe('string');
    expect(pgConfig('postgres://bob:pw@db:5433/x', {})).toMatchObject({ user: 'bob', password: 'pw', host: 'db', port: 5433, database: 'x' });
  });
});

describe('isRetryable', () => {
  test.each([
    [{ code: '08006' }, true], // connection failure
    [{ code: '40001' }, true], // serialization failure
    [{ code: '57P01' }, true], // admin shutdown
    [{ code: '23505' }, false], // unique violation
    [{ code: '22P02' }, false], // bad input
    [{ code: 'ECONNREFUSED' }, true],
    [new Error('LOADING Redis is loading the dataset in memory'), true],
    [new Error('WRONGTYPE Operation against a key'), false],
    [new PermanentError('X', 'bad'), false],
    [new TrmError('Y', 'later', { retryable: true }), true],
    [new Error('wrapped', { cause: { code: 'ECONNRESET' } }), true],
  ])('%o → %s', (error, expected) => {
    expect(isRetryable(error)).toBe(expected);
  });
});
