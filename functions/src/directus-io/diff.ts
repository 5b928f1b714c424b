/**
 * Diff of wanted result rows against the stored ones, by natural key (docs/recompute.md,
 * "Diff and upsert"; used by recompute, evaluate-penalties and generate-start-order). Pure.
 *
 *   wanted, not stored      → create
 *   stored, not wanted      → delete (e.g. an infringement that a faulty flag removed)
 *   both, some owned field differs → update of the differing fields only, by primary key
 *   both, equal             → untouched (no write, so Directus pushes nothing)
 *
 * Values are compared as the database gives them back: instants as epoch milliseconds,
 * `real` columns at single precision (Math.fround), JSON structurally with sorted keys.
 */

export type FieldKind = 'int' | 'real' | 'instant' | 'json' | 'text' | 'bool';
export type FieldSpec = Record<string, FieldKind>;

export interface StoredRow {
  id: number | string;
  key: string;
  [field: string]: unknown;
}

export interface Diff<T> {
  create: T[];
  update: ({ id: number | string } & Record<string, unknown>)[];
  delete: (number | string)[];
  unchanged: number;
}

function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const o = value as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
    .join(',')}}`;
}

function normalise(kind: FieldKind, value: unknown): unknown {
  if (value === undefined || value === null) return null;
  switch (kind) {
    case 'int':
      return Number(value);
    case 'real':
      return Math.fround(Number(value));
    case 'instant': {
      const ms = typeof value === 'number' ? value : Date.parse(String(value));
      return Number.isNaN(ms) ? String(value) : ms;
    }
    case 'json':
      return canonicalJson(typeof value === 'string' ? safeParse(value) : value);
    case 'bool':
      return value === true || value === 1 || value === 'true';
    case 'text':
      return String(value);
  }
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function sameValue(kind: FieldKind, a: unknown, b: unknown): boolean {
  return normalise(kind, a) === normalise(kind, b);
}

export function diffRows<T extends { key: string }>(wanted: readonly T[], stored: readonly StoredRow[], spec: FieldSpec): Diff<T> {
  const byKey = new Map<string, StoredRow>();
  for (const row of stored) byKey.set(row.key, row);
  const out: Diff<T> = { create: [], update: [], delete: [], unchanged: 0 };
  const seen = new Set<string>();
  for (const row of wanted) {
    seen.add(row.key);
    const old = byKey.get(row.key);
    if (!old) {
      out.create.push(row);
      continue;
    }
    const changed: Record<string, unknown> = {};
    let any = false;
    for (const [field, kind] of Object.entries(spec)) {
      const next = (row as Record<string, unknown>)[field];
      if (!sameValue(kind, next, old[field])) {
        changed[field] = next;
        any = true;
      }
    }
    if (any) out.update.push({ id: old.id, ...changed });
    else out.unchanged += 1;
  }
  for (const row of stored) if (!seen.has(row.key)) out.delete.push(row.id);
  out.delete.sort((a, b) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a) < String(b) ? -1 : 1));
  return out;
}
