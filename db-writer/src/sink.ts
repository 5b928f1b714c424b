/**
 * The Postgres side: one batch of rows → `positions`, idempotent on (imei, ts), in one
 * transaction. Layout (db-init/002_positions.sql, `trm_positions_layout()`):
 *
 *  - `inheritance` (no TimescaleDB): one child table per UTC day, unique (imei, ts) in each.
 *    The parent's routing trigger works row by row (dynamic SQL per row, far too slow for the
 *    hot path), so the writer inserts straight into the day's child, `positions_YYYYMMDD`,
 *    which it creates first with `trm_ensure_position_partitions` (days already ensured are
 *    cached; a child that vanished — 42P01 — or a row outside its CHECK — 23514 — clears the
 *    cache and the batch is retried once).
 *  - `timescale`: the hypertable itself (chunks are TimescaleDB's business).
 *
 * Two SQL strategies (`WRITER_SQL`), measured by bench/writer.bench.ts (docs/writer.md). Both send
 * the COPY lines the entry decoder made from the reply's bytes (entry-codec.ts), untouched:
 *
 *  - `copy`   (default): optimistic COPY straight into the day's child, in one transaction:
 *             the speed of a bare COPY when the batch holds no record already stored, which is
 *             every batch but the replays after a crash. A unique violation (23505, a replay)
 *             or any other row-level error rolls it back and the batch takes the staged path.
 *             After a fallback the next STAGED_AFTER_CONFLICT batches go staged directly
 *             (replays come in runs).
 *  - `staged`: always the staged path: COPY into a per-connection temp table (ON COMMIT DELETE
 *             ROWS), then per day one named `INSERT … SELECT … ON CONFLICT (imei, ts) DO
 *             NOTHING`, then COMMIT.
 */
import { finished } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { SqlMode } from './config.ts';
import { TARGET_COLUMNS } from './copy-text.ts';
import type { EncodedRow } from './entry-codec.ts';
import { utcDay } from './record.ts';

export interface WriteResult {
  /** rows new to the table (the rest were already there: a redelivery) */
  inserted: number;
}

export interface PositionSink {
  write(rows: readonly EncodedRow[]): Promise<WriteResult>;
}

const DAY_MS = 86_400_000;
const STAGED_AFTER_CONFLICT = 20;
const ROW_LEVEL = /^(22|23|54)/;
const TARGET = TARGET_COLUMNS.join(', ');

const CREATE_STAGE = `CREATE TEMP TABLE IF NOT EXISTS trm_writer_stage (
  imei text NOT NULL, ts timestamptz NOT NULL, lat float8 NOT NULL, lon float8 NOT NULL,
  alt float4 NOT NULL, speed float4 NOT NULL, heading float4 NOT NULL, sats int2 NOT NULL,
  priority int2 NOT NULL, event_io int4 NOT NULL, io jsonb NOT NULL, fix bool NOT NULL,
  rx timestamptz, src text
) ON COMMIT DELETE ROWS`;
const COPY_STAGE = `COPY trm_writer_stage (${TARGET}) FROM STDIN`;
const ENSURE = { name: 'trm_writer_ensure_day', text: 'SELECT trm_ensure_position_partitions($1::date, 1)' };
const LAYOUT = `SELECT CASE WHEN to_regproc('trm_positions_layout') IS NULL THEN 'parent' ELSE trm_positions_layout() END AS layout`;

/** positions_YYYYMMDD, as trm_position_partition_name() names it */
export function childTable(day: number): string {
  return `positions_${new Date(day * DAY_MS).toISOString().slice(0, 10).replace(/-/g, '')}`;
}

type Layout = 'inheritance' | 'timescale' | 'parent';

/** The COPY payload of rows: one slice when they lie back to back in one buffer (a batch as read). */
export function copyPayload(rows: readonly EncodedRow[]): Buffer {
  if (rows.length === 0) return Buffer.alloc(0);
  const first = rows[0];
  let contiguous = true;
  for (let i = 1; i < rows.length && contiguous; i++) contiguous = rows[i].buf === first.buf && rows[i].start === rows[i - 1].end;
  if (contiguous) return first.buf.subarray(first.start, rows[rows.length - 1].end);
  return Buffer.concat(rows.map((r) => r.buf.subarray(r.start, r.end)));
}

