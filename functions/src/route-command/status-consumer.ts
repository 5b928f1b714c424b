/**
 * The command status consumer: brings what happens on the device side back into Directus, so
 * the SPA sees it over Directus's WebSocket. Started by the connector process (`trm connector`,
 * connector/src/main.ts), next to the consumer that turns `device-commands` jobs into
 * route-command calls. Three duties:
 *
 *   commands:events (group `command-status`)
 *     sent / responded / failed ──▶ PATCH the row (lifecycle.ts applyEvent; stale or duplicate
 *                                   reports are ignored; "not connected there" goes back to queued)
 *     online {imei, instance}   ──▶ route the device's waiting commands (queued, or routed to an
 *                                   instance that no longer holds it): delivery on connect
 *   sweep every sweepIntervalMs ──▶ open commands past expires_at → expired; queued commands
 *                                   whose device is online → routed (a lost job or event)
 *
 * Entries are handled one at a time in stream order and XACKed after Directus took the change;
 * on a failure the loop backs off and re-reads its own pending entries from the start, so order
 * holds and nothing is lost. Entries pending in a dead consumer are claimed after claimIdleMs.
 *
 *   new ─start()─▶ running ─close()─▶ stopped
 */
import type { Logger } from 'pino';
import { errorMessage } from '../../../common/src/errors.ts';
import { createRedis, type Redis } from '../../../common/src/redis.ts';
import type { RedisKeys } from '../../../common/src/redis-keys.ts';
import { defaults, int, loadConfig, str, url, type Env } from '../../../common/src/config.ts';
import { directusCommandStore, type CommandStore } from './directus-store.ts';
import { STATUS_GROUP } from './keys.ts';
import { parseStatusEvent } from './lifecycle.ts';
import { applyDeliveryReport, expireCommand, routeCommand, type RouterDeps } from './router.ts';

export interface CommandStatusOptions {
  redisUrl: string;
  keys: RedisKeys;
  store: CommandStore;
  log: Logger;
  /** consumer name in the group; stable across restarts so a restart re-reads its own pending */
  consumer: string;
  blockMs?: number;
  sweepIntervalMs?: number;
  claimIdleMs?: number;
  now?: () => number;
}

export interface CommandStatusConsumer {
  start(): Promise<void>;
  /** stops reading, lets the entry in hand finish; idempotent */
  close(): Promise<void>;
  health(): { topic: string; running: boolean; handled: number; failures: number };
}

type Entry = [string, string[]];

