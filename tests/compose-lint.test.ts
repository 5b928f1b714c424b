/**
 * Static lint of docker-compose.yml and the Dockerfiles it builds (no Docker engine needed):
 * every service is buildable or pulled, restarts, reports health, reads only known variables,
 * and every image runs a real `trm` command as a non-root user.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, test } from 'vitest';
import { commands } from '../cli/src/commands/index.ts';

const root = fileURLToPath(new URL('../', import.meta.url));
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
};
interface Service {
  image?: string;
  build?: { context: string; dockerfile?: string; target?: string };
  restart?: string;
  healthcheck?: { test: string[] | string };
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  command?: string[];
  volumes?: string[];
}
const services = Object.entries(compose.services);
const ONE_SHOTS = ['db-init'];
const REQUIRED = ['postgres', 'redis', 'directus', 'db-init', 'ingest-daemon', 'db-writer', 'live-gateway', 'functions', 'connector', 'safety'];
// the admin (or service) port each health check must probe, by the variable that sets it
const HEALTH_PORT_VARIABLE: Record<string, string> = {
  'ingest-daemon': 'INGEST_ADMIN_PORT',
  'db-writer': 'WRITER_ADMIN_PORT',
  safety: 'SAFETY_ADMIN_PORT',
  'live-gateway': 'LIVE_PORT',
  functions: 'FUNCTIONS_PORT',
  connector: 'CONNECTOR_ADMIN_PORT',
};
// variables of third-party images (not read by TRM code)
const IMAGE_VARIABLES = ['POSTGRES_USER', 'POSTGRES_PASSWORD', 'POSTGRES_DB'];

function architectureVariables(): string[] | undefined {
  const file = join(root, '..', 'shared', 'ARCHITECTURE.md');
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, 'utf8');
  const table = text.slice(text.indexOf('| variable | default | meaning |'));
  const rows = table.split('\n').filter((l) => l.startsWith('|')).slice(2);
  return rows.flatMap((row) => [...row.split('|')[1].matchAll(/`([A-Z0-9_]+)`/g)].map((m) => m[1]));
}

/** Every .ts file of the repository's own code (no node_modules). */
function sourceText(): string {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      if (entry === 'node_modules' || entry.startsWith('.') || entry === 'build') continue;
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (entry.endsWith('.ts') && !entry.endsWith('.test.ts')) out.push(readFileSync(path, 'utf8'));
    }
  };
  for (const dir of ['common', 'cli', 'ingest-daemon', 'db-writer', 'live-gateway', 'functions', 'connector', 'directus/src', 'template']) if (existsSync(join(root, dir))) walk(join(root, dir));
  return out.join('\n');
}

function dockerStages(file: string): Map<string, string[]> {
  const text = readFileSync(file, 'utf8').replace(/\\\n/g, ' ');
  const stages = new Map<string, string[]>();
  let current: string[] = [];
  let index = 0;
  for (const line of text.split('\n')) {
    if (/^\s*#/.test(line) || !line.trim()) continue;
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) {
      current = [line];
      stages.set(from[2] ?? `#${index++}`, current);
    } else current.push(line);
  }
  return stages;
}

/** The stage an image ends in: a named target, or the last stage. */
function finalStage(file: string, target?: string): string[] {
  const stages = dockerStages(file);
  if (target) {
    expect(stages.has(target), `${file} has no stage ${target}`).toBe(true);
    const chain: string[] = [];
    let name: string | undefined = target;
    while (name && stages.has(name)) {
      const lines: string[] = stages.get(name)!;
      chain.unshift(...lines);
      name = /^FROM\s+(\S+)/i.exec(lines[0])?.[1];
    }
    return chain;
  }
  return [...stages.values()].at(-1)!;
}

