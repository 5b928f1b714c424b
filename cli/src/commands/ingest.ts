/** `trm ingest`: the Teltonika TCP server (ingest-daemon). Thin: config from env, build, run. */
import type { Command } from '../command.ts';

export const command: Command = {
  name: 'ingest',
  summary: 'Teltonika TCP server: Codec 8/8E/16 in, Codec 12 out, records into Redis Streams',
  usage: 'ingest',
  help: `Accepts Teltonika devices over TCP, ACKs each AVL packet once its records are XADDed to
telemetry:positions, delivers Codec 12 commands from commands:{instance}. See docs/ingest.md.

environment:
  INGEST_PORT            device TCP port (5027; 0 = any free port, logged)
  INGEST_ADMIN_PORT      /healthz and /metrics (5028)
  INGEST_ACCEPT          known (only IMEIs in the devices table) or any (known)
  INGEST_MAX_CONNECTIONS connection cap (10000)
  INGEST_INSTANCE_ID     this instance's id for device routes and its command stream (hostname-pid)
  REDIS_URL              redis://127.0.0.1:6379
  DATABASE_URL           postgres://127.0.0.1:5432/trm (read for INGEST_ACCEPT=known)
  INGEST_IDLE_TIMEOUT_MS, INGEST_HANDSHAKE_TIMEOUT_MS, INGEST_FRAME_TIMEOUT_MS, INGEST_MAX_FRAME_BYTES,
  INGEST_XADD_TIMEOUT_MS, INGEST_COMMAND_TIMEOUT_MS, INGEST_ROUTE_TTL_S, LOG_LEVEL: see docs/ingest.md`,
  async run(_args, env) {
    const { main } = await import('../../../ingest-daemon/src/main.ts');
    await main(env);
    // runs until SIGTERM/SIGINT: the lifecycle handler drains and exits the process
    return new Promise<number>(() => {});
  },
};
