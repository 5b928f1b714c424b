/**
 * Alert writes through Directus REST with the service token (ARCHITECTURE.md, "Business
 * plane"): Directus's permissions, the trm-safety hook (dedup, stamps, publication on
 * safety:alerts), its WebSocket and its audit apply to every change the service makes.
 */
import { isRetryable } from '../../common/src/errors.ts';
import { directusRejected, directusUnavailable, DuplicateOpenError } from './errors.ts';

export interface AlertsApi {
  create(body: Record<string, unknown>): Promise<{ id: number }>;
  update(id: number, body: Record<string, unknown>): Promise<void>;
}

export function directusAlerts(options: { url: string; token: string; timeoutMs: number }): AlertsApi {
  const base = options.url.replace(/\/$/, '');

  async function call<T>(method: string, path: string, body: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(base + path, {
        method,
        headers: { authorization: `Bearer ${options.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
    } catch (error) {
      if (isRetryable(error) || error instanceof TypeError) throw directusUnavailable(`Directus ${method} ${path} failed`, { cause: error });
      throw error;
    }
    const text = await res.text();
    let json: { data?: unknown; errors?: { message: string; extensions?: { code?: string; id?: number; key?: string } }[] } | undefined;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (res.ok) return (json?.data ?? null) as T;
    const first = json?.errors?.[0];
    const code = first?.extensions?.code;
    if (res.status === 409 && code === 'SAFETY_DUPLICATE_OPEN') throw new DuplicateOpenError(String(first?.extensions?.key ?? ''), first?.extensions?.id ?? null);
    const message = `Directus ${method} ${path} → ${res.status} ${code ?? ''} ${first?.message ?? text.slice(0, 200)}`;
    if (res.status >= 500 || res.status === 429 || res.status === 408) throw directusUnavailable(message, { details: { status: res.status, directusCode: code } });
    throw directusRejected(message, { status: res.status, directusCode: code });
  }

  return {
    async create(body) {
      const row = await call<{ id: number }>('POST', '/items/alerts?fields=id', body);
      return { id: Number(row.id) };
    },
    async update(id, body) {
      await call('PATCH', `/items/alerts/${id}?fields=id`, body);
    },
  };
}
