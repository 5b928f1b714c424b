/**
 * Lint of stack.yml. faas-cli accepts unknown keys (typos) silently and does not check names,
 * handler folders or timeouts (research/openfaas.md §9), so this test does, plus TRM's own
 * rules: every function has a topic, and every topic has a producer in common/src/triggers.ts.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, test } from 'vitest';
import { redisKeys } from '../../common/src/redis-keys.ts';
import * as triggers from '../../common/src/triggers.ts';
import { COALESCE_VALUES } from '../../connector/src/routes.ts';
import { envsubst, parseDurationMs } from './stack.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const rawText = readFileSync(join(root, 'stack.yml'), 'utf8');
// keys and value types are checked on the raw document; values after envsubst with an empty env
const raw = parse(rawText) as Record<string, unknown>;
const doc = parse(envsubst(rawText, {})) as { functions: Record<string, Record<string, unknown>>; configuration?: { copy?: string[] } };
const names = Object.keys(doc.functions);

// go-sdk stack/schema.go (research/openfaas.md §1)
const TOP_KEYS = ['version', 'provider', 'functions', 'configuration'];
const PROVIDER_KEYS = ['name', 'gateway'];
const CONFIGURATION_KEYS = ['templates', 'copy'];
const FUNCTION_KEYS = ['lang', 'handler', 'image', 'fprocess', 'environment', 'environment_file', 'secrets', 'labels', 'annotations', 'limits', 'requests', 'build_args', 'build_secrets', 'build_options', 'skip_build', 'readonly_root_filesystem', 'constraints', 'namespace', 'platforms'];
const RESOURCE_KEYS = ['memory', 'cpu'];
const ANNOTATION_KEYS = ['topic', 'coalesce'];
const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const fn = (name: string) => doc.functions[name];
const rawFn = (name: string) => (raw.functions as Record<string, Record<string, unknown>>)[name];
const memMi = (v: string) => Number(v.replace(/Mi$/, '')) * (v.endsWith('Gi') ? 1024 : 1);
const cpuMilli = (v: string) => (v.endsWith('m') ? Number(v.slice(0, -1)) : Number(v) * 1000);

describe('stack.yml', () => {
  test('version 1.0, provider openfaas, gateway from OPENFAAS_URL', () => {
    expect(rawText).toMatch(/^version: 1\.0$/m);
    expect(raw.provider).toEqual({ name: 'openfaas', gateway: '${OPENFAAS_URL:-http://127.0.0.1:8080}' });
  });

  test('only known keys at every level', () => {
    expect(Object.keys(raw).filter((k) => !TOP_KEYS.includes(k))).toEqual([]);
    expect(Object.keys(raw.provider as object).filter((k) => !PROVIDER_KEYS.includes(k))).toEqual([]);
    expect(Object.keys((raw.configuration ?? {}) as object).filter((k) => !CONFIGURATION_KEYS.includes(k))).toEqual([]);
    for (const name of names) {
      expect(Object.keys(rawFn(name)).filter((k) => !FUNCTION_KEYS.includes(k)), name).toEqual([]);
      for (const section of ['limits', 'requests']) expect(Object.keys((rawFn(name)[section] ?? {}) as object).filter((k) => !RESOURCE_KEYS.includes(k)), `${name}.${section}`).toEqual([]);
      const annotations = Object.keys((rawFn(name).annotations ?? {}) as object);
      expect(annotations.filter((k) => !ANNOTATION_KEYS.includes(k) && !k.startsWith('com.openfaas.')), `${name}.annotations`).toEqual([]);
    }
  });

  test('the four TRM functions, with DNS-1123 names', () => {
    expect(names.sort()).toEqual(['evaluate-penalties', 'generate-start-order', 'recompute', 'route-command']);
    for (const name of names) {
      expect(name, name).toMatch(DNS_1123_LABEL);
      expect(name.length).toBeLessThanOrEqual(63);
    }
  });

  test.each(names)('%s: handler folder exists with handler.ts, handler.test.ts and package.json', (name) => {
    const handler = String(fn(name).handler);
    expect(handler).toMatch(/^\.\/functions\/[a-z0-9-]+$/);
    const dir = join(root, handler);
    expect(statSync(dir).isDirectory()).toBe(true);
    for (const file of ['handler.ts', 'handler.test.ts', 'package.json']) expect(existsSync(join(dir, file)), `${handler}/${file}`).toBe(true);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { type?: string; scripts?: { test?: string } };
    expect(pkg.type).toBe('module');
    expect(pkg.scripts?.test).toBeTruthy();
  });

  test.each(names)('%s: lang is a template folder whose template.yml names it', (name) => {
    const lang = String(fn(name).lang);
    const file = join(root, 'template', lang, 'template.yml');
    expect(existsSync(file), file).toBe(true);
    const template = parse(readFileSync(file, 'utf8')) as { language?: string; fprocess?: string };
    expect(template.language).toBe(lang);
    expect(template.fprocess).toBeTruthy();
    expect(existsSync(join(root, 'template', lang, 'Dockerfile'))).toBe(true);
  });

  test.each(names)('%s: parametrised image trm-<name>', (name) => {
    expect(rawFn(name).image).toBe(`\${REGISTRY:-ghcr.io/trm-rally}/trm-${name}:\${TAG:-latest}`);
  });

  test.each(names)('%s: environment, timeouts, secrets, scale labels, limits and requests', (name) => {
    const f = fn(name);
    const env = (rawFn(name).environment ?? {}) as Record<string, unknown>;
    for (const [k, v] of Object.entries(env)) expect(typeof v, `${name}.environment.${k} must be a string`).toBe('string');
    const e = f.environment as Record<string, string>;
    const exec = parseDurationMs(e.exec_timeout);
    expect(exec).toBeGreaterThan(0);
    expect(exec).toBeLessThanOrEqual(parseDurationMs(e.write_timeout));
    expect(parseDurationMs(e.read_timeout)).toBeGreaterThan(0);
    // faasd's gateway gives up after ~60 s (research/openfaas.md §5)
    expect(parseDurationMs(e.write_timeout)).toBeLessThanOrEqual(60_000);
    expect(e.DIRECTUS_URL).toBeTruthy();
    expect(f.secrets).toEqual(expect.arrayContaining(['trm-database-url', 'trm-directus-token']));
    const labels = rawFn(name).labels as Record<string, unknown>;
    for (const [k, v] of Object.entries(labels)) expect(typeof v, `${name}.labels.${k} must be a string`).toBe('string');
    const min = Number(labels['com.openfaas.scale.min']);
    const max = Number(labels['com.openfaas.scale.max']);
    expect(min).toBeGreaterThanOrEqual(1);
    expect(max).toBeGreaterThanOrEqual(min);
    const limits = f.limits as Record<string, string>;
    const requests = f.requests as Record<string, string>;
    for (const r of [limits, requests]) {
      expect(r.memory).toMatch(/^\d+(Mi|Gi)$/);
      expect(r.cpu).toMatch(/^\d+m$/);
    }
    expect(memMi(requests.memory)).toBeLessThanOrEqual(memMi(limits.memory));
    expect(cpuMilli(requests.cpu)).toBeLessThanOrEqual(cpuMilli(limits.cpu));
  });

  test.each(names)('%s: has a topic every part of it parses, and a valid coalesce', (name) => {
    const annotations = (rawFn(name).annotations ?? {}) as Record<string, unknown>;
    for (const [k, v] of Object.entries(annotations)) expect(typeof v, `${name}.annotations.${k}`).toBe('string');
    const topic = String(annotations.topic ?? '');
    expect(topic, `${name} needs a topic annotation`).not.toBe('');
    for (const t of topic.split(',')) expect(() => triggers.parseTopic(t)).not.toThrow();
    if (annotations.coalesce !== undefined) expect(COALESCE_VALUES).toContain(annotations.coalesce);
  });

  test('every topic has a producer in common/src/triggers.ts that writes the key the topic names', () => {
    const source = readFileSync(join(root, 'common/src/triggers.ts'), 'utf8');
    const keys = redisKeys('');
    // which RedisKeys member each producer must use
    const keyExpression: Record<string, string> = {
      [keys.recomputeRequests]: 'keys.recomputeRequests',
      [keys.queues.deviceCommands]: 'keys.queues.deviceCommands',
      [keys.queues.startOrders]: 'keys.queues.startOrders',
      [keys.queues.penalties]: 'keys.queues.penalties',
    };
    for (const name of names) {
      for (const text of String((fn(name).annotations as Record<string, string>).topic).split(',')) {
        const topic = triggers.parseTopic(text);
        const formatted = triggers.formatTopic(topic) as triggers.ProducedTopic;
        const producer = triggers.TRIGGER_PRODUCERS[formatted];
        expect(producer, `no producer for ${formatted} (function ${name})`).toBeTruthy();
        expect(typeof (triggers as Record<string, unknown>)[producer], `${producer} is not exported`).toBe('function');
        const key = triggers.topicKey(topic, keys);
        expect(keyExpression[key], `${formatted} names ${key}, which is no key of redis-keys.ts`).toBeTruthy();
        const body = source.slice(source.indexOf(`export async function ${producer}(`));
        const end = body.indexOf('\n}\n');
        expect(body.slice(0, end), `${producer} must use ${keyExpression[key]}`).toContain(keyExpression[key]);
      }
    }
  });

  test('every produced topic is consumed by a function', () => {
    const consumed = new Set(names.flatMap((n) => String((fn(n).annotations as Record<string, string>).topic).split(',').map((t) => triggers.formatTopic(triggers.parseTopic(t)))));
    expect(Object.keys(triggers.TRIGGER_PRODUCERS).filter((t) => !consumed.has(t))).toEqual([]);
  });

  test('configuration.copy paths exist inside the repository', () => {
    for (const path of doc.configuration?.copy ?? []) {
      expect(path).toMatch(/^\.\/[a-z]/);
      expect(path).not.toContain('..');
      expect(existsSync(join(root, path)), path).toBe(true);
    }
  });
});
