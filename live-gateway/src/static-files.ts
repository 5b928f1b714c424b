/**
 * The live map page: static files from `live-gateway/public/` at `/`, Leaflet's dist files from
 * node_modules at `/vendor/leaflet/` (no CDN: the page works offline), and `/config.json`, which
 * tells the page where Directus is.
 *
 * A small handler instead of @fastify/static: a few files, GET/HEAD only, a fixed content-type
 * table, a weak ETag from size and mtime (304 on If-None-Match), `no-cache` so a new page is
 * picked up at once. Paths are resolved inside the mount's root and anything else is a 404:
 * `..` segments, encoded or not, NUL bytes, dotfiles, directories (except `/` → index.html),
 * unknown extensions.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync } from 'fastify';

export const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

export const PUBLIC_DIR = join(dirname(dirname(fileURLToPath(import.meta.url))), 'public');
export const LEAFLET_DIR = join(dirname(createRequire(import.meta.url).resolve('leaflet/package.json')), 'dist');

/**
 * The file under `root` that the URL path `urlPath` (relative to the mount, still
 * percent-encoded) names, or undefined when it names nothing servable. Pure: no I/O.
 */
export function resolveStaticPath(root: string, urlPath: string, index?: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath.split('?')[0]);
  } catch {
    return undefined; // malformed escape
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
  const segments = decoded.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.some((s) => s === '..' || s.startsWith('.'))) return undefined;
  if (segments.length === 0) return index ? join(root, index) : undefined;
  const file = normalize(join(root, ...segments));
  if (!file.startsWith(root.endsWith(sep) ? root : root + sep)) return undefined;
  return CONTENT_TYPES[extname(file).toLowerCase()] ? file : undefined;
}

export interface StaticMountOptions {
  /** absolute directory the files come from */
  root: string;
  /** served for the mount's own path (`/`); none = 404 */
  index?: string;
}

/** GET/HEAD `<prefix>/*` from `root`; register it with `{ prefix }`. */
export const staticFiles: FastifyPluginAsync<StaticMountOptions> = async (app, { root, index }) => {
  app.get('/*', async (req, reply) => {
    const rel = (req.params as { '*': string })['*'] ?? '';
    const file = resolveStaticPath(root, rel, index);
    const stats = file ? await stat(file).catch(() => undefined) : undefined;
    if (!file || !stats?.isFile()) return reply.code(404).type('text/plain; charset=utf-8').send('not found');
    const etag = `W/"${stats.size.toString(16)}-${Math.floor(stats.mtimeMs).toString(16)}"`;
    reply.header('etag', etag).header('cache-control', 'no-cache').header('x-content-type-options', 'nosniff');
    const inm = req.headers['if-none-match'];
    if (inm && inm.split(',').some((t) => t.trim() === etag)) return reply.code(304).send();
    reply.type(CONTENT_TYPES[extname(file).toLowerCase()]).header('content-length', stats.size);
    return reply.send(createReadStream(file)); // Fastify answers HEAD without the body
  });
};

export interface MapPageOptions {
  /** the Directus the page talks to (REST, /auth/login, /websocket) */
  directusUrl: string;
  publicDir?: string;
  leafletDir?: string;
}

/** The page, its map library and its configuration (encapsulated, STYLE.md rule 10). */
export const mapPage: FastifyPluginAsync<MapPageOptions> = async (app, o) => {
  await app.register(staticFiles, { root: o.publicDir ?? PUBLIC_DIR, index: 'index.html' });
  await app.register(staticFiles, { prefix: '/vendor/leaflet', root: o.leafletDir ?? LEAFLET_DIR });
  app.get('/config.json', async (_req, reply) => reply.header('cache-control', 'no-cache').send({ directusUrl: o.directusUrl, livePath: '/live' }));
};
