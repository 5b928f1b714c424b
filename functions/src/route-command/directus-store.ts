/**
 * `commands` rows through Directus REST with the service account's static token, so every
 * change is permission-checked, lands in Directus's activity/revisions and reaches the SPA over
 * Directus's WebSocket (ARCHITECTURE.md, "Business plane"). Plain fetch: the function image
 * carries no SDK for four requests.
 */
import { TrmError } from '../../../common/src/errors.ts';
import { CommandErrorCode } from './errors.ts';
import { OPEN_STATUSES, type CommandPatch, type CommandRow } from './lifecycle.ts';

export interface CommandStore {
  /** undefined when there is no such row */
  get(id: string): Promise<CommandRow | undefined>;
  update(id: string, patch: CommandPatch): Promise<void>;
  /** ids of the device's commands waiting for delivery (queued or routed), oldest first */
  listWaiting(imei: string, limit?: number): Promise<string[]>;
  /** ids of open commands (queued, routed, sent) whose expires_at is at or before `nowIso` */
  listExpired(nowIso: string, limit?: number): Promise<string[]>;
  /** ids and devices of queued, unexpired commands, oldest first (the sweep's safety net) */
  listQueued(nowIso: string, limit?: number): Promise<{ id: string; device: string }[]>;
}

/** A Directus answer worth retrying (5xx, network) or not (4xx). */
export class DirectusStoreError extends TrmError {
  /** read by the function runtime: 503 makes the connector retry, 4xx does not */
  readonly statusCode: number;
  constructor(message: string, options: { status?: number; retryable: boolean; cause?: unknown }) {
    super(CommandErrorCode.DIRECTUS, message, { retryable: options.retryable, cause: options.cause, details: options.status ? { status: options.status } : undefined });
    this.statusCode = options.retryable ? 503 : 502;
  }
}

const FIELDS = 'id,device,status,text,instance,expires_at,sent_at';

export function directusCommandStore(baseUrl: string, token: string, timeoutMs = 10_000): CommandStore {
  const base = baseUrl.replace(/\/+$/, '');

  async function request<T>(method: string, path: string, body?: unknown): Promise<{ status: number; data: T | undefined }> {
    let res: Response;
    try {
      res = await fetch(base + path, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (cause) {
      throw new DirectusStoreError(`Directus ${method} ${path.split('?')[0]}: ${cause instanceof Error ? cause.message : String(cause)}`, { retryable: true, cause });
    }
    const text = await res.text();
    if (!res.ok) {
      if (res.status === 403 || res.status === 404) return { status: res.status, data: undefined };
      throw new DirectusStoreError(`Directus ${method} ${path.split('?')[0]} → ${res.status} ${text.slice(0, 300)}`, { status: res.status, retryable: res.status >= 500 || res.status === 429 });
    }
    return { status: res.status, data: text ? (JSON.parse(text) as { data: T }).data : undefined };
  }

  const list = async <T>(filter: unknown, fields: string, limit: number): Promise<T[]> => {
    const { data } = await request<T[]>('GET', `/items/commands?fields=${fields}&sort=date_created&limit=${limit}&filter=${encodeURIComponent(JSON.stringify(filter))}`);
    return data ?? [];
  };

  return {
    async get(id) {
      // Directus answers 403 (not 404) for a missing row to a non-admin token
      const { data } = await request<CommandRow>('GET', `/items/commands/${encodeURIComponent(id)}?fields=${FIELDS}`);
      return data ?? undefined;
    },
    async update(id, patch) {
      const { status } = await request('PATCH', `/items/commands/${encodeURIComponent(id)}?fields=id`, patch);
      if (status === 403 || status === 404) throw new DirectusStoreError(`Directus refused PATCH /items/commands/${id} (${status})`, { status, retryable: false });
    },
    async listWaiting(imei, limit = 100) {
      const rows = await list<{ id: string }>({ device: { _eq: imei }, status: { _in: ['queued', 'routed'] } }, 'id', limit);
      return rows.map((r) => r.id);
    },
    async listExpired(nowIso, limit = 100) {
      const rows = await list<{ id: string }>({ status: { _in: OPEN_STATUSES }, expires_at: { _lte: nowIso } }, 'id', limit);
      return rows.map((r) => r.id);
    },
    async listQueued(nowIso, limit = 100) {
      return list<{ id: string; device: string }>({ status: { _eq: 'queued' }, expires_at: { _gt: nowIso } }, 'id,device', limit);
    },
  };
}
