-- Extensions TRM relies on. PostGIS always (geometry of courses, waypoints, zones);
-- TimescaleDB only when the server has it packaged: positions then becomes a hypertable,
-- otherwise 002 falls back to native range partitioning by day.
CREATE EXTENSION IF NOT EXISTS postgis;

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') THEN
    BEGIN
      CREATE EXTENSION IF NOT EXISTS timescaledb;
    EXCEPTION WHEN OTHERS THEN
      -- packaged but not preloaded (shared_preload_libraries): keep the native fallback
      RAISE NOTICE 'timescaledb is packaged but cannot be loaded (%); using native partitioning', SQLERRM;
    END;
  END IF;
END
$$;
