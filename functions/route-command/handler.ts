/**
 * `route-command`: routes a queued Directus `commands` row to the ingest instance holding the
 * device socket (`commands:{instance}`), or leaves it queued while the device is offline.
 * Triggered by the connector (stack.yml `topic: queue:device-commands`); the payload is the
 * `DeviceCommandRequest` of common/src/triggers.ts, validated here with the producers' own
 * parser (400 FN_ERR_BAD_INPUT). The work is functions/src/route-command/router.ts; docs/commands.md.
 *
 * Configuration (stack.yml `environment` / secrets): REDIS_URL, TRM_REDIS_PREFIX, DIRECTUS_URL,
 * the secret `trm-directus-token` (locally: DIRECTUS_TOKEN). Answers 200 with the outcome
 * (`routed`, `waiting`, `expired`, `skipped`, `not-found`); a Directus or Redis outage is a 5xx,
 * which the connector retries.
 */
import type { FunctionContext, FunctionEvent } from '../../template/node24-ts/runtime/types.ts';
import { TrmError } from '../../common/src/errors.ts';
import { createRedis, type Redis } from '../../common/src/redis.ts';
import { redisKeys } from '../../common/src/redis-keys.ts';
import { parseDeviceCommandRequest } from '../../common/src/triggers.ts';
import { directusCommandStore } from '../src/route-command/directus-store.ts';
import { routeCommand } from '../src/route-command/router.ts';

// One Redis client per URL for the life of the process (a warm function serves many calls).
const clients = new Map<string, Redis>();

function redisFor(url: string): Redis {
  let client = clients.get(url);
  if (!client) {
    client = createRedis(url, { maxRetriesPerRequest: 2, enableOfflineQueue: true });
    client.on('error', () => {}); // a call that needs it fails and is retried by the connector
    clients.set(url, client);
  }
  return client;
}

/** Closes the cached clients (tests; the process otherwise ends with the container). */
export function closeClients(): void {
  for (const client of clients.values()) client.disconnect();
  clients.clear();
}

export async function handle(event: FunctionEvent, context: FunctionContext): Promise<unknown> {
  const request = parseDeviceCommandRequest(event.body);
  const token = await context.secret('trm-directus-token', 'DIRECTUS_TOKEN');
  if (!token) throw Object.assign(new TrmError('COMMAND_ERR_CONFIG', 'route-command needs the trm-directus-token secret (DIRECTUS_TOKEN locally)'), { statusCode: 500 });
  const deps = {
    store: directusCommandStore(context.env.DIRECTUS_URL ?? 'http://127.0.0.1:8055', token),
    redis: redisFor(context.env.REDIS_URL ?? 'redis://127.0.0.1:6379'),
    keys: redisKeys(context.env.TRM_REDIS_PREFIX ?? ''),
    now: Date.now,
  };
  return { ok: true, ...(await routeCommand(deps, request.command_id)) };
}
