/**
 * The lifecycle of a `commands` row (ARCHITECTURE.md "Collections"; docs/commands.md):
 *
 *   queued ──route-command, device online──▶ routed ──ingest wrote the frame──▶ sent ──▶ responded
 *     ▲  │                                    │  │                                 │
 *     │  └─ device offline: stays queued,     │  └─ not connected there any more,  └─▶ failed
 *     │     routed when it connects           │     or dropped before it was sent:       (timeout, queue full,
 *     └───────────────────────────────────────┘     back to queued                        disconnected after sent)
 *   any non-terminal state past expires_at ──▶ expired
 *
 * Terminal: responded, failed, expired. A command that reached `sent` is never sent again (a
 * `cpureset` that drops the link must not loop). Pure: time comes in as an argument.
 */

export const COMMAND_STATUSES = ['queued', 'routed', 'sent', 'responded', 'failed', 'expired'] as const;
export type CommandStatus = (typeof COMMAND_STATUSES)[number];
export const TERMINAL_STATUSES: readonly CommandStatus[] = ['responded', 'failed', 'expired'];
export const OPEN_STATUSES: readonly CommandStatus[] = ['queued', 'routed', 'sent'];

/** ttl_s bounds: the schema's default is 600 s */
export const DEFAULT_TTL_S = 600;
export const MIN_TTL_S = 1;
export const MAX_TTL_S = 7 * 24 * 3600;

/** The fields of a `commands` row this path reads. */
export interface CommandRow {
  id: string;
  device: string;
  status: CommandStatus;
  text: string | null;
  instance: string | null;
  /** ISO-8601 */
  expires_at: string | null;
  sent_at?: string | null;
}

/** What may be written back into a row (a Directus PATCH body). */
export interface CommandPatch {
  status?: CommandStatus;
  instance?: string | null;
  routed_at?: string | null;
  sent_at?: string | null;
  responded_at?: string | null;
  response?: string | null;
  error?: string | null;
}

export function isTerminal(status: CommandStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

export function isExpired(row: Pick<CommandRow, 'expires_at'>, nowMs: number): boolean {
  if (!row.expires_at) return false;
  const at = Date.parse(row.expires_at);
  return Number.isFinite(at) && at <= nowMs;
}

export function expiresAt(nowMs: number, ttlS: number): string {
  return new Date(nowMs + ttlS * 1000).toISOString();
}

const iso = (ms: number) => new Date(ms).toISOString();

// ---------------------------------------------------------------------------------------------
// Routing

export type RouteDecision =
  | { action: 'skip'; reason: 'terminal' | 'in-flight' | 'already-routed' }
  | { action: 'expire' }
  | { action: 'wait' }
  | { action: 'route'; instance: string };

/**
 * What route-command does with a row, given the ingest instance that holds the device's socket
 * now (`device:route:{imei}`, undefined when offline).
 */
export function decideRoute(row: CommandRow, routeInstance: string | undefined, nowMs: number): RouteDecision {
  if (isTerminal(row.status)) return { action: 'skip', reason: 'terminal' };
  if (isExpired(row, nowMs)) return { action: 'expire' };
  if (row.status === 'sent') return { action: 'skip', reason: 'in-flight' };
  if (!routeInstance) return { action: 'wait' };
  // routed to an instance that no longer holds the socket (it died, or the device moved): route again
  if (row.status === 'routed' && row.instance === routeInstance) return { action: 'skip', reason: 'already-routed' };
  return { action: 'route', instance: routeInstance };
}

export function routedPatch(instance: string, nowMs: number): CommandPatch {
  return { status: 'routed', instance, routed_at: iso(nowMs), error: null };
}

export function requeuePatch(): CommandPatch {
  return { status: 'queued', instance: null, routed_at: null };
}

export function expiredPatch(): CommandPatch {
  return { status: 'expired', error: 'COMMAND_ERR_EXPIRED' };
}

// ---------------------------------------------------------------------------------------------
// Delivery reports (`commands:events`, docs/ingest.md "Commands")

export type StatusEvent =
  | { kind: 'command'; id: string; imei: string; status: 'sent' | 'responded' | 'failed'; response?: string; error?: string; atMs: number; instance: string }
  | { kind: 'online'; imei: string; atMs: number; instance: string };

/** A `commands:events` entry, or undefined when it is not one this path understands. */
export function parseStatusEvent(f: Record<string, string>): StatusEvent | undefined {
  const atMs = Number(f.at);
  if (!f.imei || !f.instance || !Number.isFinite(atMs)) return undefined;
  if (f.status === 'online') return { kind: 'online', imei: f.imei, atMs, instance: f.instance };
  if (!f.id || (f.status !== 'sent' && f.status !== 'responded' && f.status !== 'failed')) return undefined;
  const event: StatusEvent = { kind: 'command', id: f.id, imei: f.imei, status: f.status, atMs, instance: f.instance };
  if (f.response !== undefined) event.response = f.response;
  if (f.error !== undefined) event.error = f.error;
  return event;
}

/** Ingest failures after which the command was certainly not written to the device. */
const NOT_DELIVERED = 'INGEST_ERR_NOT_CONNECTED';
const DROPPED = 'INGEST_ERR_DISCONNECTED';

export interface EventOutcome {
  patch: CommandPatch;
  /** the command went back to queued: route it again if the device is online elsewhere */
  reroute: boolean;
}

/**
 * What a delivery report does to a row: a patch, or undefined to ignore it (duplicate, stale
 * report of an instance the command is no longer routed to, or a terminal row).
 */
export function applyEvent(row: CommandRow, event: Extract<StatusEvent, { kind: 'command' }>): EventOutcome | undefined {
  if (isTerminal(row.status)) return undefined;
  if (row.instance && row.instance !== event.instance) return undefined;
  const at = iso(event.atMs);
  switch (event.status) {
    case 'sent':
      if (row.status === 'sent') return undefined;
      return { patch: { status: 'sent', sent_at: at, instance: event.instance }, reroute: false };
    case 'responded':
      return { patch: { status: 'responded', response: event.response ?? '', responded_at: at, sent_at: row.sent_at ?? at, instance: event.instance }, reroute: false };
    case 'failed': {
      const error = event.error ?? 'INGEST_ERR_UNKNOWN';
      const neverWritten = error === NOT_DELIVERED || (error === DROPPED && row.status !== 'sent');
      if (neverWritten) return { patch: requeuePatch(), reroute: true };
      return { patch: { status: 'failed', error, instance: event.instance }, reroute: false };
    }
  }
}
