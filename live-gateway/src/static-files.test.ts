import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LEAFLET_DIR, mapPage, resolveStaticPath } from './static-files.ts';

const root = '/srv/public';

describe('resolveStaticPath', () => {
  test.each([
    ['app.js', '/srv/public/app.js'],
    ['css/style.css', '/srv/public/css/style.css'],
    ['./app.js', '/srv/public/app.js'],
    ['a%20b.html', '/srv/public/a b.html'],
    ['', '/srv/public/index.html'],
  ])('%j → %s', (urlPath, expected) => {
    expect(resolveStaticPath(root, urlPath, 'index.html')).toBe(expected);
  });

  test.each([
    ['../secret.txt', 'parent'],
    ['css/../../secret.txt', 'parent after a segment'],
    ['%2e%2e/secret.txt', 'encoded dots'],
    ['..%2fsecret.txt', 'encoded slash'],
    ['..%5csecret.txt', 'encoded backslash'],
    ['a%00.js', 'NUL'],
    ['%E0%A4%A', 'malformed escape'],
    ['.env', 'dotfile'],
    ['.git/config.json', 'dot directory'],
    ['server.ts', 'unknown extension'],
    ['noextension', 'no extension'],
  ])('%j is refused (%s)', (urlPath) => {
    expect(resolveStaticPath(root, urlPath, 'index.html')).toBeUndefined();
  });

  test('the mount path itself is a 404 without an index', () => {
    expect(resolveStaticPath(root, '')).toBeUndefined();
  });
});

describe('mapPage', () => {
  let dir: string;
  let app: FastifyInstance;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'trm-static-'));
    const pub = join(dir, 'public');
    mkdirSync(join(pub, 'sub'), { recursive: true });
    writeFileSync(join(pub, 'index.html'), '<!doctype html><title>map</title>');
    writeFileSync(join(pub, 'app.js'), 'export const x = 1;\n');
    writeFileSync(join(pub, '.hidden.js'), 'secret');
    writeFileSync(join(dir, 'outside.js'), 'secret');
    app = Fastify();
    app.get('/healthz', async () => ({ ok: true }));
    await app.register(mapPage, { directusUrl: 'http://127.0.0.1:8055', publicDir: pub });
    await app.ready();
  });

  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('/ is index.html, with a content type, an ETag and no-cache', async () => {
    const res = await app.inject({ url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.headers.etag).toMatch(/^W\/"[0-9a-f]+-[0-9a-f]+"$/);
    expect(res.body).toContain('<title>map</title>');
  });

  test('a module is served as JavaScript; If-None-Match with its ETag is a 304', async () => {
    const first = await app.inject({ url: '/app.js?v=2' });
    expect(first.statusCode).toBe(200);
    expect(first.headers['content-type']).toBe('text/javascript; charset=utf-8');
    const again = await app.inject({ url: '/app.js', headers: { 'if-none-match': String(first.headers.etag) } });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
  });

  test('HEAD has the headers and no body', async () => {
    const res = await app.inject({ method: 'HEAD', url: '/app.js' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-length']).toBe('20');
    expect(res.body).toBe('');
  });

  test.each(['/../outside.js', '/%2e%2e/outside.js', '/sub/..%2f..%2foutside.js', '/.hidden.js', '/sub', '/sub/', '/missing.js', '/vendor/leaflet/'])('%s is a 404', async (url) => {
    const res = await app.inject({ url });
    expect(res.statusCode).toBe(404);
    expect(res.body).not.toContain('secret');
  });

  test('Leaflet comes from node_modules', async () => {
    const js = await app.inject({ url: '/vendor/leaflet/leaflet-src.esm.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.body).toContain('Leaflet');
    const css = await app.inject({ url: '/vendor/leaflet/leaflet.css' });
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(LEAFLET_DIR).toMatch(/node_modules[/\\]leaflet[/\\]dist$/);
  });

  test('other routes keep theirs; /config.json names Directus', async () => {
    expect((await app.inject({ url: '/healthz' })).json()).toEqual({ ok: true });
    expect((await app.inject({ url: '/config.json' })).json()).toEqual({ directusUrl: 'http://127.0.0.1:8055', livePath: '/live' });
  });
});
