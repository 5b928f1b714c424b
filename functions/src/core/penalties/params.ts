/**
 * A small runtime schema reader for evaluator parameters (no dependency needed for this much).
 * Every reader appends to `problems` instead of throwing, so one validation reports everything
 * wrong with a rule at once; paths are JSON-ish (`brackets[2].perKmhMs`).
 */

export type Problems = string[];

export type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function readObject(value: unknown, path: string, problems: Problems): Json | undefined {
  if (isObject(value)) return value;
  problems.push(`${path || 'params'} must be an object`);
  return undefined;
}

export interface NumberSpec {
  min?: number;
  /** strictly greater than */
  above?: number;
  max?: number;
  integer?: boolean;
}

function checkNumber(value: unknown, path: string, spec: NumberSpec, problems: Problems): number | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    problems.push(`${path} must be a finite number`);
    return undefined;
  }
  if (spec.integer && !Number.isInteger(value)) problems.push(`${path} must be an integer`);
  if (spec.min !== undefined && value < spec.min) problems.push(`${path} must be >= ${spec.min}`);
  if (spec.above !== undefined && value <= spec.above) problems.push(`${path} must be > ${spec.above}`);
  if (spec.max !== undefined && value > spec.max) problems.push(`${path} must be <= ${spec.max}`);
  return value;
}

export function requiredNumber(obj: Json, key: string, path: string, spec: NumberSpec, problems: Problems): number {
  if (!(key in obj) || obj[key] === undefined || obj[key] === null) {
    problems.push(`${join(path, key)} is required`);
    return 0;
  }
  return checkNumber(obj[key], join(path, key), spec, problems) ?? 0;
}

export function optionalNumber(obj: Json, key: string, path: string, spec: NumberSpec, problems: Problems): number | null {
  if (obj[key] === undefined || obj[key] === null) return null;
  return checkNumber(obj[key], join(path, key), spec, problems) ?? null;
}

export function optionalBoolean(obj: Json, key: string, path: string, fallback: boolean, problems: Problems): boolean {
  const value = obj[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') {
    problems.push(`${join(path, key)} must be true or false`);
    return fallback;
  }
  return value;
}

export function optionalString(obj: Json, key: string, path: string, problems: Problems): string | null {
  const value = obj[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') {
    problems.push(`${join(path, key)} must be a string`);
    return null;
  }
  return value;
}

export function oneOf<T extends string>(obj: Json, key: string, path: string, allowed: readonly T[], fallback: T | undefined, problems: Problems): T {
  const value = obj[key];
  if (value === undefined || value === null) {
    if (fallback !== undefined) return fallback;
    problems.push(`${join(path, key)} is required (one of ${allowed.join(', ')})`);
    return allowed[0];
  }
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    problems.push(`${join(path, key)} must be one of ${allowed.join(', ')}`);
    return fallback ?? allowed[0];
  }
  return value as T;
}

export function optionalArray(obj: Json, key: string, path: string, problems: Problems): unknown[] | null {
  const value = obj[key];
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value)) {
    problems.push(`${join(path, key)} must be an array`);
    return null;
  }
  return value;
}

/** Reports keys the schema does not know: a typo in the DB must not silently fall back to a default. */
export function rejectUnknownKeys(obj: Json, path: string, known: readonly string[], problems: Problems): void {
  for (const key of Object.keys(obj).sort()) {
    if (!known.includes(key)) problems.push(`${join(path, key)} is not a known parameter`);
  }
}

export function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}
