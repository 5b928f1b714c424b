import { SignJWT, UnsecuredJWT } from 'jose';
import { describe, expect, test } from 'vitest';
import { createTokenVerifier } from './auth.ts';
import type { DirectusClient } from './directus.ts';

const secret = 'test-secret-0123456789';
const key = new TextEncoder().encode(secret);
const noDirectus: DirectusClient = { get: async () => Promise.reject(new Error('Directus must not be called')) };
const sign = (claims: Record<string, unknown>, exp: number | string = '10m', iss = 'directus', k = key) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuer(iss).setIssuedAt().setExpirationTime(exp).sign(k);

describe('local verification (DIRECTUS_SECRET set)', () => {
  const verifier = createTokenVerifier({ secret, directus: noDirectus });

  test('a valid Directus token gives the user and exp, without calling Directus', async () => {
    const token = await sign({ id: 'u1', role: 'r', app_access: false, admin_access: false });
    const identity = await verifier.verify(token);
    expect(identity).toMatchObject({ userId: 'u1', token });
    expect(identity.expiresAtMs).toBeGreaterThan(0);
  });

  test.each([
    ['wrong key', () => sign({ id: 'u1' }, '10m', 'directus', new TextEncoder().encode('other')), 'UNAUTHENTICATED'],
    ['alg none', async () => new UnsecuredJWT({ id: 'u1' }).setIssuer('directus').setExpirationTime('10m').encode(), 'UNAUTHENTICATED'],
    ['wrong issuer', () => sign({ id: 'u1' }, '10m', 'someone'), 'UNAUTHENTICATED'],
    ['no user id', () => sign({ role: 'r' }), 'UNAUTHENTICATED'],
    ['expired', () => sign({ id: 'u1' }, Math.floor(Date.now() / 1000) - 60), 'TOKEN_EXPIRED'],
  ])('%s → %s', async (_name, make, wire) => {
    await expect(verifier.verify(await make())).rejects.toMatchObject({ wire, code: `GW_ERR_${wire}` });
  });

  test('a static token (not a JWT) is asked to Directus', async () => {
    const v = createTokenVerifier({ secret, directus: { get: async () => ({ status: 200, data: { id: 'svc' } }) } });
    expect(await v.verify('static-token')).toEqual({ userId: 'svc', token: 'static-token', expiresAtMs: null });
  });
});

describe('through /users/me (no secret)', () => {
  test.each([
    [{ status: 200, data: { id: 'u1' } }, { userId: 'u1' }],
  ])('200 → identity', async (reply, want) => {
    const v = createTokenVerifier({ directus: { get: async () => reply } });
    expect(await v.verify('t')).toMatchObject(want);
  });
  test.each([
    [{ status: 401, code: 'TOKEN_EXPIRED' }, 'TOKEN_EXPIRED'],
    [{ status: 401, code: 'INVALID_CREDENTIALS' }, 'UNAUTHENTICATED'],
    [{ status: 403 }, 'UNAUTHENTICATED'],
  ])('%o → %s', async (reply, wire) => {
    const v = createTokenVerifier({ directus: { get: async () => reply } });
    await expect(v.verify('t')).rejects.toMatchObject({ wire });
  });
});
