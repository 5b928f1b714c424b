/** generate-start-order's adapters assembled once per process (function handler, tests). */
import type { StartOrderRequest } from '../../../common/src/triggers.ts';
import type { DirectusConfig } from '../directus-io/config.ts';
import { directusApi, type DirectusApi } from '../directus-io/directus-api.ts';
import { START_ORDER_ERR } from './errors.ts';
import { runStartOrder, type StartOrderSummary } from './generate.ts';

export interface StartOrderService {
  api: DirectusApi;
  run(request: StartOrderRequest): Promise<StartOrderSummary>;
}

export function createStartOrderService(config: DirectusConfig): StartOrderService {
  const api = directusApi({ url: config.directusUrl, token: config.directusToken, errorCode: START_ORDER_ERR.DIRECTUS });
  return { api, run: (request) => runStartOrder({ api }, request) };
}
