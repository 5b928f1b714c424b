/**
 * The live map page in a real browser (playwright-core driving Debian's /usr/bin/chromium,
 * headless). The demo rally is seeded through Directus as `npm start` does, with its start
 * 375 s ago: entries #1 and #2 have finished, the others are still on the stage. Six simulated
 * devices drive into an in-process ingest daemon → db-writer → Postgres, and → the live gateway,
 * which serves the page. Once the page follows the event as the demo operator, the recompute
 * and the penalty evaluation run here (what the connector's live timing does under `npm start`),
 * and the stage time must reach the page through Directus's WebSocket. The screenshot goes to
 * docs/screenshot-live-map.png (the README shows it).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { silentLogger } from '../common/src/log.ts';
import { createPool } from '../common/src/pg.ts';
import { createRedis } from '../common/src/redis.ts';
import { createTestRedis, type TestRedis } from '../common/src/testing/redis.ts';
import type { PenaltyEvaluationRequest } from '../common/src/triggers.ts';
import { startWriterService, type WriterService } from '../db-writer/src/main.ts';
import { driveDemo, type DemoDrive } from '../demo/drive.ts';
import { DEMO_ORG_SLUG, seedDemo, type SeededDemo } from '../demo/seed.ts';
import { directusApi } from '../functions/src/directus-io/directus-api.ts';
import { runPenaltyEvaluation } from '../functions/src/evaluate-penalties/evaluate.ts';
import { directusApi as recomputeApi } from '../functions/src/recompute/directus-api.ts';
import { runRecompute } from '../functions/src/recompute/recompute.ts';
import { loadIngestConfig } from '../ingest-daemon/src/config.ts';
import { startIngest, type RunningIngest } from '../ingest-daemon/src/main.ts';
import { loadGatewayConfig } from '../live-gateway/src/config.ts';
import { buildGateway, type Gateway } from '../live-gateway/src/gateway.ts';
import { repoRoot } from '../cli/src/paths.ts';
import { adminApi, serviceApi, trm } from './directus-client.ts';
import { waitFor } from '../common/src/testing/wait.ts';

const CHROMIUM = '/usr/bin/chromium';
// The README's picture is refreshed only on request (TRM_UPDATE_SCREENSHOT=1), so a test run
// leaves the work tree clean; every run saves its own under .trm/.
const SCREENSHOT = process.env.TRM_UPDATE_SCREENSHOT ? join(repoRoot, 'docs', 'screenshot-live-map.png') : join(repoRoot, '.trm', 'screenshots', 'live-map.png');
const operator = { email: 'map-operator@example.com', password: 'map-operator-pw' };
const viewer = { email: 'map-viewer@example.com', password: 'map-viewer-pw' };

/** Debian's chromium, installed here when missing and allowed (root on Debian: CI starts fresh). Never a downloaded browser. */
function ensureChromium(): void {
  if (existsSync(CHROMIUM)) return;
  if (process.getuid?.() !== 0 || !existsSync('/etc/debian_version')) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)`);
  const apt = (args: string[]) => spawnSync('apt-get', args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0;
  if (!apt(['install', '-y', '--no-install-recommends', 'chromium'])) apt(['update']) && apt(['install', '-y', '--no-install-recommends', 'chromium']);
  if (!existsSync(CHROMIUM)) throw new Error(`apt-get could not install chromium (${CHROMIUM} still missing)`);
}

/** entry number → "lat,lon" of every marker on the map (the page keeps them in data attributes) */
async function markerPositions(page: Page): Promise<Record<string, string>> {
  const markers = page.locator('.entry-marker[data-lat]');
  const out: Record<string, string> = {};
  for (const m of await markers.all()) {
    const [n, lat, lon] = await Promise.all([m.getAttribute('data-number'), m.getAttribute('data-lat'), m.getAttribute('data-lon')]);
    if (n) out[n] = `${lat},${lon}`;
  }
  return out;
}

describe('live map page', () => {
  let seeded: SeededDemo;
  let redis: TestRedis;
  let ingest: RunningIngest;
  let writer: WriterService;
  let gateway: Gateway;
  let pool: pg.Pool;
  let drive: DemoDrive;
  let pageUrl: string;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  const pageErrors: string[] = [];
  const origins = new Set<string>();

  beforeAll(async () => {
    ensureChromium();
    const t = trm();
    seeded = await seedDemo(adminApi(), { orgSlug: `${DEMO_ORG_SLUG}-map-${randomBytes(3).toString('hex')}`, startAtMs: Date.now() - 375_000, users: { operator, viewer }, roles: t.roles });
    redis = await createTestRedis('map');
    const env = { REDIS_URL: redis.url, DATABASE_URL: t.directusDatabaseUrl, TRM_REDIS_PREFIX: redis.keys.prefix };
    ingest = await startIngest(loadIngestConfig({ ...env, INGEST_PORT: '0', INGEST_ADMIN_PORT: '0', INGEST_ACCEPT: 'known', INGEST_INSTANCE_ID: 'map-test' }), env, silentLogger());
    writer = await startWriterService({ ...env, WRITER_ADMIN_PORT: '0', WRITER_CONSUMER: 'map-test' }, { log: silentLogger() });
    pool = createPool(t.directusDatabaseUrl, process.env, { max: 4 });
    const config = loadGatewayConfig({ ...env, LIVE_PORT: '0', LIVE_HOST: '127.0.0.1', DIRECTUS_URL: t.directusUrl, DIRECTUS_SECRET: t.directusSecret, DIRECTUS_TOKEN: t.serviceToken, LIVE_READ_BLOCK_MS: '200' });
    gateway = await buildGateway({ config, redis: createRedis(redis.url), blocking: createRedis(redis.url), pool, log: silentLogger() });
    await gateway.start();
    await gateway.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = gateway.app.server.address() as { port: number };
    pageUrl = `http://127.0.0.1:${port}/?event=${seeded.event}`;
    drive = driveDemo({ host: '127.0.0.1', port: ingest.port, startAtMs: seeded.startAtMs });

    profile = mkdtempSync(join(tmpdir(), 'trm-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1366, height: 768 },
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (m) => m.type() === 'error' && pageErrors.push(m.text()));
    page.on('request', (r) => origins.add(new URL(r.url()).origin));
  }, 600_000);

  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    drive?.stop();
    await gateway?.close();
    await writer?.close();
    await ingest?.close();
    await pool?.end();
    await redis?.cleanup();
  });

  test('anonymous: the public event, its course and live markers, with no request leaving this machine', async () => {
    await page.goto(pageUrl);
    await expect.poll(() => page.textContent('#event-name'), { timeout: 30_000 }).toBe('Tirana Demo Rally');
    // the course: route, start/split/finish lines, waypoints, speed zone and time control as SVG paths
    await expect.poll(() => page.locator('.leaflet-overlay-pane path').count(), { timeout: 10_000 }).toBeGreaterThanOrEqual(10);
    expect(await page.locator('.course-label').allTextContents()).toEqual(expect.arrayContaining(['DSS', 'SP1', 'ASS', 'TC0', 'WPV1', 'WPM1', 'WPS1', 'WPC1', 'SLZ1 50 km/h']));
    await expect.poll(() => page.locator('.entry-marker[data-lat]').count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(3);
    await expect.poll(() => page.textContent('#status')).toContain('results: every 5 s (anonymous)');
    const gatewayOrigin = new URL(pageUrl).origin;
    expect([...origins].filter((o) => o !== gatewayOrigin && o !== trm().directusUrl)).toEqual([]);
  });

  test('the demo operator logs in; markers move; a stage time and penalties arrive through Directus', async () => {
    await page.fill('#email', operator.email);
    await page.fill('#password', operator.password);
    await page.click('#login button[type=submit]');
    await expect.poll(() => page.textContent('#user-name'), { timeout: 15_000 }).toContain('Demo');
    await expect.poll(() => page.textContent('#status'), { timeout: 15_000 }).toContain('results: live (Directus WebSocket)');
    await expect.poll(() => page.textContent('#status'), { timeout: 15_000 }).toContain('live: following');

    // markers move: some entry's position differs between two reads
    const first = await waitFor('markers', async () => {
      const p = await markerPositions(page);
      return Object.keys(p).length >= 3 && p;
    });
    await waitFor('a marker to move', async () => {
      const now = await markerPositions(page);
      return Object.keys(now).some((n) => first[n] !== undefined && now[n] !== first[n]);
    }, 60_000, 500);
    expect(await page.locator('.stage-time').count()).toBe(0);

    // what live timing does under npm start: recompute the stage once the finishers' fixes are
    // written, then evaluate penalties for the entries whose rows changed
    const api = { recompute: recomputeApi({ url: trm().directusUrl, token: trm().serviceToken }), penalties: directusApi({ url: trm().directusUrl, token: trm().serviceToken }) };
    const finished = await waitFor('a finished stage time', async () => {
      const requests: PenaltyEvaluationRequest[] = [];
      await runRecompute({ api: api.recompute, pool, now: Date.now, penalties: async (r) => requests.push(r) }, { scope: 'stage', id: String(seeded.stage), reason: 'live map test' });
      for (const r of requests) await runPenaltyEvaluation({ api: api.penalties }, r);
      const rows = await serviceApi().request<{ entry: number; total_ms: number | null }[]>('GET', `/items/stage_times?filter=${encodeURIComponent(JSON.stringify({ stage: { _eq: seeded.stage }, status: { _eq: 'finished' } }))}&fields=entry,total_ms`);
      return rows.length > 0 && rows;
    }, 90_000, 2_000);
    expect(finished.some((r) => r.entry === seeded.entries[1])).toBe(true);

    // the stage time reaches the entry list (pushed by Directus's WebSocket: nothing polls when logged in)
    const row1 = page.locator(`#entries tr[data-number="1"] .stage-time`);
    await expect.poll(() => row1.textContent(), { timeout: 30_000 }).toMatch(/^\d+:\d{2}\.\d$/);
    const penalties = await serviceApi().request<{ entry: number }[]>('GET', `/items/penalties?filter=${encodeURIComponent(JSON.stringify({ event: { _eq: seeded.event } }))}&fields=entry`);
    for (const entry of new Set(penalties.map((p) => p.entry))) {
      await expect.poll(() => page.locator(`#entries tr[data-entry="${entry}"] td.pen`).textContent(), { timeout: 30_000 }).toMatch(/^\+|EXCL/);
    }
    // updates too: the evaluation rewrites the finishers' stage_times with their totals
    const totals = await serviceApi().request<{ entry: number }[]>('GET', `/items/stage_times?filter=${encodeURIComponent(JSON.stringify({ stage: { _eq: seeded.stage }, penalty_ms: { _gt: 0 }, total_ms: { _nnull: true } }))}&fields=entry`);
    for (const { entry } of totals) {
      await expect.poll(() => page.locator(`#entries tr[data-entry="${entry}"] td.time`).textContent(), { timeout: 30_000 }).toContain('total');
    }

    await page.screenshot({ path: SCREENSHOT });
    expect(pageErrors).toEqual([]);
  });
});
