/**
 * Scenario 6 of issue 12, the commands abuse case and hostile function inputs, against a
 * Directus of this file's own and `trm functions`, `trm connector` and `trm ingest` child
 * processes (own key prefix).
 *
 * With the connector down, a backlog builds: recompute requests (every entry of a stage twice,
 * and the stage once) in `recompute:requests`, and device-command jobs in BullMQ (commands an
 * official created through Directus for an online simulated device). The connector starts, is
 * killed with SIGKILL in the middle of the drain, and starts again. Afterwards every request was
 * delivered (stream group empty, no dead letters, one finished stage time per entry, a clean
 * recompute changes nothing) and every command answered exactly once (the device received each
 * one once; never sent twice).
 */
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import pg from 'pg';
import { pgConfig } from '../../common/src/pg.ts';
import { createRedis, type Redis } from '../../common/src/redis.ts';
import { redisKeys, type RedisKeys } from '../../common/src/redis-keys.ts';
import { requestRecompute, type RecomputeRequest } from '../../common/src/triggers.ts';
import { CONSUMER_GROUP } from '../../connector/src/stream-consumer.ts';
import { directusApi } from '../../functions/src/recompute/directus-api.ts';
import { runRecompute } from '../../functions/src/recompute/recompute.ts';
import { SimulatedDevice } from '../../simulator/src/device.ts';
import { newImei } from '../recompute-scenario.ts';
import { bootOwnDirectus, type OwnDirectus } from './own-directus.ts';
import { figures, freePort, seconds, spawnService, waitFor, waitHttp, waitTcp, type Service } from './support.ts';
import { createTimingCourse, insertAsDecoded, NOW, type TimingCourse } from './timing.ts';

const COMMANDS = 8; // under the per-device budget of 10 a minute

async function groupBacklog(redis: Redis, stream: string, group: string): Promise<{ pending: number; lag: number }> {
  const groups = (await redis.call('XINFO', 'GROUPS', stream)) as unknown[][];
  for (const g of groups) {
    const m = new Map<string, unknown>();
    for (let i = 0; i + 1 < g.length; i += 2) m.set(String(g[i]), g[i + 1]);
    if (m.get('name') === group) return { pending: Number(m.get('pending')), lag: Number(m.get('lag') ?? 0) };
  }
  return { pending: -1, lag: -1 };
}