export function createCommandStatusConsumer(o: CommandStatusOptions): CommandStatusConsumer {
  const log = o.log.child({ component: 'command-status' });
  const stream = o.keys.commandEvents;
  const reader: Redis = createRedis(o.redisUrl);
  const redis: Redis = createRedis(o.redisUrl);
  reader.on('error', (error) => log.debug({ err: errorMessage(error) }, 'redis (reader)'));
  redis.on('error', (error) => log.debug({ err: errorMessage(error) }, 'redis'));
  const deps: RouterDeps = { store: o.store, redis, keys: o.keys, now: o.now ?? Date.now };
  let running = false;
  let loop: Promise<void> | undefined;
  let sweeping: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let rereadPending = true;
  let handled = 0;
  let failures = 0;
  let closing: Promise<void> | undefined;

  async function handle(id: string, flat: string[]): Promise<void> {
    const fields: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]] = flat[i + 1];
    const event = parseStatusEvent(fields);
    if (!event) {
      log.warn({ entry: id }, 'commands:events entry not understood; skipped');
      return;
    }
    if (event.kind === 'online') {
      const waiting = await o.store.listWaiting(event.imei);
      for (const commandId of waiting) {
        const outcome = await routeCommand(deps, commandId);
        log.info({ imei: event.imei, instance: event.instance, ...outcome }, 'device online: waiting command handled');
      }
      return;
    }
    const result = await applyDeliveryReport(deps, event);
    log.info({ command: event.id, imei: event.imei, status: event.status, error: event.error, instance: event.instance, result }, 'delivery report');
  }

  async function read(): Promise<Entry[]> {
    const reply = (
      rereadPending
        ? await reader.xreadgroup('GROUP', STATUS_GROUP, o.consumer, 'COUNT', 50, 'STREAMS', stream, '0')
        : await reader.xreadgroup('GROUP', STATUS_GROUP, o.consumer, 'COUNT', 50, 'BLOCK', o.blockMs ?? 2_000, 'STREAMS', stream, '>')
    ) as [string, Entry[]][] | null;
    const entries = reply?.[0]?.[1] ?? [];
    if (rereadPending && entries.length === 0) rereadPending = false;
    // a pending entry that was trimmed away comes back with null fields: acknowledge it
    return entries;
  }

  async function run(): Promise<void> {
    while (running) {
      try {
        const entries = await read();
        for (const [id, flat] of entries) {
          if (!running) return;
          if (flat) await handle(id, flat);
          await redis.xack(stream, STATUS_GROUP, id);
          handled++;
        }
      } catch (error) {
        if (!running) return;
        failures++;
        rereadPending = true;
        log.warn({ err: errorMessage(error) }, 'command status entry failed; retrying from the pending entries');
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  }

  async function sweep(): Promise<void> {
    const now = deps.now();
    const nowIso = new Date(now).toISOString();
    for (const id of await o.store.listExpired(nowIso)) {
      if (await expireCommand(deps, id)) log.info({ command: id }, 'command expired');
    }
    const queued = await o.store.listQueued(nowIso);
    if (queued.length > 0) {
      const routes = await redis.mget(...queued.map((q) => o.keys.deviceRoute(q.device)));
      for (let i = 0; i < queued.length; i++) {
        if (!routes[i]) continue;
        const outcome = await routeCommand(deps, queued[i].id);
        log.info({ imei: queued[i].device, ...outcome }, 'sweep: queued command of an online device handled');
      }
    }
    // entries left pending by a consumer that died: take them over
    const claimed = (await redis.xautoclaim(stream, STATUS_GROUP, o.consumer, o.claimIdleMs ?? 60_000, '0-0', 'COUNT', 100, 'JUSTID')) as [string, string[]];
    if (claimed[1]?.length) rereadPending = true;
  }

  function tick(): void {
    if (!running || sweeping) return;
    sweeping = sweep()
      .catch((error: unknown) => log.warn({ err: errorMessage(error) }, 'command sweep failed'))
      .finally(() => (sweeping = undefined));
  }

  return {
    async start() {
      try {
        await redis.xgroup('CREATE', stream, STATUS_GROUP, '$', 'MKSTREAM');
      } catch (error) {
        if (!String(errorMessage(error)).includes('BUSYGROUP')) throw error;
      }
      running = true;
      loop = run();
      timer = setInterval(tick, o.sweepIntervalMs ?? 5_000);
      log.info({ stream, group: STATUS_GROUP, consumer: o.consumer }, 'command status consumer started');
    },
    close() {
      closing ??= (async () => {
        running = false;
        if (timer) clearInterval(timer);
        reader.disconnect();
        await loop;
        await sweeping;
        await redis.quit().catch(() => redis.disconnect());
      })();
      return closing;
    },
    health: () => ({ topic: `stream:commands:events (${STATUS_GROUP})`, running, handled, failures }),
  };
}

// ---------------------------------------------------------------------------------------------
// Wiring for the connector process

const spec = {
  directusUrl: url('DIRECTUS_URL', defaults.directusUrl),
  directusToken: str('DIRECTUS_TOKEN', '', { secret: true }),
  sweepIntervalMs: int('COMMANDS_SWEEP_MS', 5_000, { min: 100 }),
  claimIdleMs: int('COMMANDS_CLAIM_IDLE_MS', 60_000, { min: 100 }),
};

export interface StartCommandStatusOptions {
  redisUrl: string;
  keys: RedisKeys;
  consumer: string;
  log: Logger;
}

/**
 * Starts the consumer from the connector's environment (DIRECTUS_URL, DIRECTUS_TOKEN,
 * COMMANDS_SWEEP_MS, COMMANDS_CLAIM_IDLE_MS). Without a service token there is nothing it may
 * write, so it is not started and the connector says so.
 */
export async function startCommandStatus(env: Env, o: StartCommandStatusOptions): Promise<CommandStatusConsumer | undefined> {
  const config = loadConfig(spec, env);
  if (!config.directusToken) {
    o.log.warn('DIRECTUS_TOKEN is not set: command statuses will not be written back to Directus');
    return undefined;
  }
  const consumer = createCommandStatusConsumer({ ...o, store: directusCommandStore(config.directusUrl, config.directusToken), sweepIntervalMs: config.sweepIntervalMs, claimIdleMs: config.claimIdleMs });
  await consumer.start();
  return consumer;
}
