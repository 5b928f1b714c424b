/**
 * The adapters' side of the command lifecycle (lifecycle.ts decides, this module reads and
 * writes): route a command to the ingest instance holding its device, apply a delivery report,
 * expire a command. Used by the route-command handler and by the status consumer.
 *
 * Every change of one command happens under a short Redis lock on its id, and re-reads the row
 * inside it: route-command (BullMQ job, delivered at least once), the reroute on connect, a
 * delivery report and the expiry sweep may all touch the same row at once, and without the lock
 * a command could be XADDed twice or a report overwritten by a stale `routed`.
 *
 * Order inside `routeCommand`: the row is PATCHed `routed` *before* the XADD, so a report that
 * arrives at once always finds it routed; when the XADD fails the row goes back to `queued`.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { TrmError } from '../../../common/src/errors.ts';
import { CONTROL_STREAM_MAXLEN, type RedisKeys } from '../../../common/src/redis-keys.ts';
import type { CommandStore } from './directus-store.ts';
import { CommandErrorCode } from './errors.ts';
import { applyEvent, decideRoute, expiredPatch, isExpired, isTerminal, requeuePatch, routedPatch, type RouteDecision, type StatusEvent } from './lifecycle.ts';

export interface RouterDeps {
  store: CommandStore;
  redis: Redis;
  keys: RedisKeys;
  now: () => number;
  /** how long a lock is held at most (a crashed holder frees it after this) */
  lockMs?: number;
  /** how long to wait for a lock held by someone else */
  lockWaitMs?: number;
}

export type RouteOutcome = { command_id: string; outcome: 'routed'; instance: string } | { command_id: string; outcome: 'waiting' | 'expired' | 'not-found' } | { command_id: string; outcome: 'skipped'; reason: Extract<RouteDecision, { action: 'skip' }>['reason'] };

// KEYS[1] lock; ARGV[1] holder token. Returns 1 when released, 0 when someone else holds it.
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export class LockBusyError extends TrmError {
  readonly statusCode = 503;
  constructor(id: string) {
    super('COMMAND_ERR_LOCKED', `command ${id} is being changed by another router`, { retryable: true });
  }
}

export async function withCommandLock<T>(deps: RouterDeps, id: string, fn: () => Promise<T>): Promise<T> {
  const key = deps.keys.commandLock(id);
  const token = randomUUID();
  const lockMs = deps.lockMs ?? 15_000;
  const deadline = Date.now() + (deps.lockWaitMs ?? 10_000);
  let delay = 10;
  while ((await deps.redis.set(key, token, 'PX', lockMs, 'NX')) !== 'OK') {
    if (Date.now() > deadline) throw new LockBusyError(id);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 200);
  }
  try {
    return await fn();
  } finally {
    await deps.redis.eval(RELEASE, 1, key, token).catch(() => undefined);
  }
}

/** route-command's work: one command to the instance holding its device, or left waiting. */
export async function routeCommand(deps: RouterDeps, id: string): Promise<RouteOutcome> {
  return withCommandLock(deps, id, async () => {
    const row = await deps.store.get(id);
    if (!row) return { command_id: id, outcome: 'not-found' };
    const route = (await deps.redis.get(deps.keys.deviceRoute(row.device))) ?? undefined;
    const now = deps.now();
    const decision = decideRoute(row, route, now);
    switch (decision.action) {
      case 'skip':
        return { command_id: id, outcome: 'skipped', reason: decision.reason };
      case 'expire':
        await deps.store.update(id, expiredPatch());
        return { command_id: id, outcome: 'expired' };
      case 'wait':
        // offline: stays queued; the status consumer routes it when the device connects
        if (row.status === 'routed') await deps.store.update(id, requeuePatch());
        return { command_id: id, outcome: 'waiting' };
      case 'route': {
        if (!row.text) throw new TrmError(CommandErrorCode.BAD_INPUT, `command ${id} has no text`);
        await deps.store.update(id, routedPatch(decision.instance, now));
        try {
          await deps.redis.xadd(deps.keys.commands(decision.instance), 'MAXLEN', '~', String(CONTROL_STREAM_MAXLEN), '*', 'id', id, 'imei', row.device, 'text', row.text);
        } catch (error) {
          await deps.store.update(id, requeuePatch()).catch(() => undefined);
          throw new TrmError('COMMAND_ERR_XADD', `command ${id}: XADD to ${decision.instance} failed`, { retryable: true, cause: error });
        }
        return { command_id: id, outcome: 'routed', instance: decision.instance };
      }
    }
  });
}

export type EventResult = 'applied' | 'ignored' | 'not-found' | 'requeued';

/** A delivery report from ingest applied to its row (idempotent: duplicates are ignored). */
export async function applyDeliveryReport(deps: RouterDeps, event: Extract<StatusEvent, { kind: 'command' }>): Promise<EventResult> {
  const result = await withCommandLock(deps, event.id, async (): Promise<EventResult> => {
    const row = await deps.store.get(event.id);
    if (!row) return 'not-found';
    const outcome = applyEvent(row, event);
    if (!outcome) return 'ignored';
    await deps.store.update(event.id, outcome.patch);
    return outcome.reroute ? 'requeued' : 'applied';
  });
  // not connected there (any more): it may be online elsewhere already
  if (result === 'requeued') await routeCommand(deps, event.id);
  return result;
}

/** Marks one command expired when it is open and past its expires_at. */
export async function expireCommand(deps: RouterDeps, id: string): Promise<boolean> {
  return withCommandLock(deps, id, async () => {
    const row = await deps.store.get(id);
    if (!row || isTerminal(row.status) || !isExpired(row, deps.now())) return false;
    await deps.store.update(id, expiredPatch());
    return true;
  });
}
