/** The gateway's Prometheus metrics (docs/live.md, "Metrics"), prefix `trm_live_`. */
import { Registry, type Counter, type Histogram } from '../../common/src/metrics.ts';

export interface GatewayMetrics {
  registry: Registry;
  consumed: Counter;
  fannedOut: Counter;
  delivered: Counter;
  frames: Counter;
  coalesced: Counter;
  slowCloses: Counter;
  errors: Counter;
  directusCalls: Counter;
  deadPeers: Counter;
  snapshotSeconds: Histogram;
  alertsConsumed: Counter;
  alertsDelivered: Counter;
}

export function createGatewayMetrics(gauges: { connections(): number; subscriptions(): number; eventMapDevices(): number }): GatewayMetrics {
  const registry = new Registry('trm_live_');
  registry.gauge('connections', 'open /live WebSocket connections', gauges.connections);
  registry.gauge('subscriptions', 'event subscriptions over all connections', gauges.subscriptions);
  registry.gauge('event_map_devices', 'devices assigned to an entry in the loaded event map', gauges.eventMapDevices);
  return {
    registry,
    consumed: registry.counter('positions_consumed_total', 'stream entries read from telemetry:positions'),
    fannedOut: registry.counter('positions_fanned_out_total', 'positions (per event and entry) matched to at least one subscribed event'),
    delivered: registry.counter('messages_delivered_total', 'position messages written to client sockets'),
    frames: registry.counter('frames_sent_total', 'WebSocket frames carrying positions (single or batch)'),
    coalesced: registry.counter('coalesced_total', 'queued positions replaced by a newer one of the same entry before sending'),
    slowCloses: registry.counter('slow_client_closes_total', 'clients closed with 4008 SLOW_CLIENT'),
    errors: registry.counter('errors_total', 'error messages sent to clients, by code'),
    directusCalls: registry.counter('directus_requests_total', 'requests to Directus (auth and authorisation only), by status'),
    deadPeers: registry.counter('dead_peers_total', 'connections terminated for not answering a ping'),
    alertsConsumed: registry.counter('alerts_consumed_total', 'entries read from safety:alerts'),
    alertsDelivered: registry.counter('alerts_delivered_total', 'alert messages written to client sockets (snapshots not counted)'),
    snapshotSeconds: registry.histogram('snapshot_seconds', 'time to read a subscribe snapshot from Postgres'),
  };
}
