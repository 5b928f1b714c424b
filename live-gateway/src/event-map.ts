/**
 * The device → entry → event map, read straight from Postgres (entries, Directus-managed plain
 * tables) and reloaded every few seconds, so an assignment change reaches live clients within
 * the refresh interval. A device may be assigned in several events (one entry each).
 */
import type pg from 'pg';

export interface EntryRef {
  entry: number;
  event: number;
  number: number | null;
  crew: string | null;
}

export class EventMap {
  private byImei = new Map<string, EntryRef[]>();
  private loadedAtMs: number | null = null;

  lookup(imei: string): readonly EntryRef[] | undefined {
    return this.byImei.get(imei);
  }

  replace(rows: readonly (EntryRef & { imei: string })[], nowMs: number): void {
    const next = new Map<string, EntryRef[]>();
    for (const { imei, ...ref } of rows) {
      const refs = next.get(imei);
      if (refs) refs.push(ref);
      else next.set(imei, [ref]);
    }
    this.byImei = next;
    this.loadedAtMs = nowMs;
  }

  get devices(): number {
    return this.byImei.size;
  }

  get lastLoadMs(): number | null {
    return this.loadedAtMs;
  }
}

export async function loadEntryRows(pool: pg.Pool): Promise<(EntryRef & { imei: string })[]> {
  const { rows } = await pool.query<{ entry: number; event: number; number: number | null; crew: string | null; imei: string }>({
    name: 'live-gateway-entries',
    text: 'SELECT id AS entry, event, number, crew, device AS imei FROM entries WHERE device IS NOT NULL AND event IS NOT NULL',
  });
  return rows;
}
