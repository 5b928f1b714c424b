/**
 * evaluate-penalties' adapters assembled once per process (function handler, tests): the
 * Directus client with the function's error code. Nothing to close (fetch keeps no state).
 */
import type { PenaltyEvaluationRequest } from '../../../common/src/triggers.ts';
import type { DirectusConfig } from '../directus-io/config.ts';
import { directusApi, type DirectusApi } from '../directus-io/directus-api.ts';
import { PENALTIES_ERR } from './errors.ts';
import { runPenaltyEvaluation, type PenaltyDeps, type PenaltySummary } from './evaluate.ts';

export interface PenaltyService {
  api: DirectusApi;
  run(request: PenaltyEvaluationRequest): Promise<PenaltySummary>;
}

export function createPenaltyService(config: DirectusConfig, options: Omit<PenaltyDeps, 'api'> = {}): PenaltyService {
  const api = directusApi({ url: config.directusUrl, token: config.directusToken, errorCode: PENALTIES_ERR.DIRECTUS });
  return { api, run: (request) => runPenaltyEvaluation({ api, ...options }, request) };
}
