/**
 * Reads stack.yml the way faas-cli does (envsubst of `${VAR}` / `${VAR:-default}` first, then
 * YAML), for the local functions gateway, the connector and the stack lint.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';

export interface StackFunction {
  name: string;
  lang: string;
  /** the handler folder, absolute */
  handlerDir: string;
  /** as written in stack.yml */
  handler: string;
  image: string;
  environment: Record<string, string>;
  secrets: string[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface Stack {
  file: string;
  version: string;
  provider: { name: string; gateway: string };
  functions: StackFunction[];
  /** stack.yml `configuration.copy` */
  copy: string[];
}

export class StackError extends Error {
  readonly code = 'FN_ERR_BAD_STACK';
}

/** faas-cli's envsubst: `${VAR}`, `${VAR:-default}` (empty or unset), `${VAR-default}` (unset). */
export function envsubst(text: string, env: Record<string, string | undefined>): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}/g, (_all, name: string, op: string | undefined, fallback: string | undefined) => {
    const value = env[name];
    if (op === ':-') return value === undefined || value === '' ? (fallback ?? '') : value;
    if (op === '-') return value === undefined ? (fallback ?? '') : value;
    return value ?? '';
  });
}

function strings(value: unknown, where: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new StackError(`${where} must be a map`);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)]));
}

export function parseStack(text: string, file: string, env: Record<string, string | undefined>): Stack {
  const doc = parse(envsubst(text, env)) as Record<string, unknown> | null;
  if (!doc || typeof doc !== 'object') throw new StackError(`${file}: not a YAML map`);
  const provider = (doc.provider ?? {}) as { name?: unknown; gateway?: unknown };
  const root = dirname(file);
  const fns = (doc.functions ?? {}) as Record<string, Record<string, unknown>>;
  const functions = Object.entries(fns).map(([name, f]): StackFunction => {
    if (!f || typeof f !== 'object') throw new StackError(`${file}: function ${name} must be a map`);
    const handler = String(f.handler ?? '');
    return {
      name,
      lang: String(f.lang ?? ''),
      handler,
      handlerDir: resolve(root, handler),
      image: String(f.image ?? ''),
      environment: strings(f.environment, `functions.${name}.environment`),
      secrets: Array.isArray(f.secrets) ? f.secrets.map(String) : [],
      labels: strings(f.labels, `functions.${name}.labels`),
      annotations: strings(f.annotations, `functions.${name}.annotations`),
    };
  });
  const configuration = (doc.configuration ?? {}) as { copy?: unknown };
  return {
    file,
    version: String(doc.version ?? ''),
    provider: { name: String(provider.name ?? ''), gateway: String(provider.gateway ?? '') },
    functions,
    copy: Array.isArray(configuration.copy) ? configuration.copy.map(String) : [],
  };
}

export async function loadStack(file: string, env: Record<string, string | undefined>): Promise<Stack> {
  return parseStack(await readFile(file, 'utf8'), resolve(file), env);
}

/** A Go duration as of-watchdog reads it (`30s`, `1m30s`, `500ms`, `0`), in milliseconds. */
export function parseDurationMs(text: string): number {
  const t = text.trim();
  if (t === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(t); m; m = re.exec(t)) {
    total += Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms'];
    matched = re.lastIndex;
  }
  if (matched === 0 || matched !== t.length) throw new StackError(`not a duration: "${text}"`);
  return total;
}

/** The function's exec_timeout in ms (of-watchdog's default 30s when unset; 0 = none). */
export function execTimeoutMs(fn: StackFunction): number {
  const raw = fn.environment.exec_timeout;
  return raw === undefined ? 30_000 : parseDurationMs(raw);
}
