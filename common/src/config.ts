/**
 * Typed, fail-fast configuration. Each service declares a spec; `loadConfig` reads every key
 * once, and reports every missing or invalid key in a single error. Nothing below a service's
 * main.ts reads process.env.
 */
import { TrmError } from './errors.ts';

export type Env = Record<string, string | undefined>;

export interface Field<T> {
  env: string;
  parse(raw: string | undefined): T;
  secret?: boolean;
}

export class ConfigError extends TrmError {
  constructor(problems: string[]) {
    super('CONFIG_ERR_INVALID', `invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Spec = Record<string, Field<unknown>>;
export type ConfigOf<S extends Spec> = { [K in keyof S]: S[K] extends Field<infer T> ? T : never };

export function loadConfig<S extends Spec>(spec: S, env: Env): ConfigOf<S> {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(spec)) {
    try {
      out[key] = field.parse(emptyToUndefined(env[field.env]));
    } catch (error) {
      problems.push(`${field.env}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out as ConfigOf<S>;
}

function emptyToUndefined(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

export function str(env: string, fallback?: string, options: { secret?: boolean } = {}): Field<string> {
  return {
    env,
    secret: options.secret,
    parse(raw) {
      if (raw !== undefined) return raw;
      if (fallback !== undefined) return fallback;
      throw new Error('is required');
    },
  };
}

export function optionalStr(env: string, options: { secret?: boolean } = {}): Field<string | undefined> {
  return { env, secret: options.secret, parse: (raw) => raw };
}

export function int(env: string, fallback: number, bounds: { min?: number; max?: number } = {}): Field<number> {
  return {
    env,
    parse(raw) {
      const value = raw === undefined ? fallback : Number(raw);
      if (!Number.isInteger(value)) throw new Error(`must be an integer, got "${raw}"`);
      if (bounds.min !== undefined && value < bounds.min) throw new Error(`must be >= ${bounds.min}, got ${value}`);
      if (bounds.max !== undefined && value > bounds.max) throw new Error(`must be <= ${bounds.max}, got ${value}`);
      return value;
    },
  };
}

/** A TCP port; 0 means "any free port" (the service logs the one it got). */
export function port(env: string, fallback: number): Field<number> {
  return int(env, fallback, { min: 0, max: 65535 });
}

export function oneOf<T extends string>(env: string, values: readonly T[], fallback: T): Field<T> {
  return {
    env,
    parse(raw) {
      const value = (raw ?? fallback) as T;
      if (!values.includes(value)) throw new Error(`must be one of ${values.join(', ')}, got "${raw}"`);
      return value;
    },
  };
}

export function bool(env: string, fallback: boolean): Field<boolean> {
  return {
    env,
    parse(raw) {
      if (raw === undefined) return fallback;
      if (/^(1|true|yes|on)$/i.test(raw)) return true;
      if (/^(0|false|no|off)$/i.test(raw)) return false;
      throw new Error(`must be true or false, got "${raw}"`);
    },
  };
}

export function url(env: string, fallback?: string): Field<string> {
  return {
    env,
    parse(raw) {
      const value = raw ?? fallback;
      if (value === undefined) throw new Error('is required');
      try {
        new URL(value);
      } catch {
        throw new Error(`must be a URL, got "${value}"`);
      }
      return value;
    },
  };
}

export function optionalUrl(env: string): Field<string | undefined> {
  return {
    env,
    parse(raw) {
      if (raw === undefined) return undefined;
      return url(env).parse(raw);
    },
  };
}

/** Defaults shared by every service (ARCHITECTURE.md, "Environment"). */
export const defaults = {
  databaseUrl: 'postgres://127.0.0.1:5432/trm',
  redisUrl: 'redis://127.0.0.1:6379',
  directusUrl: 'http://127.0.0.1:8055',
  ingestPort: 5027,
  ingestAdminPort: 5028,
  writerAdminPort: 5029,
  livePort: 8090,
  functionsPort: 8080,
} as const;
