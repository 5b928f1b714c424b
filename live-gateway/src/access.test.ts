import { describe, expect, test } from 'vitest';
import { AccessCache, decideAccess } from './access.ts';
import type { Identity } from './auth.ts';
import type { DirectusClient, DirectusReply } from './directus.ts';

/** Directus as a table: (token or 'anon') → status for /items/events/… */
function fakeDirectus(answers: Record<string, number | DirectusReply | undefined>): DirectusClient & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async get(_path, token) {
      const who = token ?? 'anon';
      calls.push(who);
      const a = answers[who] ?? 403;
      return typeof a === 'number' ? { status: a } : a;
    },
  };
}
const user: Identity = { userId: 'u1', token: 'user', expiresAtMs: null };

describe('decideAccess', () => {
  test.each([
    { name: 'own event', identity: user, answers: { user: 200 }, want: { allowed: true, public: false }, calls: ['user'] },
    { name: 'public event, no token', identity: null, answers: { anon: 200 }, want: { allowed: true, public: true }, calls: ['anon'] },
    { name: 'public event of another organisation', identity: user, answers: { user: 403, anon: 200 }, want: { allowed: true, public: true }, calls: ['user', 'anon'] },
    { name: "another organisation's event", identity: user, answers: { service: 200 }, want: { allowed: false, code: 'FORBIDDEN' }, calls: ['user', 'anon', 'service'] },
    { name: 'unknown event', identity: user, answers: { service: 403 }, want: { allowed: false, code: 'NOT_FOUND' }, calls: ['user', 'anon', 'service'] },
    { name: 'private event, no token', identity: null, answers: { service: 200 }, want: { allowed: false, code: 'UNAUTHENTICATED' }, calls: ['anon', 'service'] },
    { name: 'expired token at Directus', identity: user, answers: { user: { status: 401, code: 'TOKEN_EXPIRED' } }, want: { allowed: false, code: 'TOKEN_EXPIRED' }, calls: ['user'] },
    { name: 'token unknown to Directus', identity: user, answers: { user: { status: 401, code: 'INVALID_CREDENTIALS' } }, want: { allowed: false, code: 'UNAUTHENTICATED' }, calls: ['user'] },
  ])('$name', async ({ identity, answers, want, calls }) => {
    const d = fakeDirectus(answers);
    expect(await decideAccess(d, 7, identity, 'service')).toEqual(want);
    expect(d.calls).toEqual(calls);
  });

  test('without a service token a refusal is FORBIDDEN (cannot tell NOT_FOUND)', async () => {
    expect(await decideAccess(fakeDirectus({}), 7, user, undefined)).toEqual({ allowed: false, code: 'FORBIDDEN' });
  });
});

describe('AccessCache', () => {
  test('one Directus call per (user, event) within the TTL, concurrent askers share it', async () => {
    const d = fakeDirectus({ user: 200 });
    const cache = new AccessCache({ directus: d, ttlMs: 1000 });
    await Promise.all([cache.decide(7, user, 0), cache.decide(7, user, 0)]);
    await cache.decide(7, { ...user, token: 'user' }, 999);
    expect(d.calls).toHaveLength(1);
    await cache.decide(7, user, 1000);
    expect(d.calls).toHaveLength(2);
  });

  test('maxAgeMs 0 asks again (re-check)', async () => {
    const d = fakeDirectus({ user: 200 });
    const cache = new AccessCache({ directus: d, ttlMs: 60_000 });
    await cache.decide(7, user, 0);
    await cache.decide(7, user, 1, 0);
    expect(d.calls).toHaveLength(2);
  });

  test('a Directus failure is not cached', async () => {
    let fail = true;
    const d: DirectusClient = { get: async () => (fail ? Promise.reject(new Error('down')) : { status: 200 }) };
    const cache = new AccessCache({ directus: d, ttlMs: 60_000 });
    await expect(cache.decide(7, user, 0)).rejects.toThrow('down');
    fail = false;
    expect(await cache.decide(7, user, 1)).toEqual({ allowed: true, public: false });
  });
});
