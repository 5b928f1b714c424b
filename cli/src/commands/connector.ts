/** `trm connector`: stream / queue triggers → function calls (connector/src/main.ts; docs/functions.md). */
import type { Command } from '../command.ts';

const flags: Record<string, string> = {
  'admin-port': 'CONNECTOR_ADMIN_PORT',
  concurrency: 'CONNECTOR_CONCURRENCY',
  'max-attempts': 'CONNECTOR_MAX_ATTEMPTS',
  consumer: 'CONNECTOR_CONSUMER',
  stack: 'TRM_STACK_FILE',
  only: 'CONNECTOR_FUNCTIONS',
  gateway: 'OPENFAAS_URL',
};

export const command: Command = {
  name: 'connector',
  summary: 'Redis Streams / BullMQ triggers → function calls',
  usage: 'connector [--gateway URL] [--admin-port PORT] [--concurrency N] [--max-attempts N] [--consumer NAME] [--stack FILE] [--only fn1,fn2]',
  options: Object.fromEntries(Object.keys(flags).map((f) => [f, { type: 'string' as const }])),
  help: `Reads the topic annotations of stack.yml (stream:<key> or queue:<name>), consumes those
Redis streams (group "connector") and BullMQ queues, and calls the functions through the
gateway: OPENFAAS_URL when set, else the local one (npx trm functions) on FUNCTIONS_PORT.
5xx, 408, 429, timeouts and network errors are retried with exponential backoff; other 4xx and
501 are not; after the last attempt a record goes to the connector:dead stream. Flags override
their variable:

  REDIS_URL, TRM_REDIS_PREFIX     Redis and the key prefix (default none)
  OPENFAAS_URL / FUNCTIONS_PORT   the gateway (default http://127.0.0.1:8080)
  CONNECTOR_ADMIN_PORT            /healthz and /metrics (default 5031; 0 = any free port)
  CONNECTOR_ADMIN_HOST            admin listen address (default 127.0.0.1)
  CONNECTOR_CONCURRENCY           deliveries in flight per topic (default 4)
  CONNECTOR_MAX_ATTEMPTS          calls per trigger before the dead letter (default 5)
  CONNECTOR_BACKOFF_MS / _MAX_MS  first backoff, doubling, capped (default 500 / 30000)
  CONNECTOR_CLAIM_IDLE_MS         a dead consumer's stream entries are taken after (default 60000)
  CONNECTOR_LOCK_MS               BullMQ job lock; a dead connector's job returns after (default 30000)
  CONNECTOR_CONSUMER              consumer name (default the host name)
  CONNECTOR_FUNCTIONS             comma-separated functions to serve (default all with a topic)
  CONNECTOR_DRAIN_MS              on SIGTERM, how long deliveries may finish (default 10000)

See docs/functions.md.`,
  async run(args, env) {
    const merged: NodeJS.ProcessEnv = { ...env };
    for (const [flag, name] of Object.entries(flags)) {
      const value = args.values[flag];
      if (typeof value === 'string') merged[name] = value;
    }
    const { main } = await import('../../../connector/src/main.ts');
    return main(merged);
  },
};
