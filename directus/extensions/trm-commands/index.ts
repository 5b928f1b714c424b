/**
 * trm-commands: the Directus side of device commands (issue #10, docs/commands.md).
 *
 *   filter commands.items.create   who may command the device, which template, which args,
 *                                  the per-device rate limit; sets text, status queued,
 *                                  ttl_s and expires_at (a refusal is a coded Directus error)
 *   action commands.items.create   enqueues the BullMQ job `device-commands` (common/src/triggers.ts)
 *   filter commands.items.update   only the service account (and admins) move a command
 *                                  through its lifecycle; operators cannot forge a response
 *   filter command_templates.items.create/update   a template's key and text are well formed
 *
 * The row itself and Directus's activity/revisions (written for the creating user, then for
 * the service account's updates) are the audit trail; every accepted command is also logged.
 *
 * Loaded by Directus with a plain dynamic import(): Node 24 strips the types of this file, and
 * of the repository modules it imports, at load time (no build step, like the rest of TRM).
 * Configuration from Directus's env: TRM_REDIS_URL, TRM_REDIS_PREFIX, TRM_COMMANDS_RATE_LIMIT
 * (commands per device per window, default 10), TRM_COMMANDS_RATE_WINDOW_S (default 60).
 */
import { createError } from '@directus/errors';
import { Queue } from 'bullmq';
import type { Knex } from 'knex';
import { createRedis } from '../../../common/src/redis.ts';
import { redisKeys } from '../../../common/src/redis-keys.ts';
import { enqueueDeviceCommand } from '../../../common/src/triggers.ts';
import { CommandError, CommandErrorCode, HTTP_STATUS } from '../../../functions/src/route-command/errors.ts';
import { DEFAULT_TTL_S, expiresAt, MAX_TTL_S, MIN_TTL_S } from '../../../functions/src/route-command/lifecycle.ts';
import { checkTemplateKey, normaliseArgs, placeholders, renderCommand } from '../../../functions/src/route-command/template.ts';

interface Accountability {
  user: string | null;
  role: string | null;
  roles?: string[];
  admin: boolean;
}
interface HookContext {
  database: Knex;
  accountability: Accountability | null;
}
type Payload = Record<string, unknown>;
interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}
interface Register {
  filter(event: string, handler: (payload: Payload, meta: Record<string, unknown>, context: HookContext) => Payload | Promise<Payload>): void;
  action(event: string, handler: (meta: { key: unknown; payload: Payload }, context: HookContext) => void | Promise<void>): void;
}
interface Extension {
  env: Record<string, unknown>;
  logger: Logger;
}

/** The role of the service account (directus/src/access.ts). */
export const SERVICE_ROLE = 'TRM service';
const REDIS_TIMEOUT_MS = 3_000;

// One Directus error class per code, so the REST answer carries `extensions.code` and the status.
const errorClasses = new Map<string, ReturnType<typeof createError<Record<string, unknown>>>>();
function directusError(error: CommandError): Error {
  let cls = errorClasses.get(error.code);
  if (!cls) {
    cls = createError<Record<string, unknown>>(error.code, (ext) => String(ext.reason), HTTP_STATUS[error.code] ?? 400);
    errorClasses.set(error.code, cls);
  }
  return new cls({ reason: error.message, ...(error.details ?? {}) });
}

function refuse(code: CommandErrorCode, message: string, details?: Record<string, unknown>): never {
  throw directusError(new CommandError(code, message, details));
}

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer from Redis in ${REDIS_TIMEOUT_MS} ms`)), REDIS_TIMEOUT_MS)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

// KEYS[1] the device's rate counter; ARGV[1] window in seconds. Returns the count including this
// command. The window starts at the first command, so a burst is counted whole.
const RATE = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n`;

type Actor = { kind: 'admin' } | { kind: 'service' } | { kind: 'user'; organization: string | null; mayCreate: boolean };

async function actor(db: Knex, accountability: Accountability | null): Promise<Actor> {
  if (!accountability || accountability.admin) return { kind: 'admin' };
  if (!accountability.user) return { kind: 'user', organization: null, mayCreate: false };
  const user = (await db('directus_users as u').leftJoin('directus_roles as r', 'r.id', 'u.role').where('u.id', accountability.user).first('u.organization as organization', 'r.name as role')) as { organization: string | null; role: string | null } | undefined;
  if (user?.role === SERVICE_ROLE) return { kind: 'service' };
  // A create has no row filter in Directus, and filters run before permissions are checked:
  // look at the policies (of the user's roles or the user) for a `commands` create permission.
  const roles = accountability.roles?.length ? accountability.roles : accountability.role ? [accountability.role] : [];
  const permission = await db('directus_permissions as p')
    .join('directus_access as a', 'a.policy', 'p.policy')
    .where({ 'p.collection': 'commands', 'p.action': 'create' })
    .andWhere((q) => {
      q.where('a.user', accountability.user!);
      if (roles.length) q.orWhereIn('a.role', roles);
    })
    .first('p.id');
  return { kind: 'user', organization: user?.organization ?? null, mayCreate: Boolean(permission) };
}

