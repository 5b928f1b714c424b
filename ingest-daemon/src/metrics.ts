/** The ingest-daemon's Prometheus metrics (docs/ingest.md, "Metrics"). */
import { Registry } from '../../common/src/metrics.ts';

export function createIngestMetrics(registry = new Registry('ingest_')) {
  return {
    registry,
    connections: registry.gauge('connections', 'open device TCP connections'),
    online: registry.gauge('devices_online', 'connections past the IMEI handshake'),
    connectionsRefused: registry.counter('connections_refused_total', 'connections closed at accept because the cap was reached'),
    disconnects: registry.counter('disconnects_total', 'connections closed, by reason'),
    handshakes: registry.counter('handshakes_total', 'IMEI handshakes, by result (accepted, unknown, bad)'),
    frames: registry.counter('frames_total', 'frames received, by codec'),
    records: registry.counter('records_total', 'AVL records written to the positions stream'),
    recordsRejected: registry.counter('records_rejected_total', 'records dropped for breaking an invariant, by reason'),
    noFix: registry.counter('records_no_fix_total', 'records kept with fix=0'),
    badCrc: registry.counter('bad_crc_total', 'packets with a CRC mismatch (not ACKed)'),
    frameErrors: registry.counter('frame_errors_total', 'frames refused, by error code'),
    xaddErrors: registry.counter('xadd_errors_total', 'frames whose XADD failed (not ACKed)'),
    acks: registry.counter('acks_total', 'ACKs written'),
    ackLatency: registry.histogram('ack_latency_seconds', 'frame complete → ACK written (XADD round trip included)', [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]),
    commandsSent: registry.counter('commands_sent_total', 'Codec 12 commands written to a device'),
    commandsResponded: registry.counter('commands_responded_total', 'Codec 12 responses matched to a command'),
    commandsFailed: registry.counter('commands_failed_total', 'commands failed, by error code'),
    devicesKnown: registry.gauge('devices_known', 'IMEIs in the cached devices set'),
  };
}

export type IngestMetrics = ReturnType<typeof createIngestMetrics>;