describe('the connector down with a backlog', () => {
  let dx: OwnDirectus;
  let pool: pg.Pool;
  let redis: Redis;
  let keys: RedisKeys;
  let course: TimingCourse;
  let fnPort: number;
  const services: Service[] = [];
  let device: SimulatedDevice | undefined;

  beforeAll(async () => {
    dx = await bootOwnDirectus('faultscx');
    keys = redisKeys(dx.redisPrefix);
    pool = new pg.Pool(pgConfig(dx.databaseUrl, process.env, { max: 4 }));
    pool.on('error', () => {});
    redis = createRedis(dx.redisUrl);
    course = await createTimingCourse(dx.admin, 12);
    await insertAsDecoded(pool, course.records);
    fnPort = await freePort();
    const fn = spawnService('functions', {
      FUNCTIONS_PORT: String(fnPort), DATABASE_URL: dx.databaseUrl, DIRECTUS_URL: dx.url, DIRECTUS_TOKEN: dx.serviceToken,
      REDIS_URL: dx.redisUrl, TRM_REDIS_PREFIX: dx.redisPrefix, RECOMPUTE_PENALTIES: 'false', RECOMPUTE_WORKERS: '0',
    });
    services.push(fn);
    await waitHttp(`http://127.0.0.1:${fnPort}/healthz`, fn);
  });
  afterAll(async () => {
    device?.stop();
    for (const s of services) await s.kill9();
    const found = dx ? await redis.keys(`${keys.prefix}*`) : [];
    if (found.length) await redis.del(...found);
    redis?.disconnect();
    await pool?.end();
    await dx?.destroy();
  });

  test('restarted (and killed mid-drain), it drains everything: nothing lost, nothing doubled', async () => {
    // an online device of the course's organisation, behind a real ingest daemon
    const imei = newImei();
    await dx.admin.request('POST', '/items/devices', { imei, organization: course.organization, model: 'FMB920' });
    await dx.admin.request('POST', '/items/command_templates', [
      { organization: course.organization, key: 'getinfo', text: 'getinfo' },
      { organization: course.organization, key: 'getver', text: 'getver' },
    ]);
    const official = await dx.createUser('Timing official', course.organization, 'official');
    const ingestPort = await freePort();
    const ing = spawnService('ingest', { REDIS_URL: dx.redisUrl, TRM_REDIS_PREFIX: dx.redisPrefix, INGEST_PORT: String(ingestPort), INGEST_ADMIN_PORT: '0', INGEST_ACCEPT: 'any', INGEST_INSTANCE_ID: 'faults-cx' });
    services.push(ing);
    await waitTcp(ingestPort);
    const received: string[] = [];
    device = new SimulatedDevice({ host: '127.0.0.1', port: ingestPort, imei, reconnectDelayMs: 100, respond: (text) => `ok:${text}`, onCommand: (text) => received.push(text) });
    device.connect();
    await waitFor('the device online', async () => (await redis.get(keys.deviceRoute(imei))) !== null, { timeoutMs: 30_000 });

    // the backlog, built while no connector runs
    const commandIds: string[] = [];
    for (let i = 0; i < COMMANDS; i++) {
      const row = await official.api.request<{ id: string }>('POST', '/items/commands', { device: imei, template: i % 2 ? 'getver' : 'getinfo' });
      commandIds.push(row.id);
    }
    const requests: RecomputeRequest[] = [...course.sc.entries, ...course.sc.entries].map((id) => ({ scope: 'entry', id: String(id), reason: 'backlog', requested_by: 'faults' }));
    requests.push({ scope: 'stage', id: String(course.sc.stage), reason: 'backlog', requested_by: 'faults' });
    for (const r of requests) await requestRecompute(redis, keys, r);
    const queue = new Queue(keys.queues.deviceCommands, { connection: createRedis(dx.redisUrl), prefix: keys.bullPrefix });
    const backlog = { recomputeRequests: requests.length, commandJobs: (await queue.getJobCounts('waiting')).waiting };

    const connector = () => {
      const s = spawnService('connector', {
        OPENFAAS_URL: `http://127.0.0.1:${fnPort}`, REDIS_URL: dx.redisUrl, TRM_REDIS_PREFIX: dx.redisPrefix, DIRECTUS_URL: dx.url, DIRECTUS_TOKEN: dx.serviceToken,
        CONNECTOR_ADMIN_PORT: '0', CONNECTOR_CONSUMER: 'faults-connector', CONNECTOR_FUNCTIONS: 'recompute,route-command', LIVE_TIMING: 'false',
        CONNECTOR_LOCK_MS: '3000', CONNECTOR_CLAIM_IDLE_MS: '2000', COMMANDS_SWEEP_MS: '1000', CONNECTOR_BACKOFF_MS: '100', CONNECTOR_CONCURRENCY: '2',
      });
      services.push(s);
      return s;
    };
    const stageTimes = async () => (await dx.admin.request<{ status: string; entry: number }[]>('GET', `/items/stage_times?limit=-1&fields=status,entry&filter=${encodeURIComponent(JSON.stringify({ stage: { _eq: course.sc.stage } }))}`));
    const statuses = async () => Promise.all(commandIds.map(async (id) => (await dx.admin.request<{ status: string }>('GET', `/items/commands/${id}?fields=status`)).status));
    const started = Date.now();
    let cx = connector();
    // kill -9 once the drain is under way, before it is done
    await waitFor('the drain under way', async () => (await stageTimes()).length > 0 || received.length > 0, { timeoutMs: 60_000, intervalMs: 20 });
    const progressAtKill = { stageTimes: (await stageTimes()).length, commandsReceived: received.length };
    await cx.kill9();
    cx = connector();
    await waitFor('every command answered', async () => (await statuses()).every((s) => s === 'responded'), { timeoutMs: 120_000, intervalMs: 200 });
    await waitFor('every recompute request delivered', async () => {
      const b = await groupBacklog(redis, keys.recomputeRequests, CONSUMER_GROUP);
      return b.pending === 0 && b.lag === 0;
    }, { timeoutMs: 120_000, intervalMs: 200 });
    const drainedS = seconds(Date.now() - started);
    expect(await cx.stop()).toBe(0);

    const rows = await stageTimes();
    const again = await runRecompute({ api: directusApi({ url: dx.url, token: dx.serviceToken }), pool, now: () => NOW }, { scope: 'stage', id: String(course.sc.stage), reason: 'check' });
    const runs = await dx.admin.request<unknown[]>('GET', `/items/recompute_runs?limit=-1&fields=id&filter=${encodeURIComponent(JSON.stringify({ reason: { _contains: 'backlog' } }))}`);
    const jobs = await queue.getJobCounts('completed', 'failed', 'active', 'waiting');
    await queue.close();
    const dead = await redis.xlen(keys.connectorDead);
    figures('connector-backlog', {
      backlog, progressAtKill, drainedS, stageTimes: rows.length, finished: rows.filter((r) => r.status === 'finished').length, entries: course.sc.entries.length,
      recomputeRuns: runs.length, changesOnCleanRecompute: again.totalChanges, commands: COMMANDS, commandsReceivedByDevice: received.length, jobs, deadLetters: dead,
    });
    expect(rows.length).toBe(course.sc.entries.length);
    expect(new Set(rows.map((r) => r.entry)).size).toBe(course.sc.entries.length);
    expect(rows.every((r) => r.status === 'finished')).toBe(true);
    expect(again.totalChanges).toBe(0);
    expect(dead).toBe(0);
    expect(received).toHaveLength(COMMANDS); // each command reached the device once
    expect(jobs.failed).toBe(0);
  });

  test('hostile values in every function input: coded 4xx (or a safe 200), never a 500, a hang or a crash', async () => {
    const base = `http://127.0.0.1:${fnPort}`;
    const listed = (await (await fetch(`${base}/system/functions`)).json()) as { name: string }[];
    const valid: Record<string, Record<string, unknown>> = {
      recompute: { scope: 'entry', id: String(course.sc.entries[0]), reason: 'hostile' },
      'evaluate-penalties': { scope: 'entry', id: String(course.sc.entries[0]), reason: 'hostile' },
      'generate-start-order': { stage_id: String(course.sc.stage), reason: 'hostile' },
      'route-command': { command_id: '00000000-0000-0000-0000-000000000000' },
    };
    let nested: unknown = { leaf: 1 };
    for (let i = 0; i < 2000; i++) nested = { n: nested };
    // values: [label, JSON text of the value]
    const values: [string, string][] = [
      ['null', 'null'], ['true', 'true'], ['negative', '-1'], ['zero', '0'], ['fraction', '1.5'], ['huge number', '1e308'],
      ['Infinity (1e309)', '1e309'], ['-Infinity', '-1e309'], ['big integer text', JSON.stringify('9'.repeat(400))],
      ['empty string', '""'], ['huge string', JSON.stringify('x'.repeat(200_000))], ['NUL', JSON.stringify('a\u0000b')],
      ['SQL injection', JSON.stringify("1'; DROP TABLE positions; --")], ['SQL OR', JSON.stringify('1 OR 1=1')],
      ['JSON injection', JSON.stringify('{"$ne":null}')], ['path', JSON.stringify('../../etc/passwd')], ['array', '[1,2]'], ['object', '{}'],
      ['nested 2000', JSON.stringify(nested)], ['__proto__', '{"__proto__":{"polluted":true}}'], ['constructor', '{"constructor":{"prototype":{"polluted":true}}}'],
      ['bad date', JSON.stringify('2025-13-45T99:00:00Z')], ['far date', JSON.stringify('+275760-09-13T00:00:00.001Z')],
    ];
    const bodies: [string, string, string][] = []; // [function, label, raw body]
    for (const { name } of listed) {
      const v = valid[name] ?? {};
      for (const [label, raw] of [
        ['not JSON', '{"scope": NaN'], ['NaN literal', '{"id": NaN}'], ['top-level array', '[]'], ['top-level string', '"x"'], ['top-level number', '-1'],
        ['empty object', '{}'], ['prototype pollution (top)', `{"__proto__":{"polluted":true},${JSON.stringify(v).slice(1)}`],
        ['constructor pollution (top)', `{"constructor":{"prototype":{"polluted":true}},${JSON.stringify(v).slice(1)}`],
        ['deep array 100k', `${'['.repeat(100_000)}${']'.repeat(100_000)}`], ['over 1 MiB', JSON.stringify({ ...v, reason: 'x'.repeat(1_100_000) })],
      ] as [string, string][]) bodies.push([name, label, raw]);
      for (const field of [...Object.keys(v), 'from', 'to', 'scope']) {
        for (const [label, raw] of values) bodies.push([name, `${field}=${label}`, `${JSON.stringify({ ...v, [field]: '§' }).replace('"§"', raw)}`]);
      }
    }
    const byStatus: Record<string, number> = {};
    const bad: string[] = [];
    for (const [name, label, raw] of bodies) {
      let status = 0;
      let code: unknown;
      try {
        const res = await fetch(`${base}/function/${name}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: raw, signal: AbortSignal.timeout(60_000) });
        status = res.status;
        const text = await res.text();
        try {
          code = (JSON.parse(text) as { code?: unknown }).code;
        } catch {
          code = undefined;
        }
      } catch (error) {
        bad.push(`${name} ${label}: ${(error as Error).message}`);
        continue;
      }
      byStatus[status] = (byStatus[status] ?? 0) + 1;
      if (status >= 500 || (status >= 400 && typeof code !== 'string')) bad.push(`${name} ${label}: ${status} ${String(code)}`);
    }
    const health = await fetch(`${base}/healthz`);
    const alive = services[0].child.exitCode === null && health.ok;
    const positions = Number((await pool.query('SELECT count(*) AS n FROM positions')).rows[0].n);
    figures('functions-hostile', { functions: listed.map((f) => f.name), payloads: bodies.length, byStatus, failures: bad.length, firstFailures: bad.slice(0, 5), gatewayAlive: alive });
    expect(bad).toEqual([]);
    expect(alive).toBe(true);
    expect(positions).toBeGreaterThan(0); // the injection text did nothing
  });

  test('a command to another organisation’s device is refused', async () => {
    const other = await createTimingCourse(dx.admin, 1);
    const official = await dx.createUser('Timing official', course.organization, 'official2');
    await dx.admin.request('POST', '/items/command_templates', [{ organization: other.organization, key: 'getinfo', text: 'getinfo' }]);
    const refusal = await official.api.request('POST', '/items/commands', { device: other.sc.devices[0], template: 'getinfo' }).then(
      () => ({ status: 200, code: undefined }),
      (e: { status: number; details?: { directusCode?: string } }) => ({ status: e.status, code: e.details?.directusCode }),
    );
    const rows = await dx.admin.request<unknown[]>('GET', `/items/commands?limit=-1&filter=${encodeURIComponent(JSON.stringify({ device: { _eq: other.sc.devices[0] } }))}`);
    figures('commands-other-org', { ...refusal, rowsCreated: rows.length });
    expect(refusal).toMatchObject({ status: 403, code: 'COMMAND_ERR_FORBIDDEN' });
    expect(rows).toHaveLength(0);
  });
});
