/**
 * Every Redis key and stream TRM uses (ARCHITECTURE.md, "Streams and queues"). A prefix
 * namespaces a whole deployment or a test; production uses the empty prefix.
 */
export interface RedisKeys {
  prefix: string;
  /** stream: one AVL record per entry, ingest-daemon → db-writer, live-gateway */
  positions: string;
  /** stream: dead letters of the db-writer (entries that cannot be decoded) */
  positionsDead: string;
  /** stream: what the db-writer committed (imei + time window), for live timing */
  positionsCommitted: string;
  /** stream: recompute requests → connector → recompute */
  recomputeRequests: string;
  /** stream: connector dead letters */
  connectorDead: string;
  /** stream: Codec 12 commands for one ingest instance */
  commands(instance: string): string;
  /** stream: command responses and delivery reports published by ingest instances */
  commandEvents: string;
  /** key with TTL: which ingest instance holds the device's socket */
  deviceRoute(imei: string): string;
  /** string with TTL: held while one router (route-command, status consumer, sweep) changes a command */
  commandLock(commandId: string): string;
  /** counter with TTL: commands accepted for a device in the current rate window */
  commandRate(imei: string): string;
  /** stream: safety alerts raised from telemetry */
  alerts: string;
  /** BullMQ queue names (BullMQ adds its own `bull:` prefix) */
  queues: { deviceCommands: string; startOrders: string; penalties: string };
  /** BullMQ prefix for this namespace */
  bullPrefix: string;
}

export function redisKeys(prefix = ''): RedisKeys {
  return {
    prefix,
    positions: `${prefix}telemetry:positions`,
    positionsDead: `${prefix}telemetry:positions:dead`,
    positionsCommitted: `${prefix}telemetry:committed`,
    recomputeRequests: `${prefix}recompute:requests`,
    connectorDead: `${prefix}connector:dead`,
    commands: (instance) => `${prefix}commands:${instance}`,
    commandEvents: `${prefix}commands:events`,
    deviceRoute: (imei) => `${prefix}device:route:${imei}`,
    commandLock: (id) => `${prefix}commands:lock:${id}`,
    commandRate: (imei) => `${prefix}commands:rate:${imei}`,
    alerts: `${prefix}safety:alerts`,
    queues: { deviceCommands: 'device-commands', startOrders: 'start-orders', penalties: 'evaluate-penalties' },
    bullPrefix: `${prefix}bull`,
  };
}

/** Approximate cap of the telemetry stream (`XADD … MAXLEN ~`). */
export const POSITIONS_STREAM_MAXLEN = 2_000_000;
/** Cap of the small control streams. */
export const CONTROL_STREAM_MAXLEN = 100_000;
