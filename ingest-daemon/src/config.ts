/**
 * The ingest-daemon's configuration: one spec, read once in main.ts (or the CLI command) from
 * the environment, validated fail-fast with every problem in one message. Units are in names.
 */
import { hostname } from 'node:os';
import { defaults, int, loadConfig, oneOf, port, str, url, type ConfigOf, type Env } from '../../common/src/config.ts';

export const ingestConfigSpec = {
  host: str('INGEST_HOST', '0.0.0.0'),
  port: port('INGEST_PORT', defaults.ingestPort),
  adminHost: str('INGEST_ADMIN_HOST', '127.0.0.1'),
  adminPort: port('INGEST_ADMIN_PORT', defaults.ingestAdminPort),
  redisUrl: url('REDIS_URL', defaults.redisUrl),
  databaseUrl: url('DATABASE_URL', defaults.databaseUrl),
  accept: oneOf('INGEST_ACCEPT', ['known', 'any'] as const, 'known'),
  maxConnections: int('INGEST_MAX_CONNECTIONS', 10_000, { min: 1 }),
  /** empty means hostname-pid */
  instanceId: str('INGEST_INSTANCE_ID', ''),
  redisPrefix: str('TRM_REDIS_PREFIX', ''),
  /** no byte for this long closes the socket; above the FMB "open link timeout" (300 s by default) */
  idleTimeoutMs: int('INGEST_IDLE_TIMEOUT_MS', 600_000, { min: 100 }),
  /** the IMEI must arrive and be checked within this */
  handshakeTimeoutMs: int('INGEST_HANDSHAKE_TIMEOUT_MS', 30_000, { min: 100 }),
  /** a started frame must complete within this (slow-sender protection) */
  frameTimeoutMs: int('INGEST_FRAME_TIMEOUT_MS', 30_000, { min: 100 }),
  /** per-connection frame cap; FMB packets are ≤ 1280 B, Codec 12 camera chunks ~2 KiB */
  maxFrameBytes: int('INGEST_MAX_FRAME_BYTES', 32 * 1024, { min: 64, max: 16 * 1024 * 1024 }),
  /** unread bytes we let pile up towards a device that does not read before dropping it */
  maxWriteBufferBytes: int('INGEST_MAX_WRITE_BUFFER_BYTES', 64 * 1024, { min: 1024 }),
  /** a frame waiting for its XADD fails (no ACK) after this */
  xaddTimeoutMs: int('INGEST_XADD_TIMEOUT_MS', 5_000, { min: 100 }),
  /** tolerated device clock lead; records further in the future are rejected */
  maxFutureMs: int('INGEST_MAX_FUTURE_MS', 10 * 60_000, { min: 0 }),
  commandTimeoutMs: int('INGEST_COMMAND_TIMEOUT_MS', 60_000, { min: 100 }),
  maxQueuedCommands: int('INGEST_MAX_QUEUED_COMMANDS', 16, { min: 1 }),
  routeTtlSeconds: int('INGEST_ROUTE_TTL_S', 60, { min: 2 }),
  devicesRefreshMs: int('INGEST_DEVICES_REFRESH_MS', 10_000, { min: 100 }),
  /** an unknown IMEI triggers a reload of `devices` at most this often */
  devicesMissRefreshMs: int('INGEST_DEVICES_MISS_REFRESH_MS', 5_000, { min: 0 }),
  /** SIGTERM: in-flight frames get this long to be stored and ACKed */
  drainTimeoutMs: int('INGEST_DRAIN_TIMEOUT_MS', 5_000, { min: 0 }),
  logLevel: str('LOG_LEVEL', 'info'),
};

export type IngestConfig = ConfigOf<typeof ingestConfigSpec>;

export function loadIngestConfig(env: Env, pid = process.pid): IngestConfig {
  const config = loadConfig(ingestConfigSpec, env);
  if (!config.instanceId) config.instanceId = `${hostname()}-${pid}`;
  return config;
}

/** Defaults with overrides, for tests and the benchmark (no environment involved). */
export function ingestConfig(overrides: Partial<IngestConfig> = {}): IngestConfig {
  return { ...loadConfig(ingestConfigSpec, {}), instanceId: 'test', ...overrides };
}