function ttlOf(raw: unknown): number {
  if (raw === undefined || raw === null) return DEFAULT_TTL_S;
  const ttl = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < MIN_TTL_S || ttl > MAX_TTL_S) refuse(CommandErrorCode.BAD_INPUT, `ttl_s must be a whole number of seconds from ${MIN_TTL_S} to ${MAX_TTL_S}`, { field: 'ttl_s' });
  return ttl;
}

export default function register({ filter, action }: Register, { env, logger }: Extension): void {
  const keys = redisKeys(String(env.TRM_REDIS_PREFIX ?? ''));
  const redisUrl = String(env.TRM_REDIS_URL ?? 'redis://127.0.0.1:6379');
  const rateLimit = Number(env.TRM_COMMANDS_RATE_LIMIT ?? 10);
  const rateWindowS = Number(env.TRM_COMMANDS_RATE_WINDOW_S ?? 60);
  // connections are opened on first use: Directus boots (and serves everything else) without Redis
  const redis = createRedis(redisUrl, { lazyConnect: true });
  redis.on('error', (error) => logger.warn(`[trm-commands] redis: ${error.message}`));
  let queue: Queue | undefined;
  const commandQueue = () => {
    if (!queue) {
      const connection = createRedis(redisUrl);
      connection.on('error', (error) => logger.warn(`[trm-commands] queue redis: ${error.message}`));
      queue = new Queue(keys.queues.deviceCommands, { connection, prefix: keys.bullPrefix });
    }
    return queue;
  };

  filter('commands.items.create', async (payload, _meta, { database, accountability }) => {
    const who = await actor(database, accountability);
    if (who.kind === 'user' && !who.mayCreate) refuse(CommandErrorCode.FORBIDDEN, 'your role may not send device commands');
    const imei = payload.device;
    if (typeof imei !== 'string' || !/^\d{1,20}$/.test(imei)) refuse(CommandErrorCode.BAD_INPUT, 'device must be the IMEI of a registered device', { field: 'device' });
    const device = (await database('devices').where('imei', imei).first('imei', 'organization')) as { imei: string; organization: string } | undefined;
    if (who.kind === 'user' && (!device || !who.organization || device.organization !== who.organization)) refuse(CommandErrorCode.FORBIDDEN, 'no such device in your organisation', { field: 'device' });
    if (!device) refuse(CommandErrorCode.BAD_INPUT, `no device ${imei}`, { field: 'device' });

    const key = payload.template;
    if (typeof key !== 'string' || key === '') refuse(CommandErrorCode.BAD_INPUT, 'template must be the key of one of your organisation’s command templates', { field: 'template' });
    const template = (await database('command_templates').where({ organization: device.organization, key, active: true }).orderBy('id', 'desc').first('text')) as { text: string } | undefined;
    if (!template) refuse(CommandErrorCode.UNKNOWN_TEMPLATE, `no active command template "${key.slice(0, 64)}" for this device’s organisation`, { field: 'template' });

    let text: string;
    try {
      text = renderCommand(template.text, payload.args);
    } catch (error) {
      if (error instanceof CommandError) throw directusError(error);
      throw error;
    }
    const ttl = ttlOf(payload.ttl_s);

    // counted last, so refused attempts do not use up the device's budget
    let count: number;
    try {
      count = Number(await withTimeout(redis.eval(RATE, 1, keys.commandRate(imei), String(rateWindowS)) as Promise<number>, 'rate limit'));
    } catch (error) {
      refuse(CommandErrorCode.UNAVAILABLE, `commands are unavailable: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (count > rateLimit) refuse(CommandErrorCode.RATE_LIMITED, `device ${imei} already got ${rateLimit} commands in the last ${rateWindowS} s; try again later`, { limit: rateLimit, window_s: rateWindowS });

    return {
      ...payload,
      args: normaliseArgs(payload.args),
      text,
      status: 'queued',
      ttl_s: ttl,
      expires_at: expiresAt(Date.now(), ttl),
      response: null,
      error: null,
      instance: null,
      routed_at: null,
      sent_at: null,
      responded_at: null,
    };
  });

  action('commands.items.create', async ({ key, payload }, { accountability }) => {
    try {
      const jobId = await withTimeout(enqueueDeviceCommand(commandQueue(), keys, String(key)), 'enqueue');
      logger.info(`[trm-commands] command ${String(key)} queued (job ${jobId}): device ${String(payload.device)}, template ${String(payload.template)}, text "${String(payload.text)}", by ${accountability?.user ?? 'system'}`);
    } catch (error) {
      // The row stays queued: the status consumer's sweep routes it once its device is online.
      logger.error(`[trm-commands] command ${String(key)} not enqueued: ${error instanceof Error ? error.message : String(error)}`);
    }
  });

  filter('commands.items.update', async (payload, _meta, { database, accountability }) => {
    const who = await actor(database, accountability);
    if (who.kind === 'user') refuse(CommandErrorCode.READ_ONLY, 'a command cannot be changed once sent; its status is written by the service account');
    return payload;
  });

  const checkTemplate = (payload: Payload) => {
    try {
      if ('key' in payload) checkTemplateKey(payload.key);
      if ('text' in payload) placeholders(payload.text);
    } catch (error) {
      if (error instanceof CommandError) throw directusError(error);
      throw error;
    }
    return payload;
  };
  filter('command_templates.items.create', checkTemplate);
  filter('command_templates.items.update', checkTemplate);
}
