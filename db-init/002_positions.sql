-- positions: every AVL record the db-writer commits (ARCHITECTURE.md, "Collections").
--
-- Unique on (imei, ts): delivery is at-least-once, so writers insert with
-- ON CONFLICT (imei, ts) DO NOTHING and a replayed record is a no-op. That unique index also
-- serves every per-device time-range read (WHERE imei = $1 AND ts BETWEEN $2 AND $3).
-- faulty: set by operators through position_flags; every timing read filters faulty = false.
-- fix: false when the device had no GPS fix (0 satellites or 0,0); kept, ignored by timing.
--
-- Layout:
--  * TimescaleDB present: a hypertable chunked by day. Its unique indexes must contain ts, so
--    the primary key is (id, ts) and Directus cannot register it (Directus 11 needs a
--    one-column primary key); operators browse fixes through the position_flags workflow.
--  * Otherwise: PostgreSQL partitioning by inheritance, one child per UTC day
--    (positions_YYYYMMDD, CHECK on ts, its own primary key and unique (imei, ts)). Declarative
--    partitioning was tried first: Directus 11's schema inspector only sees relkind 'r' tables
--    with a one-column primary key, so a declaratively partitioned positions was invisible to
--    the admin app. The parent is a plain table that never holds rows (CHECK (false) NO INHERIT);
--    a row trigger routes inserts on the parent to the day's child, creating it when missing,
--    and bulk writers insert into the children directly. Reads on the parent see every child;
--    constraint_exclusion (default "partition") skips the children outside a ts range.

CREATE SEQUENCE IF NOT EXISTS positions_id_seq AS bigint;

DO $$
DECLARE
  columns text := $cols$
    id          bigint           NOT NULL DEFAULT nextval('positions_id_seq'),
    imei        varchar(20)      NOT NULL,
    ts          timestamptz      NOT NULL,
    lat         double precision NOT NULL,
    lon         double precision NOT NULL,
    alt         real             NOT NULL DEFAULT 0,
    speed       real             NOT NULL DEFAULT 0,
    heading     real             NOT NULL DEFAULT 0,
    sats        smallint         NOT NULL DEFAULT 0,
    priority    smallint         NOT NULL DEFAULT 0,
    event_io    integer          NOT NULL DEFAULT 0,
    io          jsonb            NOT NULL DEFAULT '{}'::jsonb,
    fix         boolean          NOT NULL DEFAULT true,
    faulty      boolean          NOT NULL DEFAULT false,
    rx          timestamptz,
    src         varchar(64),
    inserted_at timestamptz      NOT NULL DEFAULT now()
  $cols$;
BEGIN
  IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
    EXECUTE format('CREATE TABLE positions (%s, PRIMARY KEY (id, ts), UNIQUE (imei, ts))', columns);
    PERFORM create_hypertable('positions', 'ts', chunk_time_interval => interval '1 day');
  ELSE
    EXECUTE format('CREATE TABLE positions (%s, PRIMARY KEY (id), UNIQUE (imei, ts))', columns);
    ALTER TABLE positions ADD CONSTRAINT positions_parent_holds_no_rows CHECK (false) NO INHERIT;
  END IF;
END
$$;
ALTER SEQUENCE positions_id_seq OWNED BY positions.id;

COMMENT ON TABLE positions IS 'AVL records from Teltonika devices, written by the TRM db-writer (unique imei, ts)';
COMMENT ON COLUMN positions.faulty IS 'set by operators through position_flags; timing ignores faulty fixes';
COMMENT ON COLUMN positions.fix IS 'false when the device reported no GPS fix; timing ignores it';

-- 'inheritance', 'timescale': how positions is partitioned on this server.
CREATE OR REPLACE FUNCTION trm_positions_layout() RETURNS text LANGUAGE sql STABLE AS $fn$
  SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb')
               AND EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'positions_pkey'
                           AND array_length(conkey, 1) = 2)
              THEN 'timescale' ELSE 'inheritance' END
$fn$;

-- The child table holding day d (UTC), e.g. positions_20261122.
CREATE OR REPLACE FUNCTION trm_position_partition_name(d date) RETURNS text
LANGUAGE sql IMMUTABLE AS $fn$ SELECT 'positions_' || to_char(d, 'YYYYMMDD') $fn$;

-- Creates the daily children covering [from_day, from_day + days); returns how many it made.
-- A no-op under TimescaleDB, which makes chunks itself. Safe to call concurrently and
-- repeatedly: the db-writer calls it for the days of every batch it has not seen yet.
CREATE OR REPLACE FUNCTION trm_ensure_position_partitions(from_day date, days integer DEFAULT 1)
RETURNS integer
LANGUAGE plpgsql
AS $fn$
DECLARE
  d date;
  name text;
  created integer := 0;
BEGIN
  IF trm_positions_layout() = 'timescale' THEN
    RETURN 0;
  END IF;
  FOR i IN 0 .. greatest(days, 1) - 1 LOOP
    d := from_day + i;
    name := trm_position_partition_name(d);
    IF to_regclass(format('public.%I', name)) IS NULL THEN
      BEGIN
        -- one transaction-scoped lock per day name so concurrent writers don't race
        PERFORM pg_advisory_xact_lock(hashtext(name));
        IF to_regclass(format('public.%I', name)) IS NULL THEN
          EXECUTE format(
            'CREATE TABLE public.%1$I (
               PRIMARY KEY (id),
               UNIQUE (imei, ts),
               CHECK (ts >= %2$L AND ts < %3$L)
             ) INHERITS (public.positions)',
            name, (d::timestamp AT TIME ZONE 'UTC'), ((d + 1)::timestamp AT TIME ZONE 'UTC'));
          created := created + 1;
        END IF;
      EXCEPTION WHEN duplicate_table THEN
        NULL; -- another session created it first
      END;
    END IF;
  END LOOP;
  RETURN created;
END
$fn$;

-- Routes a row inserted into the parent to the day's child (creating it when missing).
-- ON CONFLICT (imei, ts) DO NOTHING inside keeps replays idempotent for every inserter.
CREATE OR REPLACE FUNCTION trm_positions_route() RETURNS trigger
LANGUAGE plpgsql
AS $fn$
DECLARE
  d date := (NEW.ts AT TIME ZONE 'UTC')::date;
  name text := trm_position_partition_name(d);
BEGIN
  IF to_regclass(format('public.%I', name)) IS NULL THEN
    PERFORM trm_ensure_position_partitions(d, 1);
  END IF;
  EXECUTE format('INSERT INTO public.%I SELECT ($1).* ON CONFLICT (imei, ts) DO NOTHING', name) USING NEW;
  RETURN NULL;
END
$fn$;

DO $$
BEGIN
  IF trm_positions_layout() = 'inheritance' THEN
    CREATE TRIGGER positions_route BEFORE INSERT ON positions
      FOR EACH ROW EXECUTE FUNCTION trm_positions_route();
  END IF;
END
$$;

-- Children a week back (late uploads from devices that were offline) and two weeks ahead.
SELECT trm_ensure_position_partitions((now() AT TIME ZONE 'UTC')::date - 7, 22);
