/**
 * position_flags → positions.faulty (docs/recompute.md, "Operator workflow").
 *
 * Rule: a position's `faulty` is the `faulty` of the most recent flag (highest id) of its device
 * whose range covers it (`ts BETWEEN "from" AND coalesce("to", "from")`), or false when no flag
 * covers it. A faulty flag hides fixes; a later valid flag (faulty = false) inside it shows them
 * again; deleting a flag lets the flags that remain decide. `reconcile` re-applies that rule
 * over one device's range and changes only the rows whose value differs, so applying it twice,
 * or for a flag created, updated or deleted, is always correct.
 */

/** What the extension needs of the knex instance Directus gives it. */
export interface Knex {
  raw(sql: string, bindings: readonly unknown[]): Promise<{ rows: Record<string, unknown>[]; rowCount?: number }>;
}

export interface FlagRow {
  id: number;
  device: string;
  from: Date | string;
  to: Date | string | null;
  faulty: boolean;
  reason: string | null;
}

export interface Range {
  device: string;
  fromMs: number;
  toMs: number;
}

export const toMs = (v: Date | string | number): number => (v instanceof Date ? v.getTime() : typeof v === 'number' ? v : Date.parse(v));

export function flagRange(flag: Pick<FlagRow, 'device' | 'from' | 'to'>): Range {
  const fromMs = toMs(flag.from);
  return { device: String(flag.device), fromMs, toMs: flag.to == null ? fromMs : toMs(flag.to) };
}

const COVERING = `coalesce((SELECT f.faulty FROM position_flags f
  WHERE f.device = p.imei AND p.ts BETWEEN f."from" AND coalesce(f."to", f."from")
  ORDER BY f.id DESC LIMIT 1), false)`;

/** Re-applies the rule over [fromMs, toMs] of one device; returns the rows changed. */
export async function reconcile(db: Knex, range: Range): Promise<number> {
  const result = await db.raw(
    `UPDATE positions p SET faulty = ${COVERING}
     WHERE p.imei = ? AND p.ts BETWEEN ? AND ? AND p.faulty IS DISTINCT FROM ${COVERING}`,
    [range.device, new Date(range.fromMs).toISOString(), new Date(range.toMs).toISOString()],
  );
  return result.rowCount ?? 0;
}

/** Positions of the device inside the range (what a flag covers). */
export async function countPositions(db: Knex, range: Range): Promise<number> {
  const { rows } = await db.raw('SELECT count(*)::int AS n FROM positions WHERE imei = ? AND ts BETWEEN ? AND ?', [range.device, new Date(range.fromMs).toISOString(), new Date(range.toMs).toISOString()]);
  return Number(rows[0]?.n ?? 0);
}

/** Overlapping or touching ranges of the same device merged (fewer UPDATEs and requests). */
export function mergeRanges(ranges: readonly Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => (a.device < b.device ? -1 : a.device > b.device ? 1 : a.fromMs - b.fromMs));
  const out: Range[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && last.device === r.device && r.fromMs <= last.toMs) last.toMs = Math.max(last.toMs, r.toMs);
    else out.push({ ...r });
  }
  return out;
}
