/**
 * The `safety:alerts` stream contract (docs/safety.md, "The alerts stream"). Every change of an
 * alert — opened by the safety service, acknowledged or closed by an official, auto-closed,
 * edited, deleted — is one entry, written by the trm-safety Directus hook after the change is
 * committed, so there is one publisher whoever made the change. The live-gateway fans the
 * entries out to the race-control subscribers of `event`. Pure: shapes and parsing only.
 */
import type { AlertKind, AlertStatus, Severity } from './kinds.ts';

export const ALERT_CHANGES = ['opened', 'acknowledged', 'closed', 'updated', 'deleted'] as const;
export type AlertChange = (typeof ALERT_CHANGES)[number];

export interface AlertMessage {
  change: AlertChange;
  id: number;
  /** `${entry}:${kind}`, or null for an alert without an entry */
  key: string | null;
  event: number;
  stage: number | null;
  entry: number | null;
  /** race number of the entry */
  number: number | null;
  device: string | null;
  kind: AlertKind;
  severity: Severity;
  status: AlertStatus;
  /** GeoJSON Point, [lon, lat] */
  position: { type: 'Point'; coordinates: [number, number] } | null;
  /** ISO instant of this change (opened_at, acknowledged_at, closed_at, or now) */
  at: string;
  /** Directus user who made the change (the service account for the detector's changes) */
  by: string | null;
  opened_at: string | null;
  note: string | null;
}

const str = (v: unknown): string => (v === null || v === undefined ? '' : v instanceof Date ? v.toISOString() : typeof v === 'object' ? JSON.stringify(v) : String(v));

/** Flat [field, value, …] for XADD. */
export function toStreamFields(m: AlertMessage): string[] {
  const out: string[] = [];
  for (const k of ['change', 'id', 'key', 'event', 'stage', 'entry', 'number', 'device', 'kind', 'severity', 'status', 'position', 'at', 'by', 'opened_at', 'note'] as const) out.push(k, str(m[k]));
  return out;
}

const intOrNull = (v: string | undefined): number | null => (v === undefined || v === '' || !/^\d+$/.test(v) ? null : Number(v));
const textOrNull = (v: string | undefined): string | null => (v === undefined || v === '' ? null : v);

/** Parses one stream entry's flat fields; null when it is not an alert message. */
export function parseStreamFields(fields: readonly string[]): AlertMessage | null {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]] = fields[i + 1];
  const id = intOrNull(f.id);
  const event = intOrNull(f.event);
  if (id === null || event === null || !(ALERT_CHANGES as readonly string[]).includes(f.change)) return null;
  let position: AlertMessage['position'] = null;
  if (f.position) {
    try {
      const p = JSON.parse(f.position) as { type?: string; coordinates?: unknown };
      if (p.type === 'Point' && Array.isArray(p.coordinates)) position = { type: 'Point', coordinates: [Number(p.coordinates[0]), Number(p.coordinates[1])] };
    } catch {
      position = null;
    }
  }
  return {
    change: f.change as AlertChange,
    id,
    key: textOrNull(f.key),
    event,
    stage: intOrNull(f.stage),
    entry: intOrNull(f.entry),
    number: intOrNull(f.number),
    device: textOrNull(f.device),
    kind: f.kind as AlertKind,
    severity: f.severity as Severity,
    status: f.status as AlertStatus,
    position,
    at: f.at,
    by: textOrNull(f.by),
    opened_at: textOrNull(f.opened_at),
    note: textOrNull(f.note),
  };
}
