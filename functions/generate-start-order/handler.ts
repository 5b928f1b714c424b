/**
 * `generate-start-order`: computes a stage's start order from its strategy and parameters
 * (previous stage result with or without penalties, top N reversed, inverse of overall, race
 * number, manual) and writes `start_orders` with start times and explanations through Directus;
 * locked rows are kept (docs/start-order.md, "Function").
 * Triggered by the connector (stack.yml `topic: queue:start-orders`): the trm-results Directus
 * hook queues a job when a stage is confirmed (for the next stage) or a stage's start-order
 * settings change; an operator can POST the same payload to the function. The payload is the
 * `StartOrderRequest` of common/src/triggers.ts, validated here with the producers' own parser
 * (400 FN_ERR_BAD_INPUT).
 *
 * Configuration is read once, on the first call: DIRECTUS_URL, DIRECTUS_TOKEN (secret
 * trm-directus-token).
 */
import type { FunctionContext, FunctionEvent } from '../../template/node24-ts/runtime/types.ts';
import { parseStartOrderRequest } from '../../common/src/triggers.ts';
import { loadDirectusConfig } from '../src/directus-io/config.ts';
import { createStartOrderService, type StartOrderService } from '../src/generate-start-order/service.ts';

let service: Promise<StartOrderService> | undefined;

async function build(context: FunctionContext): Promise<StartOrderService> {
  const env = { ...context.env, DIRECTUS_TOKEN: (await context.secret('trm-directus-token', 'DIRECTUS_TOKEN')) ?? context.env.DIRECTUS_TOKEN };
  return createStartOrderService(loadDirectusConfig(env));
}

export async function handle(event: FunctionEvent, context: FunctionContext): Promise<unknown> {
  const request = parseStartOrderRequest(event.body);
  service ??= build(context).catch((error: unknown) => {
    service = undefined;
    throw error;
  });
  return (await service).run(request);
}
