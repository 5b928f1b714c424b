/** The writer's Prometheus metrics (docs/writer.md, "Metrics"). */
import { Registry } from '../../common/src/metrics.ts';

export type WriterMetrics = ReturnType<typeof createWriterMetrics>;

export function createWriterMetrics(registry = new Registry('trm_writer_')) {
  return {
    registry,
    rows: registry.counter('rows_total', 'records committed to positions (redeliveries included)'),
    inserted: registry.counter('inserted_total', 'records new to positions'),
    batches: registry.counter('batches_total', 'batches committed'),
    deadLetters: registry.counter('dead_letters_total', 'entries sent to the dead-letter stream'),
    retries: registry.counter('retries_total', 'batch attempts that failed and were retried'),
    claimed: registry.counter('claimed_total', "entries claimed from dead consumers' pending lists"),
    batchRows: registry.histogram('batch_rows', 'records per batch', [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000]),
    commitSeconds: registry.histogram('commit_seconds', 'time to write and commit one batch'),
    // stream entry id time (XADD on the Redis clock) to COMMIT: the lag a spectator sees
    recordAgeSeconds: registry.histogram('record_age_seconds', 'time from XADD to COMMIT per record', [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]),
    rowsPerSecond: registry.gauge('rows_per_second', 'records committed per second over the last monitor interval'),
    lag: registry.gauge('lag', 'entries in the stream not yet delivered to group processor (XINFO GROUPS lag)'),
    pending: registry.gauge('pending', 'entries delivered to the group and not yet acknowledged'),
    streamLength: registry.gauge('stream_length', 'XLEN of the positions stream'),
    backlogRatio: registry.gauge('backlog_ratio', '(lag + pending) / stream cap; trimming loses data at 1'),
    degraded: registry.gauge('degraded', '1 while the backlog approaches the stream cap or the database fails'),
    dbUp: registry.gauge('db_up', '0 while batches are failing against Postgres'),
  };
}
