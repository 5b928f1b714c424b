/**
 * A minimal Directus REST client for the boot pipeline and tests (login, JSON requests with a
 * bearer token, coded errors). Services use @directus/sdk; the admin endpoints the pipeline
 * needs (/schema/*, /policies, /access) are plainer over fetch.
 */
import { TrmError } from '../../common/src/errors.ts';

export class DirectusError extends TrmError {
  readonly status: number;
  constructor(status: number, message: string, details: Record<string, unknown>) {
    super(status === 401 ? 'DIRECTUS_ERR_UNAUTHENTICATED' : status === 403 ? 'DIRECTUS_ERR_FORBIDDEN' : 'DIRECTUS_ERR_REQUEST', message, { retryable: status >= 500, details });
    this.status = status;
  }
}

export interface Rest {
  url: string;
  token: string | undefined;
  request<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  withToken(token: string | undefined): Rest;
}

export function rest(url: string, token?: string): Rest {
  const base = url.replace(/\/$/, '');
  return {
    url: base,
    token,
    async request<T>(method: string, path: string, body?: unknown): Promise<T> {
      const headers: Record<string, string> = {};
      if (token) headers.authorization = `Bearer ${token}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(60_000) });
      const text = await res.text();
      let json: { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] } | undefined;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      if (!res.ok) {
        const first = json?.errors?.[0];
        throw new DirectusError(res.status, `Directus ${method} ${path} → ${res.status}${first ? ` ${first.extensions?.code ?? ''} ${first.message}` : ` ${text.slice(0, 200)}`}`, { method, path, status: res.status, directusCode: first?.extensions?.code });
      }
      return (json && 'data' in json ? json.data : json) as T;
    },
    withToken(next) {
      return rest(base, next);
    },
  };
}

export async function login(url: string, email: string, password: string): Promise<{ accessToken: string; refreshToken: string; expiresMs: number }> {
  const data = await rest(url).request<{ access_token: string; refresh_token: string; expires: number }>('POST', '/auth/login', { email, password });
  return { accessToken: data.access_token, refreshToken: data.refresh_token, expiresMs: data.expires };
}

export async function ping(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url.replace(/\/$/, '')}/server/ping`, { signal: AbortSignal.timeout(2000) });
    return res.ok && (await res.text()).includes('pong');
  } catch {
    return false;
  }
}