export function createPgSink(pool: pg.Pool, options: { mode: SqlMode }): PositionSink {
  const ensuredDays = new Set<number>();
  const staged = new WeakSet<pg.PoolClient>();
  let layout: Layout | undefined;

  /** rows grouped by the table they go to: the day's child, or positions itself */
  function byTarget(rows: readonly EncodedRow[]): Map<string, { day: number | null; rows: EncodedRow[] }> {
    const out = new Map<string, { day: number | null; rows: EncodedRow[] }>();
    let lastDay: number | null = null;
    let lastTable = 'positions';
    for (const row of rows) {
      const day = layout === 'inheritance' ? utcDay(row.tsMs) : null;
      if (day !== lastDay) {
        lastDay = day;
        lastTable = day === null ? 'positions' : childTable(day);
      }
      const table = lastTable;
      let group = out.get(table);
      if (!group) out.set(table, (group = { day, rows: [] }));
      group.rows.push(row);
    }
    return out;
  }

  async function ensureDays(client: pg.PoolClient, days: Iterable<number>): Promise<void> {
    for (const day of days) {
      if (ensuredDays.has(day)) continue;
      await client.query({ ...ENSURE, values: [new Date(day * DAY_MS).toISOString().slice(0, 10)] });
      ensuredDays.add(day);
    }
  }

  async function copyInto(client: pg.PoolClient, statement: string, payload: Buffer): Promise<number> {
    const copy = client.query(copyFrom(statement));
    copy.end(payload);
    await finished(copy);
    return copy.rowCount;
  }

  /** COPY into the staging table, then per target INSERT … SELECT … ON CONFLICT DO NOTHING. */
  async function insertStaged(client: pg.PoolClient, rows: readonly EncodedRow[], targets: ReturnType<typeof byTarget>): Promise<number> {
    await copyInto(client, COPY_STAGE, copyPayload(rows));
    let inserted = 0;
    for (const [table, { day }] of targets) {
      // one batch is nearly always one day: then the whole stage goes to one child
      const where = day === null || targets.size === 1 ? '' : ` WHERE ts >= '${new Date(day * DAY_MS).toISOString()}' AND ts < '${new Date((day + 1) * DAY_MS).toISOString()}'`;
      const name = `trm_writer_stage_${table}${where ? '_w' : ''}`;
      const result = await client.query({ name, text: `INSERT INTO ${table} (${TARGET}) SELECT ${TARGET} FROM trm_writer_stage${where} ON CONFLICT (imei, ts) DO NOTHING` });
      inserted += result.rowCount ?? 0;
    }
    return inserted;
  }

  let stagedBatchesLeft = 0;

  async function insertDirect(client: pg.PoolClient, targets: ReturnType<typeof byTarget>): Promise<number> {
    let inserted = 0;
    for (const [table, group] of targets) inserted += await copyInto(client, `COPY ${table} (${TARGET}) FROM STDIN`, copyPayload(group.rows));
    return inserted;
  }

  async function transaction(client: pg.PoolClient, rows: readonly EncodedRow[]): Promise<number> {
    const targets = byTarget(rows);
    const days = [...targets.values()].flatMap((t) => (t.day === null ? [] : [t.day]));
    await ensureDays(client, days);
    if (options.mode === 'copy') {
      if (stagedBatchesLeft > 0) stagedBatchesLeft -= 1;
      else {
        // one target (nearly every batch): the COPY alone is the transaction, committed (durably,
        // as any COMMIT) before Postgres answers it; several days: one explicit transaction
        const explicit = targets.size > 1;
        if (explicit) await client.query('BEGIN');
        try {
          const inserted = await insertDirect(client, targets);
          if (explicit) await client.query('COMMIT');
          return inserted;
        } catch (error) {
          if (explicit) await client.query('ROLLBACK').catch(() => {});
          if (!ROW_LEVEL.test(String((error as { code?: string }).code))) throw error;
          stagedBatchesLeft = STAGED_AFTER_CONFLICT; // a replay (or a bad row): the staged path sorts it out
        }
      }
    }
    if (!staged.has(client)) {
      // only when a batch takes the staged path (the optimistic COPY needs no staging table);
      // outside the transaction: a rollback must not take the staging table with it
      await client.query(CREATE_STAGE);
      staged.add(client);
    }
    await client.query('BEGIN');
    try {
      const inserted = await insertStaged(client, rows, targets);
      await client.query('COMMIT');
      return inserted;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    }
  }

  return {
    async write(rows) {
      if (rows.length === 0) return { inserted: 0 };
      const client = await pool.connect();
      let broken: Error | undefined;
      // the server going away between two queries surfaces as an 'error' event on the client,
      // which the pool only listens to while the client is idle: without this, a crash
      const onError = (error: Error) => {
        broken = error;
      };
      client.on('error', onError);
      try {
        layout ??= (await client.query<{ layout: Layout }>(LAYOUT)).rows[0].layout;
        try {
          return { inserted: await transaction(client, rows) };
        } catch (error) {
          const code = (error as { code?: string }).code;
          if (code !== '42P01' && code !== '23514') throw error;
          // a child vanished (retention dropped it) or the layout changed: look again, once
          ensuredDays.clear();
          layout = (await client.query<{ layout: Layout }>(LAYOUT)).rows[0].layout;
          return { inserted: await transaction(client, rows) };
        }
      } catch (error) {
        // a failed connection must not go back to the pool; a data error leaves it usable
        const code = (error as { code?: string }).code;
        if (!code || !/^(22|23|54)/.test(code)) broken = error as Error;
        throw error;
      } finally {
        client.off('error', onError);
        client.release(broken);
      }
    },
  };
}
