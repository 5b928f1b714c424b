/**
 * `evaluate-penalties`: evaluates the penalty rules (speed zones, missed waypoints, time
 * controls, maximum time, manual penalties) for an event, stage or entry, and writes penalties,
 * stage totals and positions, and standings through Directus (docs/penalties.md, "Function").
 * Triggered by the connector (stack.yml `topic: queue:evaluate-penalties`); the payload is the
 * `PenaltyEvaluationRequest` of common/src/triggers.ts, validated here with the producers' own
 * parser (400 FN_ERR_BAD_INPUT). An id that names nothing is 404 PENALTIES_ERR_NOT_FOUND; bad
 * rule params are 400 PEN_ERR_* (neither is retried by the connector).
 *
 * Configuration is read once, on the first call: DIRECTUS_URL, DIRECTUS_TOKEN (secret
 * trm-directus-token).
 */
import type { FunctionContext, FunctionEvent } from '../../template/node24-ts/runtime/types.ts';
import { parsePenaltyEvaluationRequest } from '../../common/src/triggers.ts';
import { loadDirectusConfig } from '../src/directus-io/config.ts';
import { createPenaltyService, type PenaltyService } from '../src/evaluate-penalties/service.ts';

let service: Promise<PenaltyService> | undefined;

async function build(context: FunctionContext): Promise<PenaltyService> {
  const env = { ...context.env, DIRECTUS_TOKEN: (await context.secret('trm-directus-token', 'DIRECTUS_TOKEN')) ?? context.env.DIRECTUS_TOKEN };
  return createPenaltyService(loadDirectusConfig(env));
}

export async function handle(event: FunctionEvent, context: FunctionContext): Promise<unknown> {
  const request = parsePenaltyEvaluationRequest(event.body);
  service ??= build(context).catch((error: unknown) => {
    service = undefined;
    throw error;
  });
  return (await service).run(request);
}
