/**
 * What a batch committed, per device: the shape of one `telemetry:committed` entry's
 * `windows` field (docs/writer.md). Pure.
 */

export interface CommittedWindow {
  imei: string;
  /** earliest device time in the batch, ms since epoch */
  from: number;
  /** latest device time in the batch, ms since epoch */
  to: number;
  /** records of this device in the batch (replayed duplicates included) */
  count: number;
}

export function committedWindows(rows: readonly { imei: string; tsMs: number }[]): CommittedWindow[] {
  const byImei = new Map<string, CommittedWindow>();
  for (const row of rows) {
    const w = byImei.get(row.imei);
    if (!w) byImei.set(row.imei, { imei: row.imei, from: row.tsMs, to: row.tsMs, count: 1 });
    else {
      if (row.tsMs < w.from) w.from = row.tsMs;
      if (row.tsMs > w.to) w.to = row.tsMs;
      w.count += 1;
    }
  }
  return [...byImei.values()].sort((a, b) => (a.imei < b.imei ? -1 : a.imei > b.imei ? 1 : 0));
}
