/**
 * `recompute`: recomputes timing (stage times, waypoint passes, speed infringements) for an
 * event, stage, entry or device over a time window (docs/recompute.md).
 * Triggered by the connector (stack.yml `topic` annotation); the payload is the `RecomputeRequest` of
 * common/src/triggers.ts, validated here with the producers' own parser (400 FN_ERR_BAD_INPUT).
 *
 * Configuration is read once, on the first call (the context carries the function's
 * environment and secrets): DATABASE_URL (secret trm-database-url), DIRECTUS_URL,
 * DIRECTUS_TOKEN (secret trm-directus-token), REDIS_URL, TRM_REDIS_PREFIX. The adapters (pg
 * pool, Directus client, penalty queue) live as long as the process.
 */
import type { FunctionContext, FunctionEvent } from '../../template/node24-ts/runtime/types.ts';
import { parseRecomputeRequest } from '../../common/src/triggers.ts';
import { loadRecomputeConfig } from '../src/recompute/config.ts';
import { createRecomputeService, type RecomputeService } from '../src/recompute/service.ts';

let service: Promise<RecomputeService> | undefined;

async function build(context: FunctionContext): Promise<RecomputeService> {
  const env = {
    ...context.env,
    DATABASE_URL: (await context.secret('trm-database-url', 'DATABASE_URL')) ?? context.env.DATABASE_URL,
    DIRECTUS_TOKEN: (await context.secret('trm-directus-token', 'DIRECTUS_TOKEN')) ?? context.env.DIRECTUS_TOKEN,
  };
  return createRecomputeService(loadRecomputeConfig(env));
}

export async function handle(event: FunctionEvent, context: FunctionContext): Promise<unknown> {
  const request = parseRecomputeRequest(event.body);
  service ??= build(context).catch((error: unknown) => {
    service = undefined;
    throw error;
  });
  const summary = await (await service).run(request);
  return {
    run: summary.runId,
    status: summary.status,
    events: summary.events,
    stages: summary.stages.map((s) => ({ stage: s.stage, code: s.code, entries: s.entries, fixes: s.fixes, changed: s.changed, ...(s.skipped ? { skipped: s.skipped } : {}) })),
    entries: summary.entries,
    fixes: summary.fixes,
    changed: summary.changed,
    total_changes: summary.totalChanges,
    penalty_requests: summary.penaltyRequests.length,
    duration_ms: summary.durationMs,
  };
}

/** Closes the adapters (tests, a graceful runtime stop). */
export async function close(): Promise<void> {
  const s = service;
  service = undefined;
  if (s) await (await s.catch(() => undefined))?.close();
}
