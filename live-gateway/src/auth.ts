/**
 * Token → identity. With the Directus secret, a JWT access token is verified locally (HS256,
 * issuer "directus"): no Directus call. Without it, or for a static token (not a JWT), Directus
 * answers through `/users/me`.
 */
import { decodeJwt, jwtVerify } from 'jose';
import { gwError, GatewayError } from './errors.ts';
import type { DirectusClient } from './directus.ts';

export interface Identity {
  userId: string;
  token: string;
  /** the token's `exp` in ms since epoch; null for static tokens */
  expiresAtMs: number | null;
}

export interface TokenVerifier {
  verify(token: string): Promise<Identity>;
}

function looksLikeJwt(token: string): boolean {
  return token.split('.').length === 3;
}

function expiryOf(token: string): number | null {
  if (!looksLikeJwt(token)) return null;
  try {
    const { exp } = decodeJwt(token);
    return typeof exp === 'number' ? exp * 1000 : null;
  } catch {
    return null;
  }
}

export function createTokenVerifier(options: { secret?: string; directus: DirectusClient }): TokenVerifier {
  const key = options.secret ? new TextEncoder().encode(options.secret) : undefined;

  async function local(token: string, secret: Uint8Array): Promise<Identity> {
    try {
      const { payload } = await jwtVerify(token, secret, { issuer: 'directus', algorithms: ['HS256'] });
      if (typeof payload.id !== 'string' || payload.id === '') throw gwError('UNAUTHENTICATED', 'token has no user id');
      return { userId: payload.id, token, expiresAtMs: typeof payload.exp === 'number' ? payload.exp * 1000 : null };
    } catch (error) {
      if (error instanceof GatewayError) throw error;
      if ((error as { code?: string }).code === 'ERR_JWT_EXPIRED') throw gwError('TOKEN_EXPIRED', 'access token expired', { cause: error });
      throw gwError('UNAUTHENTICATED', 'invalid access token', { cause: error });
    }
  }

  async function remote(token: string): Promise<Identity> {
    const reply = await options.directus.get('/users/me?fields=id', token);
    if (reply.status === 200) {
      const id = (reply.data as { id?: unknown } | undefined)?.id;
      if (typeof id === 'string' && id !== '') return { userId: id, token, expiresAtMs: expiryOf(token) };
      throw gwError('UNAUTHENTICATED', 'Directus did not name a user for this token');
    }
    if (reply.code === 'TOKEN_EXPIRED') throw gwError('TOKEN_EXPIRED', 'access token expired');
    throw gwError('UNAUTHENTICATED', 'invalid access token', { details: { status: reply.status } });
  }

  return {
    verify(token) {
      return key && looksLikeJwt(token) ? local(token, key) : remote(token);
    },
  };
}
