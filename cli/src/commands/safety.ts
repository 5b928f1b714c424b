/** `trm safety`: safety alerts from the telemetry stream (safety/src/main.ts; docs/safety.md). */
import type { Command } from '../command.ts';

const flags: Record<string, string> = {
  consumer: 'SAFETY_CONSUMER',
  'admin-port': 'SAFETY_ADMIN_PORT',
  'tick-ms': 'SAFETY_TICK_MS',
  'refresh-ms': 'SAFETY_REFRESH_MS',
};

export const command: Command = {
  name: 'safety',
  summary: 'safety alerts: SOS, crash, towing, unplug, stopped, silent, off course → Directus',
  usage: 'safety [--consumer NAME] [--admin-port PORT] [--tick-ms MS] [--refresh-ms MS]',
  options: Object.fromEntries(Object.keys(flags).map((f) => [f, { type: 'string' as const }])),
  help: `Consumes group "safety" of telemetry:positions, detects panic records (priority 2, IO 236),
crash/towing/unplug IO events (247/246/252), vehicles stopped in a running special stage, devices
silent during a stage and fixes outside the course corridor (thresholds per event: alert_stop_s,
alert_silence_s, alert_corridor_m), and writes alerts through Directus with the service token
(one open alert per entry and kind). The trm-safety Directus hook publishes every alert change
on safety:alerts. Flags override their environment variable:

  DATABASE_URL, REDIS_URL           services (ARCHITECTURE.md, "Environment")
  DIRECTUS_URL, DIRECTUS_TOKEN      Directus and the service account's static token (required)
  TRM_REDIS_PREFIX                  key prefix of every stream (default none)
  SAFETY_ADMIN_PORT                 /healthz and /metrics (default 5032; 0 = any free port)
  SAFETY_CONSUMER                   consumer name (default host-pid-random)
  SAFETY_TICK_MS                    silence clock (default 1000)
  SAFETY_REFRESH_MS                 course, flags and open alerts reloaded (default 5000)
  SAFETY_READ_COUNT                 entries per XREADGROUP (default 500)
  SAFETY_READ_BLOCK_MS              longest XREADGROUP block (default 1000)
  SAFETY_CLAIM_IDLE_MS              pending entries idle this long are claimed (default 60000)
  SAFETY_DIRECTUS_TIMEOUT_MS        one Directus request (default 10000)
  SAFETY_DRAIN_MS                   on SIGTERM, how long alert writes may retry (default 5000)

See docs/safety.md.`,
  async run(args, env) {
    const merged: NodeJS.ProcessEnv = { ...env };
    for (const [flag, name] of Object.entries(flags)) {
      const value = args.values[flag];
      if (typeof value === 'string') merged[name] = value;
    }
    const { main } = await import('../../../safety/src/main.ts');
    return main(merged);
  },
};
