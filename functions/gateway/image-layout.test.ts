/**
 * The function image without Docker or faas-cli: builds the context as `faas-cli build
 * --shrinkwrap` does (go-sdk builder.CreateBuildContext: the template folder, the handler
 * folder over function/ minus `build`/`template`, then each `configuration.copy` path inside
 * function/), replays the Dockerfile's build stage on it (WORKDIR, COPY and the shell RUN
 * steps; `npm install`/`prune` are replaced by a link to the repo's node_modules and `npm test`
 * by the same vitest run), then starts the runtime the way of-watchdog does (`fprocess`,
 * `http_port`) and calls it. This proves a handler's repo-relative imports resolve in the image.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { afterAll, describe, expect, test } from 'vitest';
import { envsubst } from './stack.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const LANG = 'node24-ts';
const templateDir = join(root, 'template', LANG);
const dockerfile = readFileSync(join(templateDir, 'Dockerfile'), 'utf8');
const stack = parse(envsubst(readFileSync(join(root, 'stack.yml'), 'utf8'), {})) as { functions: Record<string, { handler: string; lang: string }>; configuration?: { copy?: string[] } };
const scratch = mkdtempSync(join(tmpdir(), 'trm-image-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Instruction {
  op: string;
  args: string;
}

/** Dockerfile instructions by stage name, continuation lines joined, comments dropped. */
function stages(text: string): Map<string, Instruction[]> {
  const out = new Map<string, Instruction[]>();
  let current: Instruction[] = [];
  const lines = text.split('\n').filter((l) => !/^\s*#/.test(l));
  const joined = lines.join('\n').replace(/\\\n/g, ' ');
  for (const line of joined.split('\n')) {
    const m = /^\s*([A-Z]+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const [, op, args] = m;
    if (op === 'FROM') {
      current = [];
      out.set(/\bAS\s+(\S+)/i.exec(args)?.[1] ?? args, current);
    }
    current.push({ op, args: args.trim() });
  }
  return out;
}

/** faas-cli's build/<fn>/ for a handler folder. */
function shrinkwrap(name: string, handlerDir: string, copy: string[]): string {
  const ctx = join(scratch, 'build', name);
  cpSync(templateDir, ctx, { recursive: true });
  mkdirSync(join(ctx, 'function'), { recursive: true });
  for (const entry of readdirSync(handlerDir)) {
    if (entry === 'build' || entry === 'template' || entry === 'node_modules') continue;
    cpSync(join(handlerDir, entry), join(ctx, 'function', entry), { recursive: true });
  }
  for (const path of copy) cpSync(join(root, path), join(ctx, 'function', path), { recursive: true });
  return ctx;
}

/** Replays the build stage into <image>/; returns the image root. */
function buildStage(ctx: string): string {
  const image = join(dirname(ctx), `${ctx.split('/').pop()}-image`);
  mkdirSync(image, { recursive: true });
  let workdir = '/';
  const args: Record<string, string> = {};
  const at = (p: string) => join(image, p.startsWith('/') ? p : join(workdir, p));
  for (const { op, args: a } of stages(dockerfile).get('build') ?? []) {
    if (op === 'WORKDIR') {
      workdir = a.startsWith('/') ? a : join(workdir, a);
      mkdirSync(at(workdir), { recursive: true });
    } else if (op === 'ARG') {
      const m = /^(\w+)(?:=(.*))?$/.exec(a);
      if (m) args[m[1]] = (m[2] ?? '').replace(/^"|"$/g, '');
    } else if (op === 'COPY') {
      expect(a, 'the build stage copies only from the context').not.toMatch(/--from/);
      const parts = a.split(/\s+/);
      const dest = parts.pop()!;
      for (const src of parts) {
        const dir = dirname(src);
        const pattern = new RegExp(`^${src.split('/').pop()!.replace(/\./g, '\\.').replace(/\*/g, '.*')}$`);
        const matches = src.includes('*') ? readdirSync(join(ctx, dir)).filter((f) => pattern.test(f)).map((f) => join(dir, f)) : [src];
        for (const m of matches) {
          const target = dest.endsWith('/') ? (src.endsWith('/') ? at(dest) : join(at(dest), m.split('/').pop()!)) : at(dest);
          cpSync(join(ctx, m), target, { recursive: true });
        }
      }
    } else if (op === 'RUN') {
      if (/\bnpm test\b/.test(a)) {
        // `npm test` = the function's package.json test script: vitest over the handler folder
        const cwd = at(/cd\s+(\S+)/.exec(a)?.[1] ?? '.');
        const res = spawnSync(process.execPath, [join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--root', '.'], { cwd, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
        expect(res.status, `${res.stdout}\n${res.stderr}`).toBe(0);
      } else if (/\bnpm\b/.test(a)) {
        if (!existsSync(join(image, 'home/app/node_modules'))) symlinkSync(join(root, 'node_modules'), join(at(workdir), 'node_modules'));
      } else {
        const res = spawnSync('sh', ['-c', a], { cwd: at(workdir), encoding: 'utf8', env: { ...process.env, ...args } });
        expect(res.status, res.stderr).toBe(0);
      }
    }
  }
  return join(image, 'home/app');
}

/** Starts fprocess like of-watchdog (http_port from the image ENV, here 0) and returns its URL. */
async function startRuntime(app: string): Promise<{ url: string; stop: () => void }> {
  const template = parse(readFileSync(join(templateDir, 'template.yml'), 'utf8')) as { fprocess: string };
  const [cmd, ...argv] = template.fprocess.split(/\s+/);
  expect(cmd).toBe('node');
  const child = spawn(process.execPath, argv, { cwd: app, env: { PATH: process.env.PATH, http_port: '0' }, stdio: ['ignore', 'ignore', 'pipe'] });
  const port = await new Promise<number>((resolve, reject) => {
    let text = '';
    child.stderr.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const m = /"msg":"function listening"[^\n]*"port":(\d+)|"port":(\d+)[^\n]*"msg":"function listening"/.exec(text);
      if (m) resolve(Number(m[1] ?? m[2]));
    });
    child.on('exit', (code) => reject(new Error(`runtime exited ${code}: ${text}`)));
  });
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill('SIGTERM') };
}

describe(`${LANG} image, replayed without Docker`, () => {
  const post = (url: string, body: unknown) => fetch(`${url}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  test('the Dockerfile keeps the template contract (watchdog http mode, non-root, tests in the build)', () => {
    const s = stages(dockerfile);
    const ship = s.get('ship') ?? [];
    const env = ship.filter((i) => i.op === 'ENV').map((i) => i.args).join(' ');
    const template = parse(readFileSync(join(templateDir, 'template.yml'), 'utf8')) as { fprocess: string; language: string };
    expect(template.language).toBe(LANG);
    expect(env).toContain(`fprocess="${template.fprocess}"`);
    expect(env).toContain('mode="http"');
    expect(env).toMatch(/upstream_url="http:\/\/127\.0\.0\.1:3000"/);
    expect(env).toMatch(/http_port="3000"/);
    expect(env).toContain('prefix_logs="false"');
    expect(ship.find((i) => i.op === 'USER')?.args).toBe('app');
    expect(ship.at(-1)).toEqual({ op: 'CMD', args: '["fwatchdog"]' });
    expect(ship.some((i) => i.op === 'HEALTHCHECK' && i.args.includes('/tmp/.lock'))).toBe(true);
    expect(ship.some((i) => i.op === 'COPY' && i.args.includes('--from=watchdog /fwatchdog'))).toBe(true);
    expect(dockerfile).toMatch(/ARG NODE_IMAGE=node:24/);
    expect(dockerfile).toMatch(/of-watchdog:0\.11\.\d+/);
    expect((s.get('build') ?? []).some((i) => i.op === 'RUN' && /npm test/.test(i.args))).toBe(true);
    expect(readFileSync(join(templateDir, '.dockerignore'), 'utf8')).toMatch(/node_modules/);
  });

  test('recompute: shrinkwrapped context → build stage (its tests pass) → runtime answers 400 / config error', { timeout: 60_000 }, async () => {
    const ctx = shrinkwrap('recompute', join(root, stack.functions.recompute.handler), stack.configuration?.copy ?? []);
    expect(existsSync(join(ctx, 'function/common/src/triggers.ts'))).toBe(true);
    const app = buildStage(ctx);
    for (const p of ['template/node24-ts/runtime/index.ts', 'functions/handler/handler.ts', 'common/src/triggers.ts', 'functions/src']) expect(existsSync(join(app, p)), p).toBe(true);
    expect(existsSync(join(app, 'functions/handler/common')), 'copied paths moved out of the handler folder').toBe(false);
    const runtime = await startRuntime(app);
    try {
      const bad = await post(runtime.url, { scope: 'nope' });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { code: string }).code).toBe('FN_ERR_BAD_INPUT');
      // recompute is built (issue 6): without DIRECTUS_TOKEN it stops at its config, before any I/O
      const later = await post(runtime.url, { scope: 'stage', id: 3 });
      expect(later.status).toBe(500);
      expect(await later.json()).toMatchObject({ code: 'CONFIG_ERR_INVALID' });
    } finally {
      runtime.stop();
    }
  });

  test('`faas-cli new hello --lang node24-ts` scaffold builds, passes its tests and serves', { timeout: 60_000 }, async () => {
    const handlerDir = join(scratch, 'hello');
    cpSync(join(templateDir, 'function'), handlerDir, { recursive: true });
    const app = buildStage(shrinkwrap('hello', handlerDir, []));
    const runtime = await startRuntime(app);
    try {
      const res = await post(runtime.url, { name: 'Tirana' });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ message: 'hello, Tirana' });
    } finally {
      runtime.stop();
    }
  });
});
