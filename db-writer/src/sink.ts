/**
 * The Postgres side: one batch of rows → `positions`, idempotent on (imei, ts), in one
 * transaction. Two set-based strategies, measured by bench/writer.bench.ts (docs/writer.md):
 *
 *  - `copy`   (default): COPY the batch into a per-connection temp staging table
 *             (ON COMMIT DELETE ROWS), then one named `INSERT … SELECT … ON CONFLICT (imei, ts)
 *             DO NOTHING`, then COMMIT.
 *  - `unnest`: one named `INSERT … SELECT … FROM unnest($1::text[], …) ON CONFLICT DO NOTHING`.
 *
 * Before inserting, the UTC days the batch touches get their partitions
 * (`trm_ensure_position_partitions`, a no-op under TimescaleDB); days already ensured are
 * cached, and "no partition of relation" (23514) clears the cache and retries once.
 */
import { finished } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { SqlMode } from './config.ts';
import { copyText, STAGE_COLUMNS } from './copy-text.ts';
import { utcDay, type PositionRow } from './record.ts';

export interface WriteResult {
  /** rows new to the table (the rest were already there: a redelivery) */
  inserted: number;
}

export interface PositionSink {
  write(rows: readonly PositionRow[]): Promise<WriteResult>;
}

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
const INSERT_FROM_STAGE: pg.QueryConfig = {
  name: 'trm_writer_insert_stage',
  text: `INSERT INTO positions (${TARGET}) SELECT ${SOURCE} FROM trm_writer_stage ON CONFLICT (imei, ts) DO NOTHING`,
};
const INSERT_UNNEST = {
  name: 'trm_writer_insert_unnest',
  text: `INSERT INTO positions (${TARGET}) SELECT ${SOURCE} FROM unnest(
    $1::text[], $2::int8[], $3::float8[], $4::float8[], $5::float4[], $6::float4[], $7::float4[],
    $8::int2[], $9::int2[], $10::int4[], $11::jsonb[], $12::bool[], $13::int8[], $14::text[]
  ) AS u(${STAGE_COLUMNS.join(', ')}) ON CONFLICT (imei, ts) DO NOTHING`,
};
const ENSURE = { name: 'trm_writer_ensure_day', text: 'SELECT trm_ensure_position_partitions($1::date, 1)' };

export function createPgSink(pool: pg.Pool, options: { mode: SqlMode }): PositionSink {
  const ensuredDays = new Set<number>();
  const staged = new WeakSet<pg.PoolClient>();

  async function ensureDays(client: pg.PoolClient, rows: readonly PositionRow[]): Promise<void> {
    const days = new Set<number>();
    for (const r of rows) days.add(utcDay(r.tsMs));
    for (const day of days) {
      if (ensuredDays.has(day)) continue;
      await client.query({ ...ENSURE, values: [new Date(day * 86_400_000).toISOString().slice(0, 10)] });
      ensuredDays.add(day);
    }
  }

  async function insertCopy(client: pg.PoolClient, rows: readonly PositionRow[]): Promise<number> {
    if (!staged.has(client)) {
      await client.query(CREATE_STAGE);
      staged.add(client);
    }
    await client.query('BEGIN');
    try {
      const copy = client.query(copyFrom(COPY_STAGE));
      copy.end(copyText(rows));
      await finished(copy);
      const result = await client.query(INSERT_FROM_STAGE);
      await client.query('COMMIT');
      return result.rowCount ?? 0;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    }
  }

  async function insertUnnest(client: pg.PoolClient, rows: readonly PositionRow[]): Promise<number> {
    const n = rows.length;
    const cols: unknown[][] = STAGE_COLUMNS.map(() => new Array(n));
    for (let i = 0; i < n; i++) {
      const r = rows[i];
      cols[0][i] = r.imei; cols[1][i] = r.tsMs; cols[2][i] = r.lat; cols[3][i] = r.lon;
      cols[4][i] = r.alt; cols[5][i] = r.speedKmh; cols[6][i] = r.heading; cols[7][i] = r.sats;
      cols[8][i] = r.priority; cols[9][i] = r.eventIo; cols[10][i] = r.io; cols[11][i] = r.fix;
      cols[12][i] = r.rxMs; cols[13][i] = r.src;
    }
    // a single statement: atomic, and committed when it returns
    const result = await client.query({ ...INSERT_UNNEST, values: cols });
    return result.rowCount ?? 0;
  }

  const insert = options.mode === 'unnest' ? insertUnnest : insertCopy;

  return {
    async write(rows) {
      if (rows.length === 0) return { inserted: 0 };
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await ensureDays(client, rows);
        try {
          return { inserted: await insert(client, rows) };
        } catch (error) {
          if ((error as { code?: string }).code !== '23514') throw error;
          // a partition vanished (retention dropped it) or was never made: ensure and retry once
          ensuredDays.clear();
          await ensureDays(client, rows);
          return { inserted: await insert(client, rows) };
        }
      } catch (error) {
        // a failed connection must not go back to the pool; a data error leaves it usable
        const code = (error as { code?: string }).code;
        if (!code || !/^(22|23|54)/.test(code)) broken = error as Error;
        throw error;
      } finally {
        client.release(broken);
      }
    },
  };
}
