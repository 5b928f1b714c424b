/**
 * The only Directus calls the gateway makes: who is this token (`/users/me`, when no secret is
 * configured) and may this token read event X (`/items/events/X`). Never on the position path.
 */
import { gwError } from './errors.ts';

export interface DirectusReply {
  status: number;
  /** errors[0].extensions.code of a Directus error answer */
  code?: string;
  data?: unknown;
}

export interface DirectusClient {
  get(path: string, token: string | null): Promise<DirectusReply>;
}

/** fetch-based client; network failures, timeouts and 5xx become UNAVAILABLE GatewayErrors. */
export function createDirectusClient(options: { url: string; timeoutMs: number; onCall?: (path: string, status: number | 'error') => void }): DirectusClient {
  const base = options.url.replace(/\/+$/, '');
  return {
    async get(path, token) {
      let res: Response;
      try {
        res = await fetch(base + path, {
          headers: token ? { authorization: `Bearer ${token}` } : {},
          signal: AbortSignal.timeout(options.timeoutMs),
        });
      } catch (error) {
        options.onCall?.(path, 'error');
        throw gwError('UNAVAILABLE', 'Directus is unreachable', { cause: error });
      }
      options.onCall?.(path, res.status);
      let body: { data?: unknown; errors?: { extensions?: { code?: string } }[] } | undefined;
      try {
        body = (await res.json()) as typeof body;
      } catch {
        body = undefined;
      }
      if (res.status >= 500) throw gwError('UNAVAILABLE', `Directus answered ${res.status}`, { details: { status: res.status } });
      return { status: res.status, code: body?.errors?.[0]?.extensions?.code, data: body?.data };
    },
  };
}
