/** Prometheus metrics of the safety service (`/metrics`, prefix trm_safety_). */
import { Registry } from '../../common/src/metrics.ts';

export function createSafetyMetrics() {
  const registry = new Registry('trm_safety_');
  return {
    registry,
    records: registry.counter('records_total', 'telemetry records read from group safety'),
    recordsBad: registry.counter('records_bad_total', 'stream entries that could not be decoded (acknowledged, skipped)'),
    recordsFaulty: registry.counter('records_faulty_total', 'records of instants flagged faulty (ignored)'),
    intents: registry.counter('intents_total', 'open/close intents of the detector, by type and kind'),
    opened: registry.counter('alerts_opened_total', 'alerts created through Directus, by kind'),
    closed: registry.counter('alerts_closed_total', 'alerts closed by the service, by kind and reason'),
    deduplicated: registry.counter('alerts_deduplicated_total', 'open intents whose key already had an open alert, by kind'),
    writeErrors: registry.counter('alert_write_errors_total', 'alert writes refused by Directus (not retried), by kind'),
    retries: registry.counter('alert_write_retries_total', 'alert writes retried after a retryable failure'),
    refreshErrors: registry.counter('refresh_errors_total', 'failed course/flag reloads'),
    writeSeconds: registry.histogram('alert_write_seconds', 'Directus write time of one alert change', [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]),
    recordAgeSeconds: registry.histogram('record_age_seconds', 'server receive → detector, per record', [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 30, 120]),
    entries: registry.gauge('entries', 'entries of live events in the loaded course'),
    tracked: registry.gauge('tracked_entries', 'entries with detector state'),
  };
}

export type SafetyMetrics = ReturnType<typeof createSafetyMetrics>;
