/**
 * The Directus internals the bulk write needs, which the extension SDK does not hand to an
 * endpoint: the process-wide emitter (an endpoint's `context.emitter` is a local one, so actions
 * emitted there would reach neither hooks nor the WebSocket), the permission lookups, Directus's
 * database error translation and its cache. Imported from the same files Directus runs (Node
 * resolves `@directus/api/*` to directus/node_modules/@directus/api/dist/*.js, the very modules
 * the server loaded), so they are the same instances. Typed here by hand (the package ships no
 * declarations) for the pinned Directus 11.17.4 (directus/src/process.ts, DIRECTUS_VERSION);
 * tests/results-io.int.test.ts fails if an upgrade changes them.
 */

export interface Accountability {
  user?: string | null;
  role?: string | null;
  roles?: string[];
  admin?: boolean;
  app?: boolean;
  ip?: string | null;
}

export interface Permission {
  collection: string;
  action: string;
  permissions: Record<string, unknown> | null;
  validation: Record<string, unknown> | null;
  presets: Record<string, unknown> | null;
  fields: string[] | null;
}

export interface Emitter {
  emitFilter<T>(event: string | string[], payload: T, meta: Record<string, unknown>, context: unknown): Promise<T>;
  emitAction(event: string | string[], meta: Record<string, unknown>, context: unknown): void;
}

export interface DirectusInternals {
  emitter: Emitter;
  fetchPolicies(accountability: Accountability, context: { knex: unknown; schema: unknown }): Promise<string[]>;
  fetchPermissions(options: { action: string; policies: string[]; collections: string[]; accountability: Accountability }, context: { knex: unknown; schema: unknown }): Promise<Permission[]>;
  translateDatabaseError(error: unknown, data: unknown): Promise<Error>;
  /** Directus's cache when CACHE_ENABLED, else null */
  cache(): { clear(): Promise<void> } | null;
  shouldClearCache(cache: unknown, opts: unknown, collection: string): boolean;
  getDatabase(): unknown;
}

// non-literal specifiers: resolved at run time against Directus's own node_modules
const spec = (path: string) => `@directus/api/${path}`;

let loading: Promise<DirectusInternals> | undefined;

export function directusInternals(): Promise<DirectusInternals> {
  loading ??= (async () => {
    const [emitter, policies, permissions, translate, cache, clear, database] = await Promise.all([
      import(spec('emitter')),
      import(spec('permissions/lib/fetch-policies')),
      import(spec('permissions/lib/fetch-permissions')),
      import(spec('database/errors/translate')),
      import(spec('cache')),
      import(spec('utils/should-clear-cache')),
      import(spec('database/index')),
    ]);
    return {
      emitter: emitter.default as Emitter,
      fetchPolicies: policies.fetchPolicies,
      fetchPermissions: permissions.fetchPermissions,
      translateDatabaseError: translate.translateDatabaseError,
      cache: () => (cache.getCache() as { cache: { clear(): Promise<void> } | null }).cache,
      shouldClearCache: clear.shouldClearCache,
      getDatabase: database.default,
    };
  })();
  return loading;
}
