/**
 * Coalescing of recompute windows: requests for the same scope+id whose [from, to] windows
 * overlap or touch, pending at once, become one call over the union window. A recompute is
 * deterministic over its window, so the union covers every request it replaces; requests that
 * cannot be read (no scope/id, bad instants) pass through alone and the function judges them.
 * Absent `from`/`to` mean unbounded.
 */

export interface PendingRequest {
  /** stream entry id(s) this request stands for */
  ids: string[];
  payload: Record<string, string>;
}

export interface CoalescedRequest {
  ids: string[];
  payload: Record<string, string>;
  /** how many requests this call stands for (1 = not coalesced) */
  merged: number;
}

interface Window {
  request: PendingRequest;
  fromMs: number;
  toMs: number;
}

function instant(value: string | undefined, unbounded: number): number | undefined {
  if (value === undefined || value === '') return unbounded;
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

function joinUnique(values: (string | undefined)[], separator: string): string | undefined {
  const seen = [...new Set(values.filter((v): v is string => v !== undefined && v !== ''))];
  return seen.length === 0 ? undefined : seen.join(separator);
}

/** Merges one cluster of overlapping windows (already sorted by start). */
function merge(cluster: Window[]): CoalescedRequest {
  if (cluster.length === 1) return { ids: cluster[0].request.ids, payload: cluster[0].request.payload, merged: 1 };
  const first = cluster[0].request.payload;
  const fromMs = Math.min(...cluster.map((w) => w.fromMs));
  const toMs = Math.max(...cluster.map((w) => w.toMs));
  const payload: Record<string, string> = { scope: first.scope, id: first.id };
  if (Number.isFinite(fromMs)) payload.from = new Date(fromMs).toISOString();
  if (Number.isFinite(toMs)) payload.to = new Date(toMs).toISOString();
  const reason = joinUnique(cluster.map((w) => w.request.payload.reason), '; ');
  const requestedBy = joinUnique(cluster.map((w) => w.request.payload.requested_by), ',');
  if (reason !== undefined) payload.reason = reason.slice(0, 500);
  if (requestedBy !== undefined) payload.requested_by = requestedBy.slice(0, 128);
  return { ids: cluster.flatMap((w) => w.request.ids), payload, merged: cluster.length };
}

/** Coalesces a batch; the output keeps the order of each call's first request. */
export function coalesceWindows(requests: PendingRequest[]): CoalescedRequest[] {
  const groups = new Map<string, Window[]>();
  const out: { at: number; call: CoalescedRequest }[] = [];
  requests.forEach((request, at) => {
    const { scope, id } = request.payload;
    const fromMs = instant(request.payload.from, -Infinity);
    const toMs = instant(request.payload.to, Infinity);
    if (!scope || !id || fromMs === undefined || toMs === undefined || fromMs > toMs) {
      out.push({ at, call: { ids: request.ids, payload: request.payload, merged: 1 } });
      return;
    }
    const key = `${scope}\u0000${id}`;
    const windows = groups.get(key) ?? [];
    windows.push({ request, fromMs, toMs });
    groups.set(key, windows);
  });
  const order = new Map(requests.map((r, i) => [r, i]));
  for (const windows of groups.values()) {
    windows.sort((a, b) => a.fromMs - b.fromMs || a.toMs - b.toMs);
    let cluster: Window[] = [];
    let end = -Infinity;
    const flush = () => {
      if (cluster.length === 0) return;
      out.push({ at: Math.min(...cluster.map((w) => order.get(w.request) ?? 0)), call: merge(cluster) });
      cluster = [];
    };
    for (const w of windows) {
      // overlapping or adjacent (touching) windows join the cluster
      if (cluster.length > 0 && w.fromMs > end) flush();
      cluster.push(w);
      end = cluster.length === 1 ? w.toMs : Math.max(end, w.toMs);
    }
    flush();
  }
  return out.sort((a, b) => a.at - b.at).map((o) => o.call);
}