describe('docker-compose.yml', () => {
  test('has every TRM service', () => {
    expect(Object.keys(compose.services).sort()).toEqual([...REQUIRED].sort());
  });

  test.each(services)('%s: an image or a build whose Dockerfile (and target) exist', (_name, s) => {
    expect(Boolean(s.image || s.build)).toBe(true);
    if (!s.build) return;
    const dockerfile = join(root, s.build.context, s.build.dockerfile ?? 'Dockerfile');
    expect(existsSync(dockerfile), dockerfile).toBe(true);
    finalStage(dockerfile, s.build.target);
  });

  test.each(services)('%s: a restart policy, and a health check unless it is a one-shot', (name, s) => {
    expect(['always', 'unless-stopped', 'on-failure', 'no']).toContain(s.restart);
    if (ONE_SHOTS.includes(name)) {
      expect(s.restart).toBe('on-failure');
      return;
    }
    expect(['always', 'unless-stopped']).toContain(s.restart);
    expect(s.healthcheck?.test, `${name} needs a healthcheck`).toBeTruthy();
  });

  test.each(Object.entries(HEALTH_PORT_VARIABLE))('%s: the health check probes /healthz on the port %s sets', (name, variable) => {
    const s = compose.services[name];
    const test = JSON.stringify(s.healthcheck?.test);
    const port = s.environment?.[variable];
    expect(port, `${name} must set ${variable}`).toMatch(/^\d+$/);
    expect(test).toContain(`127.0.0.1:${port}/healthz`);
  });

  test.each(services)('%s: depends_on names services, waiting for health or completion', (_name, s) => {
    for (const [dep, { condition }] of Object.entries(s.depends_on ?? {})) {
      expect(compose.services[dep], dep).toBeTruthy();
      if (ONE_SHOTS.includes(dep)) expect(condition).toBe('service_completed_successfully');
      else {
        expect(condition).toBe('service_healthy');
        expect(compose.services[dep].healthcheck).toBeTruthy();
      }
    }
  });

  test('every environment variable is in ARCHITECTURE.md, read by TRM code, or the image’s own', () => {
    const architecture = architectureVariables() ?? [];
    const source = sourceText();
    const unknown: string[] = [];
    for (const [name, s] of services) {
      for (const variable of Object.keys(s.environment ?? {})) {
        if (architecture.includes(variable) || IMAGE_VARIABLES.includes(variable)) continue;
        if (!source.includes(`'${variable}'`) && !source.includes(`"${variable}"`) && !new RegExp(`\\.${variable}\\b`).test(source)) unknown.push(`${name}: ${variable}`);
      }
    }
    expect(unknown).toEqual([]);
  });

  test('ARCHITECTURE.md variables are the ones services use (when the doc is beside the repo)', () => {
    const architecture = architectureVariables();
    if (!architecture) return;
    expect(architecture).toEqual(expect.arrayContaining(['DATABASE_URL', 'REDIS_URL', 'FUNCTIONS_PORT', 'OPENFAAS_URL']));
  });

  test('Postgres has TimescaleDB + PostGIS, Redis keeps an AOF, both on volumes', () => {
    expect(compose.services.postgres.image).toMatch(/^timescale\/timescaledb-ha:pg1[5-9]/);
    expect(compose.services.redis.image).toMatch(/^redis:7/);
    expect(compose.services.redis.command).toEqual(expect.arrayContaining(['--appendonly', 'yes']));
    for (const name of ['postgres', 'redis']) {
      for (const volume of compose.services[name].volumes ?? []) expect(Object.keys(compose.volumes ?? {})).toContain(volume.split(':')[0]);
    }
  });

  test('the connector calls the functions container unless OPENFAAS_URL points elsewhere', () => {
    expect(compose.services.connector.environment?.OPENFAAS_URL).toBe('${OPENFAAS_URL:-http://functions:8080}');
    expect(compose.services.functions.environment?.FUNCTIONS_HOST).toBe('0.0.0.0');
  });

  test.each(services.filter(([, s]) => s.build))('%s: Node 24, npm ci without dev dependencies, non-root, runs a real trm command', (name, s) => {
    const file = join(root, s.build!.context, s.build!.dockerfile ?? 'Dockerfile');
    const text = readFileSync(file, 'utf8');
    expect(text).toMatch(/NODE_IMAGE=node:24/);
    expect(text).toMatch(/npm ci --omit=dev/);
    const stage = finalStage(file, s.build!.target);
    const users = stage.filter((l) => /^USER\s/i.test(l));
    expect(users.at(-1), `${name} must not run as root`).toMatch(/^USER\s+(?!root\b|0\b)\S+/i);
    const cmd = stage.filter((l) => /^CMD\s/i.test(l)).at(-1)!;
    const argv = JSON.parse(cmd.replace(/^CMD\s+/i, '')) as string[];
    expect(argv.slice(0, 2)).toEqual(['node', 'cli/src/main.ts']);
    expect(commands.map((c) => c.name), `${argv[2]} is not a trm command`).toContain(argv[2]);
  });

  test('the root Dockerfile copies every workspace manifest before npm ci', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { workspaces: string[] };
    const text = readFileSync(join(root, 'Dockerfile'), 'utf8');
    for (const ws of pkg.workspaces) {
      expect(existsSync(join(root, ws, 'package.json')), ws).toBe(true);
      expect(text, ws).toContain(`COPY ${ws}/package.json ${ws}/`);
    }
    expect(readFileSync(join(root, '.dockerignore'), 'utf8')).toMatch(/node_modules/);
  });
});
