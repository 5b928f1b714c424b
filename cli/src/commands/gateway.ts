/** `trm gateway`: the live gateway (live-gateway/src/main.ts; docs/live.md). */
import type { Command } from '../command.ts';

const flags: Record<string, string> = {
  port: 'LIVE_PORT',
  instance: 'LIVE_INSTANCE',
  'recheck-interval-ms': 'LIVE_RECHECK_INTERVAL_MS',
};

export const command: Command = {
  name: 'gateway',
  summary: 'live gateway: authenticated WebSocket fan-out of live positions',
  usage: 'gateway [--port PORT] [--instance NAME] [--recheck-interval-ms MS]',
  options: Object.fromEntries(Object.keys(flags).map((f) => [f, { type: 'string' as const }])),
  help: `Serves GET /live (WebSocket), /healthz and /metrics. Reads telemetry:positions through its
own consumer group live-broadcast-{instance} and pushes positions to subscribed clients; Directus
is asked only to authenticate and to authorise a subscription. Flags override their variable:

  LIVE_PORT                    listening port (default 8090; 0 = any free port)
  REDIS_URL, DATABASE_URL      services (ARCHITECTURE.md, "Environment")
  DIRECTUS_URL                 Directus, for authorisation (and /users/me without a secret)
  DIRECTUS_SECRET              Directus's SECRET: verify access tokens locally (recommended)
  DIRECTUS_TOKEN               service token: tells NOT_FOUND from FORBIDDEN
  TRM_REDIS_PREFIX             key prefix of every stream (default none)
  LIVE_INSTANCE                consumer group suffix (default host-pid-random)
  LIVE_RECHECK_INTERVAL_MS     permission re-check period (default 60000)
  LIVE_EVENT_MAP_REFRESH_MS    device → entry → event reload period (default 5000)

See docs/live.md for the protocol, error codes, limits and metrics.`,
  async run(args, env) {
    const merged: NodeJS.ProcessEnv = { ...env };
    for (const [flag, name] of Object.entries(flags)) {
      const value = args.values[flag];
      if (typeof value === 'string') merged[name] = value;
    }
    const { main } = await import('../../../live-gateway/src/main.ts');
    return main(merged);
  },
};
