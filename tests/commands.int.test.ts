/**
 * Issue #10 end to end, every hop real: a Timing official POSTs /items/commands to the run's
 * Directus → trm-commands hook (validation, rate limit, text, expires_at) → BullMQ
 * `device-commands` → the connector (`startConnectorService`, with its command status consumer)
 * → the local functions gateway → route-command → `commands:{instance}` of an in-process ingest
 * server → Codec 12 over TCP to a SimulatedDevice that answers → `commands:events` → the status
 * consumer → the row PATCHed through Directus as the service account.
 *
 * The Directus extensions of this run write to the `directusRedisPrefix` namespace, so every
 * service here uses it; each test makes its own organisation, users and device.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { silentLogger } from '../common/src/log.ts';
import { createRedis, type Redis } from '../common/src/redis.ts';
import { redisKeys, type RedisKeys } from '../common/src/redis-keys.ts';
import { startConnectorService, type ConnectorService } from '../connector/src/main.ts';
import type { DirectusError } from '../directus/src/rest.ts';
import { buildFunctionsGateway, type FunctionsGateway } from '../functions/gateway/gateway.ts';
import { closeClients } from '../functions/route-command/handler.ts';
import { ingestConfig } from '../ingest-daemon/src/config.ts';
import { acceptAnyDevice } from '../ingest-daemon/src/known-devices.ts';
import { buildIngestServer, type IngestServer } from '../ingest-daemon/src/server.ts';
import { SimulatedDevice } from '../simulator/src/device.ts';
import { directusSubscriber } from './directus-ws.ts';
import { adminApi, createOrg, createUser, trm, type TestOrg, type TestUser } from './directus-client.ts';

const POLL = { timeout: 30_000, interval: 50 };
const log = silentLogger();

interface CommandRow {
  id: string;
  device: string;
  template: string;
  args: Record<string, unknown> | null;
  text: string;
  status: string;
  response: string | null;
  error: string | null;
  instance: string | null;
  ttl_s: number;
  routed_at: string | null;
  sent_at: string | null;
  responded_at: string | null;
  expires_at: string;
  user_created: string;
}

interface Ingest {
  server: IngestServer;
  port: number;
  close(): Promise<void>;
}

let keys: RedisKeys;
let redis: Redis;
let gateway: FunctionsGateway;
let connector: ConnectorService;
let ingest: Ingest;
let queue: Queue;
const devices: SimulatedDevice[] = [];

async function startIngest(instanceId: string): Promise<Ingest> {
  const t = trm();
  const main = createRedis(t.redisUrl, { enableOfflineQueue: false });
  const commands = createRedis(t.redisUrl);
  main.on('error', () => {});
  commands.on('error', () => {});
  if (main.status !== 'ready') await new Promise<void>((resolve) => main.once('ready', () => resolve()));
  const server = buildIngestServer({ config: ingestConfig({ host: '127.0.0.1', port: 0, instanceId, redisUrl: t.redisUrl }), redis: main, commandsRedis: commands, keys, devices: acceptAnyDevice, log });
  const { port } = await server.listen();
  return {
    server,
    port,
    async close() {
      await server.close();
      main.disconnect();
    },
  };
}

beforeAll(async () => {
  const t = trm();
  keys = redisKeys(t.directusRedisPrefix);
  redis = createRedis(t.redisUrl);
  const env = { REDIS_URL: t.redisUrl, TRM_REDIS_PREFIX: t.directusRedisPrefix, DIRECTUS_URL: t.directusUrl, DIRECTUS_TOKEN: t.serviceToken };
  gateway = await buildFunctionsGateway({ functions: [{ name: 'route-command', handlerDir: fileURLToPath(new URL('../functions/route-command/', import.meta.url)), environment: env }], log, env });
  const gatewayUrl = `http://127.0.0.1:${await gateway.listen(0)}`;
  connector = await startConnectorService(
    { ...env, OPENFAAS_URL: gatewayUrl, CONNECTOR_FUNCTIONS: 'route-command', CONNECTOR_ADMIN_PORT: '0', CONNECTOR_CONSUMER: `cmd-test-${process.pid}`, CONNECTOR_BACKOFF_MS: '50', CONNECTOR_BACKOFF_MAX_MS: '500', COMMANDS_SWEEP_MS: '200', LOG_LEVEL: 'silent' },
    { log },
  );
  ingest = await startIngest(`ingest-a-${randomBytes(3).toString('hex')}`);
  queue = new Queue(keys.queues.deviceCommands, { connection: createRedis(t.redisUrl), prefix: keys.bullPrefix });
});

afterEach(() => {
  for (const d of devices.splice(0)) d.stop();
});

afterAll(async () => {
  await connector?.close();
  await ingest?.close();
  await gateway?.close();
  await queue?.close();
  closeClients();
  redis?.disconnect();
});

interface World {
  org: TestOrg;
  imei: string;
  official: TestUser;
}

const imeiFor = () => `35${String(Date.now()).slice(-7)}${String(randomBytes(3).readUIntBE(0, 3)).padStart(6, '0').slice(-6)}`;

/** An organisation with one device, the usual templates and a timing official. */
async function world(label: string): Promise<World> {
  const org = await createOrg(label);
  const imei = imeiFor();
  const admin = adminApi();
  await admin.request('POST', '/items/devices', { imei, organization: org.id, model: 'FMB920' });
  await admin.request('POST', '/items/command_templates', [
    { organization: org.id, key: 'getinfo', text: 'getinfo', description: 'device status' },
    { organization: org.id, key: 'getver', text: 'getver' },
    { organization: org.id, key: 'setdigout', text: 'setdigout {state}' },
    { organization: org.id, key: 'cpureset', text: 'cpureset', active: false },
  ]);
  return { org, imei, official: await createUser('Timing official', org.id, `official-${label}`) };
}

