/**
 * The alert workflow (docs/safety.md, "Workflow"), enforced by the trm-safety Directus hook.
 * Pure.
 *
 *   open ──acknowledge──▶ acknowledged ──close──▶ closed
 *     └───────────────────close──────────────────▶ ┘
 *
 * A status set to the one it already has is not a transition (nothing is stamped). closed is
 * final: a new occurrence is a new alert (the dedup key is free again).
 */
import { ALERT_STATUSES, type AlertStatus } from './kinds.ts';

const NEXT: Record<AlertStatus, readonly AlertStatus[]> = {
  open: ['acknowledged', 'closed'],
  acknowledged: ['closed'],
  closed: [],
};

export function isStatus(value: unknown): value is AlertStatus {
  return typeof value === 'string' && (ALERT_STATUSES as readonly string[]).includes(value);
}

/** null when allowed, else why not. */
export function transitionError(from: AlertStatus, to: AlertStatus): string | null {
  if (from === to) return null;
  if (NEXT[from].includes(to)) return null;
  return `an alert goes open → acknowledged → closed; ${from} → ${to} is not allowed`;
}

/** The fields the hook stamps for a transition, from the accountability and the clock. */
export function stampsFor(from: AlertStatus, to: AlertStatus, user: string | null, nowIso: string): Record<string, unknown> {
  if (from === to) return {};
  if (to === 'acknowledged') return { acknowledged_at: nowIso, acknowledged_by: user };
  if (to === 'closed') return { closed_at: nowIso, closed_by: user };
  return {};
}

/** Fields an update may never set: the alert's identity, and the stamps the hook fills. */
export const IMMUTABLE_FIELDS = ['key', 'event', 'entry', 'device', 'kind', 'opened_at'] as const;
export const STAMPED_FIELDS = ['acknowledged_at', 'acknowledged_by', 'closed_at', 'closed_by'] as const;
