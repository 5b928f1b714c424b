/**
 * The recompute's Directus client: the shared adapter (../directus-io/directus-api.ts) with the
 * recompute's error code, RECOMPUTE_ERR_DIRECTUS (docs/recompute.md, "Errors").
 */
import { directusApi as sharedDirectusApi, type DirectusApi, type DirectusApiOptions } from '../directus-io/directus-api.ts';
import { RECOMPUTE_ERR } from './errors.ts';

export type { DirectusApi, DirectusApiOptions };

export function directusApi(o: DirectusApiOptions): DirectusApi {
  return sharedDirectusApi({ errorCode: RECOMPUTE_ERR.DIRECTUS, ...o });
}
