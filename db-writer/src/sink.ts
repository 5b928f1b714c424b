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
 * Two set-based strategies, measured by bench/writer.bench.ts (docs/writer.md):
 *
 *  - `copy`   (default): optimistic COPY straight into the day's child, in one transaction:
 *             the speed of a bare COPY when the batch holds no record already stored, which is
 *             every batch but the replays after a crash. A unique violation (23505, a replay)
 *             or any other row-level error rolls it back and the batch takes the staged path:
 *             COPY into a per-connection temp table (ON COMMIT DELETE ROWS), then per day one
 *             named `INSERT … SELECT … ON CONFLICT (imei, ts) DO NOTHING`, then COMMIT. After a
 *             fallback the next STAGED_AFTER_CONFLICT batches go staged directly (replays
 *             come in runs).
 *  - `unnest`: per day one named `INSERT … SELECT … FROM unnest($1::text[], …) ON CONFLICT
 *             DO NOTHING`, in one transaction.
 */
import { finished } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { SqlMode } from './config.ts';
import { copyText, copyTextDirect, STAGE_COLUMNS } from './copy-text.ts';
import { utcDay, type PositionRow } from './record.ts';

export interface WriteResult {
  /** rows new to the table (the rest were already there: a redelivery) */
  inserted: number;
}

export interface PositionSink {
  write(rows: readonly PositionRow[]): Promise<WriteResult>;
}

const DAY_MS = 86_400_000;
const STAGED_AFTER_CONFLICT = 20;
const ROW_LEVEL = /^(22|23|54)/;
const ms = (column: string) => `'epoch'::timestamptz + ${column} * interval '1 millisecond'`;
const TARGET = 'imei, ts, lat, lon, alt, speed, heading, sats, priority, event_io, io, fix, rx, src';
const SOURCE = `imei, ${ms('ts_ms')}, lat, lon, alt, speed, heading, sats, priority, event_io, io, fix, ${ms('rx_ms')}, src`;

const CREATE_STAGE = `CREATE TEMP TABLE IF NOT EXISTS trm_writer_stage (
  imei text NOT NULL, ts_ms bigint NOT NULL, lat float8 NOT NULL, lon float8 NOT NULL,
  alt float4 NOT NULL, speed float4 NOT NULL, heading float4 NOT NULL, sats int2 NOT NULL,
  priority int2 NOT NULL, event_io int4 NOT NULL, io jsonb NOT NULL, fix bool NOT NULL,
  rx_ms bigint, src text
) ON COMMIT DELETE ROWS`;
const COPY_STAGE = `COPY trm_writer_stage (${STAGE_COLUMNS.join(', ')}) FROM STDIN`;
const UNNEST = `unnest(
    $1::text[], $2::int8[], $3::float8[], $4::float8[], $5::float4[], $6::float4[], $7::float4[],
    $8::int2[], $9::int2[], $10::int4[], $11::jsonb[], $12::bool[], $13::int8[], $14::text[]
  ) AS u(${STAGE_COLUMNS.join(', ')})`;
const ENSURE = { name: 'trm_writer_ensure_day', text: 'SELECT trm_ensure_position_partitions($1::date, 1)' };
const LAYOUT = `SELECT CASE WHEN to_regproc('trm_positions_layout') IS NULL THEN 'parent' ELSE trm_positions_layout() END AS layout`;

/** positions_YYYYMMDD, as trm_position_partition_name() names it */
export function childTable(day: number): string {
  return `positions_${new Date(day * DAY_MS).toISOString().slice(0, 10).replace(/-/g, '')}`;
}

type Layout = 'inheritance' | 'timescale' | 'parent';

export function createPgSink(pool: pg.Pool, options: { mode: SqlMode }): PositionSink {
  const ensuredDays = new Set<number>();
  const staged = new WeakSet<pg.PoolClient>();
  let layout: Layout | undefined;

  /** rows grouped by the table they go to: the day's child, or positions itself */
  function byTarget(rows: readonly PositionRow[]): Map<string, { day: number | null; rows: PositionRow[] }> {
    const out = new Map<string, { day: number | null; rows: PositionRow[] }>();
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

  async function insertCopy(client: pg.PoolClient, rows: readonly PositionRow[], targets: ReturnType<typeof byTarget>): Promise<number> {
    const copy = client.query(copyFrom(COPY_STAGE));
    copy.end(copyText(rows));
    await finished(copy);
    let inserted = 0;
    for (const [table, { day }] of targets) {
      // one batch is nearly always one day: then the whole stage goes to one child
      const where = day === null || targets.size === 1 ? '' : ` WHERE ts_ms >= ${day * DAY_MS} AND ts_ms < ${(day + 1) * DAY_MS}`;
      const name = `trm_writer_stage_${table}${where ? '_w' : ''}`;
      const result = await client.query({ name, text: `INSERT INTO ${table} (${TARGET}) SELECT ${SOURCE} FROM trm_writer_stage${where} ON CONFLICT (imei, ts) DO NOTHING` });
      inserted += result.rowCount ?? 0;
    }
    return inserted;
  }

  async function insertUnnest(client: pg.PoolClient, _rows: readonly PositionRow[], targets: ReturnType<typeof byTarget>): Promise<number> {
    let inserted = 0;
    for (const [table, group] of targets) {
      const n = group.rows.length;
      const cols: unknown[][] = STAGE_COLUMNS.map(() => new Array(n));
      for (let i = 0; i < n; i++) {
        const r = group.rows[i];
        cols[0][i] = r.imei; cols[1][i] = r.tsMs; cols[2][i] = r.lat; cols[3][i] = r.lon;
        cols[4][i] = r.alt; cols[5][i] = r.speedKmh; cols[6][i] = r.heading; cols[7][i] = r.sats;
        cols[8][i] = r.priority; cols[9][i] = r.eventIo; cols[10][i] = r.io; cols[11][i] = r.fix;
        cols[12][i] = r.rxMs; cols[13][i] = r.src;
      }
      const result = await client.query({ name: `trm_writer_unnest_${table}`, text: `INSERT INTO ${table} (${TARGET}) SELECT ${SOURCE} FROM ${UNNEST} ON CONFLICT (imei, ts) DO NOTHING`, values: cols });
      inserted += result.rowCount ?? 0;
    }
    return inserted;
  }

  const insert = options.mode === 'unnest' ? insertUnnest : insertCopy;
  let stagedBatchesLeft = 0;

  async function insertDirect(client: pg.PoolClient, targets: ReturnType<typeof byTarget>): Promise<number> {
    let inserted = 0;
    for (const [table, group] of targets) {
      const copy = client.query(copyFrom(`COPY ${table} (${TARGET}) FROM STDIN`));
      copy.end(copyTextDirect(group.rows));
      await finished(copy);
      inserted += copy.rowCount;
    }
    return inserted;
  }

  async function transaction(client: pg.PoolClient, rows: readonly PositionRow[]): Promise<number> {
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
      if (!staged.has(client)) {
        // only when a batch takes the staged path (the optimistic COPY needs no staging table);
        // outside the transaction: a rollback must not take the staging table with it
        await client.query(CREATE_STAGE);
        staged.add(client);
      }
    }
    await client.query('BEGIN');
    try {
      const inserted = await insert(client, rows, targets);
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
