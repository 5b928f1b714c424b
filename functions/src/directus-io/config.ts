/**
 * Configuration of the functions that only speak to Directus (evaluate-penalties,
 * generate-start-order), loaded once by the caller from its environment; every problem reported
 * in one message (common/src/config.ts).
 */
import { defaults, loadConfig, str, url, type Env } from '../../../common/src/config.ts';

const spec = {
  directusUrl: url('DIRECTUS_URL', defaults.directusUrl),
  directusToken: str('DIRECTUS_TOKEN', undefined, { secret: true }),
};

export type DirectusConfig = ReturnType<typeof loadDirectusConfig>;

export function loadDirectusConfig(env: Env) {
  return loadConfig(spec, env);
}