function device(imei: string, port = ingest.port): SimulatedDevice {
  const d = new SimulatedDevice({ host: '127.0.0.1', port, imei, reconnectDelayMs: 50, respond: (text) => `ok:${text}` });
  devices.push(d);
  d.connect();
  return d;
}

const online = (imei: string) => async () => (await redis.get(keys.deviceRoute(imei))) !== null;

function create(user: TestUser, body: Record<string, unknown>): Promise<CommandRow> {
  return user.api.request<CommandRow>('POST', '/items/commands', body);
}

const row = (id: string) => adminApi().request<CommandRow>('GET', `/items/commands/${id}`);

/** The code and status of a refused request. */
async function refusal(promise: Promise<unknown>): Promise<{ status: number; code: unknown }> {
  try {
    await promise;
  } catch (error) {
    const e = error as DirectusError;
    return { status: e.status, code: e.details?.directusCode };
  }
  return { status: 200, code: undefined };
}

describe('device commands end to end', () => {
  test('responded: an official’s command reaches the online device and its answer lands in the row, audited', async () => {
    const w = await world('resp');
    device(w.imei);
    await expect.poll(online(w.imei), POLL).toBe(true);

    const created = await create(w.official, { device: w.imei, template: 'setdigout', args: { state: '1??' }, text: 'cpureset', status: 'responded' });
    // the answer to the POST is read after the action hook ran: routing may already have begun
    expect(created).toMatchObject({ text: 'setdigout 1??', ttl_s: 600, user_created: w.official.id });
    expect(Date.parse(created.expires_at)).toBeGreaterThan(Date.now());

    await expect.poll(async () => (await row(created.id)).status, POLL).toBe('responded');
    const done = await w.official.api.request<CommandRow>('GET', `/items/commands/${created.id}`);
    expect(done).toMatchObject({ response: 'ok:setdigout 1??', instance: ingest.server.instanceId, error: null });
    expect(done.routed_at && done.sent_at && done.responded_at).toBeTruthy();
    expect(Date.parse(done.sent_at!)).toBeLessThanOrEqual(Date.parse(done.responded_at!));

    const activity = await adminApi().request<{ action: string; user: string }[]>('GET', `/activity?filter=${encodeURIComponent(JSON.stringify({ collection: { _eq: 'commands' }, item: { _eq: created.id } }))}&sort=id&fields=action,user`);
    expect(activity[0]).toEqual({ action: 'create', user: w.official.id });
    expect(activity.filter((a) => a.action === 'update').length).toBeGreaterThanOrEqual(3); // routed, sent, responded
    expect(activity.filter((a) => a.action === 'update').every((a) => a.user !== w.official.id)).toBe(true);
    // the create's revision: what the hook made of the client's payload (its text and status were overwritten)
    const revisions = await adminApi().request<{ data: Record<string, unknown> }[]>('GET', `/revisions?filter=${encodeURIComponent(JSON.stringify({ collection: { _eq: 'commands' }, item: { _eq: created.id } }))}&sort=id&fields=data`);
    expect(revisions[0].data).toMatchObject({ status: 'queued', text: 'setdigout 1??', template: 'setdigout', args: { state: '1??' }, response: null });

    const health = (await (await fetch(`http://127.0.0.1:${connector.admin.port}/healthz`)).json()) as { commandStatus?: { running: boolean; handled: number } };
    expect(health.commandStatus).toMatchObject({ running: true });
    expect(health.commandStatus!.handled).toBeGreaterThanOrEqual(3); // online, sent, responded
  });

  test('the official sees the command move to responded over Directus’s WebSocket, as the SPA does', async () => {
    const w = await world('ws');
    device(w.imei);
    await expect.poll(online(w.imei), POLL).toBe(true);
    const ws = await directusSubscriber(w.official.accessToken);
    try {
      await ws.subscribe('commands', ['id', 'status', 'response']);

      const created = await create(w.official, { device: w.imei, template: 'getinfo' });
      const updates = () => (ws.pushed('commands', 'update') as { id: string; status: string; response: string | null }[]).filter((d) => d.id === created.id);
      await expect.poll(() => updates().some((d) => d.status === 'responded'), POLL).toBe(true);
      expect(updates().find((d) => d.status === 'responded')).toMatchObject({ response: 'ok:getinfo' });
      expect(updates().map((d) => d.status)).toEqual(expect.arrayContaining(['routed', 'sent', 'responded']));
    } finally {
      ws.close();
    }
  });

  test('offline then delivered on connect: the command waits queued and is sent when the device logs in', async () => {
    const w = await world('offline');
    const created = await create(w.official, { device: w.imei, template: 'getver' });
    await expect.poll(async () => (await queue.getJob(`cmd-${created.id}`))?.getState(), POLL).toBe('completed');
    expect((await row(created.id)).status).toBe('queued');

    const d = device(w.imei);
    await expect.poll(async () => (await row(created.id)).status, POLL).toBe('responded');
    expect(await row(created.id)).toMatchObject({ response: 'ok:getver', instance: ingest.server.instanceId });
    expect(d.stats.commands).toBe(1);
  });

  test('expired after its TTL while the device is offline, and never sent afterwards', async () => {
    const w = await world('expiry');
    const stale = await create(w.official, { device: w.imei, template: 'getinfo', ttl_s: 1 });
    await expect.poll(async () => (await row(stale.id)).status, POLL).toBe('expired');
    expect(await row(stale.id)).toMatchObject({ error: 'COMMAND_ERR_EXPIRED', sent_at: null });

    const seen: string[] = [];
    const d = new SimulatedDevice({ host: '127.0.0.1', port: ingest.port, imei: w.imei, respond: (text) => `ok:${text}`, onCommand: (c) => seen.push(c) });
    devices.push(d);
    d.connect();
    await expect.poll(online(w.imei), POLL).toBe(true);
    const fresh = await create(w.official, { device: w.imei, template: 'getver' });
    await expect.poll(async () => (await row(fresh.id)).status, POLL).toBe('responded');
    expect(seen).toEqual(['getver']);
    expect((await row(stale.id)).status).toBe('expired');
  });

  test('instance died: a command routed to it is rerouted when the device connects to another instance', async () => {
    const w = await world('reroute');
    // the device was on an instance that then died: its route still names it, nobody reads its stream
    await redis.set(keys.deviceRoute(w.imei), 'dead-instance', 'EX', 60);
    const created = await create(w.official, { device: w.imei, template: 'getinfo' });
    await expect.poll(async () => (await row(created.id)).status, POLL).toBe('routed');
    expect((await row(created.id)).instance).toBe('dead-instance');

    await redis.del(keys.deviceRoute(w.imei)); // its TTL ran out
    const other = await startIngest(`ingest-b-${randomBytes(3).toString('hex')}`);
    try {
      device(w.imei, other.port);
      await expect.poll(async () => (await row(created.id)).status, POLL).toBe('responded');
      expect(await row(created.id)).toMatchObject({ instance: other.server.instanceId, response: 'ok:getinfo' });
    } finally {
      for (const d of devices.splice(0)) d.stop();
      await other.close();
    }
  });

  test('forbidden for another organisation’s operator (403 COMMAND_ERR_FORBIDDEN), and no row is written', async () => {
    const a = await world('org-a');
    const b = await world('org-b');
    expect(await refusal(create(b.official, { device: a.imei, template: 'getinfo' }))).toEqual({ status: 403, code: 'COMMAND_ERR_FORBIDDEN' });
    expect(await refusal(create(b.official, { device: '000000000000000', template: 'getinfo' }))).toEqual({ status: 403, code: 'COMMAND_ERR_FORBIDDEN' });
    const rows = await adminApi().request<unknown[]>('GET', `/items/commands?filter=${encodeURIComponent(JSON.stringify({ device: { _eq: a.imei } }))}`);
    expect(rows).toEqual([]);
  });

  test('unknown, inactive and other organisations’ templates are refused; unsafe or unknown args are refused', async () => {
    const w = await world('tpl');
    const other = await world('tpl-other');
    await adminApi().request('POST', '/items/command_templates', { organization: other.org.id, key: 'setparam', text: 'setparam {id}:{value}' });
    const cases: [Record<string, unknown>, string][] = [
      [{ template: 'format_flash' }, 'COMMAND_ERR_UNKNOWN_TEMPLATE'],
      [{ template: 'cpureset' }, 'COMMAND_ERR_UNKNOWN_TEMPLATE'],
      [{ template: 'setparam', args: { id: 2004, value: 'evil.example' } }, 'COMMAND_ERR_UNKNOWN_TEMPLATE'],
      [{ template: 'setdigout', args: { state: '1\r\ncpureset' } }, 'COMMAND_ERR_BAD_ARGS'],
      [{ template: 'setdigout', args: { state: '1 0 0' } }, 'COMMAND_ERR_BAD_ARGS'],
      [{ template: 'setdigout', args: {} }, 'COMMAND_ERR_BAD_ARGS'],
      [{ template: 'getinfo', args: { extra: 'x' } }, 'COMMAND_ERR_BAD_ARGS'],
      [{ template: 'getinfo', ttl_s: 0 }, 'COMMAND_ERR_BAD_INPUT'],
    ];
    for (const [body, code] of cases) expect(await refusal(create(w.official, { device: w.imei, ...body })), JSON.stringify(body)).toEqual({ status: 400, code });
    const rows = await adminApi().request<unknown[]>('GET', `/items/commands?filter=${encodeURIComponent(JSON.stringify({ device: { _eq: w.imei } }))}`);
    expect(rows).toEqual([]);
  });

  test('a template with a malformed placeholder is refused when it is written', async () => {
    const w = await world('tpl-write');
    expect(await refusal(adminApi().request('POST', '/items/command_templates', { organization: w.org.id, key: 'bad', text: 'setdigout {State' }))).toEqual({ status: 400, code: 'COMMAND_ERR_BAD_TEMPLATE' });
    expect(await refusal(adminApi().request('POST', '/items/command_templates', { organization: w.org.id, key: 'Bad Key', text: 'getinfo' }))).toEqual({ status: 400, code: 'COMMAND_ERR_BAD_TEMPLATE' });
  });

  test('a viewer and a competitor cannot create commands; an official cannot forge a status', async () => {
    const w = await world('roles');
    const viewer = await createUser('Viewer', w.org.id, 'viewer');
    const competitor = await createUser('Competitor', w.org.id, 'competitor');
    expect((await refusal(create(viewer, { device: w.imei, template: 'getinfo' }))).status).toBe(403);
    expect((await refusal(create(competitor, { device: w.imei, template: 'getinfo' }))).status).toBe(403);

    const created = await create(w.official, { device: w.imei, template: 'getinfo' });
    expect(await refusal(w.official.api.request('PATCH', `/items/commands/${created.id}`, { status: 'responded', response: 'forged' }))).toEqual({ status: 403, code: 'COMMAND_ERR_READ_ONLY' });
    expect((await row(created.id)).response).toBeNull();
  });

  test('rate limit: past the per-device budget a command is refused with 429 COMMAND_ERR_RATE_LIMITED', async () => {
    const w = await world('rate');
    const limit = 10; // TRM_COMMANDS_RATE_LIMIT's default
    for (let i = 0; i < limit; i++) await create(w.official, { device: w.imei, template: 'getver' });
    expect(await refusal(create(w.official, { device: w.imei, template: 'getver' }))).toEqual({ status: 429, code: 'COMMAND_ERR_RATE_LIMITED' });
    const rows = await adminApi().request<unknown[]>('GET', `/items/commands?limit=-1&filter=${encodeURIComponent(JSON.stringify({ device: { _eq: w.imei } }))}`);
    expect(rows).toHaveLength(limit);
    // another device of the same organisation has its own budget
    const second = imeiFor();
    await adminApi().request('POST', '/items/devices', { imei: second, organization: w.org.id });
    await expect(create(w.official, { device: second, template: 'getver' })).resolves.toMatchObject({ status: 'queued' });
  });
});
