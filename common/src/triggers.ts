/**
 * The producer side of every function trigger, and the payload each trigger carries.
 *
 * Directus hooks, the CLI and functions produce triggers only through this module, and the
 * function handlers validate their input with the same `parse*` functions, so a producer and
 * its consumer cannot drift apart. The connector maps each topic (stack.yml's `topic`
 * annotation) to a gateway call:
 *
 *   stream:recompute:requests   requestRecompute          → recompute
 *   queue:evaluate-penalties    enqueuePenaltyEvaluation  → evaluate-penalties
 *   queue:start-orders          enqueueStartOrder         → generate-start-order
 *   queue:device-commands       enqueueDeviceCommand      → route-command
 *
 * This module imports no Redis or BullMQ client at run time (only types), so a function image
 * that copies common/src can parse payloads without carrying bullmq.
 */
import type { Redis } from 'ioredis';
import type { JobsOptions } from 'bullmq';
import { PermanentError } from './errors.ts';
import { CONTROL_STREAM_MAXLEN, type RedisKeys } from './redis-keys.ts';

/** Error code of a trigger payload that fails validation (the function answers 400). */
export const BAD_INPUT = 'FN_ERR_BAD_INPUT';

// ---------------------------------------------------------------------------------------------
// Topics

export type TopicKind = 'stream' | 'queue';

export interface Topic {
  kind: TopicKind;
  /** the stream key without the namespace prefix, or the BullMQ queue name */
  name: string;
}

/** `stream:<key>` or `queue:<name>`, as written in stack.yml's `topic` annotation. */
export function parseTopic(text: string): Topic {
  const match = /^(stream|queue):([A-Za-z0-9][A-Za-z0-9:._-]*)$/.exec(text.trim());
  if (!match) throw new PermanentError('TRIGGER_ERR_BAD_TOPIC', `topic "${text}" is not "stream:<key>" or "queue:<name>"`);
  const [, kind, name] = match;
  if (kind === 'queue' && name.includes(':')) throw new PermanentError('TRIGGER_ERR_BAD_TOPIC', `queue name "${name}" cannot contain ":" (BullMQ)`);
  return { kind: kind as TopicKind, name };
}

export function formatTopic(topic: Topic): string {
  return `${topic.kind}:${topic.name}`;
}

/** The Redis key (stream) or BullMQ queue name a topic designates in a namespace. */
export function topicKey(topic: Topic, keys: RedisKeys): string {
  return topic.kind === 'stream' ? `${keys.prefix}${topic.name}` : topic.name;
}

/** Every topic TRM produces, with the function of this module that produces it. */
export const TRIGGER_PRODUCERS = {
  'stream:recompute:requests': 'requestRecompute',
  'queue:evaluate-penalties': 'enqueuePenaltyEvaluation',
  'queue:start-orders': 'enqueueStartOrder',
  'queue:device-commands': 'enqueueDeviceCommand',
} as const;

export type ProducedTopic = keyof typeof TRIGGER_PRODUCERS;

// ---------------------------------------------------------------------------------------------
// Payloads (validated by producers before sending and by handlers on receipt)

export type RecomputeScope = 'event' | 'stage' | 'entry' | 'device';
export const RECOMPUTE_SCOPES: readonly RecomputeScope[] = ['event', 'stage', 'entry', 'device'];

/** ARCHITECTURE.md "Streams and queues": `recompute:requests` entry. Absent from/to = unbounded. */
export interface RecomputeRequest {
  scope: RecomputeScope;
  id: string;
  /** ISO-8601 start of the time window to recompute */
  from?: string;
  /** ISO-8601 end of the time window to recompute */
  to?: string;
  reason?: string;
  requested_by?: string;
}

export type PenaltyScope = 'event' | 'stage' | 'entry';
export const PENALTY_SCOPES: readonly PenaltyScope[] = ['event', 'stage', 'entry'];

export interface PenaltyEvaluationRequest {
  scope: PenaltyScope;
  id: string;
  reason?: string;
  requested_by?: string;
}

export interface StartOrderRequest {
  stage_id: string;
  reason?: string;
  requested_by?: string;
}

export interface DeviceCommandRequest {
  command_id: string;
}

type Obj = Record<string, unknown>;

function object(raw: unknown, what: string): Obj {
  if (typeof raw === 'string') {
    try {
      raw = JSON.parse(raw);
    } catch (cause) {
      throw new PermanentError(BAD_INPUT, `${what}: body is not JSON`, { cause });
    }
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new PermanentError(BAD_INPUT, `${what}: body must be a JSON object`);
  return raw as Obj;
}

/** Postgres text cannot hold U+0000: passed on, Directus answers 500 and the call is retried in vain. */
const hasNul = (value: string) => value.includes('\u0000');

/** Directus ids are integers or UUIDs; both travel as non-empty strings. */
function id(o: Obj, key: string, what: string): string {
  const value = o[key];
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value);
  if (typeof value === 'string' && value.trim() !== '' && value.length <= 128 && !hasNul(value)) return value.trim();
  throw new PermanentError(BAD_INPUT, `${what}: "${key}" must be a non-empty id`, { details: { field: key } });
}

function optionalText(o: Obj, key: string, what: string, maxLength = 500): string | undefined {
  const value = o[key];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' || value.length > maxLength || hasNul(value)) throw new PermanentError(BAD_INPUT, `${what}: "${key}" must be a string of at most ${maxLength} characters, without NUL`, { details: { field: key } });
  return value;
}

function optionalInstant(o: Obj, key: string, what: string): string | undefined {
  const value = optionalText(o, key, what, 64);
  if (value === undefined) return undefined;
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(Date.parse(value))) throw new PermanentError(BAD_INPUT, `${what}: "${key}" must be an ISO-8601 instant, got "${value}"`, { details: { field: key } });
  return new Date(value).toISOString();
}

function oneOf<T extends string>(o: Obj, key: string, values: readonly T[], what: string): T {
  const value = o[key];
  if (typeof value !== 'string' || !values.includes(value as T)) throw new PermanentError(BAD_INPUT, `${what}: "${key}" must be one of ${values.join(', ')}`, { details: { field: key } });
  return value as T;
}

function compact<T extends Obj>(o: T): T {
  for (const key of Object.keys(o)) if (o[key] === undefined) delete o[key];
  return o;
}

export function parseRecomputeRequest(raw: unknown): RecomputeRequest {
  const what = 'recompute request';
  const o = object(raw, what);
  const request = compact({
    scope: oneOf(o, 'scope', RECOMPUTE_SCOPES, what),
    id: id(o, 'id', what),
    from: optionalInstant(o, 'from', what),
    to: optionalInstant(o, 'to', what),
    reason: optionalText(o, 'reason', what),
    requested_by: optionalText(o, 'requested_by', what, 128),
  });
  if (request.from && request.to && request.from > request.to) throw new PermanentError(BAD_INPUT, `${what}: "from" is after "to"`, { details: { field: 'from' } });
  return request;
}

export function parsePenaltyEvaluationRequest(raw: unknown): PenaltyEvaluationRequest {
  const what = 'penalty evaluation request';
  const o = object(raw, what);
  return compact({
    scope: oneOf(o, 'scope', PENALTY_SCOPES, what),
    id: id(o, 'id', what),
    reason: optionalText(o, 'reason', what),
    requested_by: optionalText(o, 'requested_by', what, 128),
  });
}

export function parseStartOrderRequest(raw: unknown): StartOrderRequest {
  const what = 'start order request';
  const o = object(raw, what);
  return compact({ stage_id: id(o, 'stage_id', what), reason: optionalText(o, 'reason', what), requested_by: optionalText(o, 'requested_by', what, 128) });
}

export function parseDeviceCommandRequest(raw: unknown): DeviceCommandRequest {
  return { command_id: id(object(raw, 'device command'), 'command_id', 'device command') };
}

// ---------------------------------------------------------------------------------------------
// Producers

/** XADD a recompute request (capped with `MAXLEN ~`); returns the stream entry id. */
export async function requestRecompute(redis: Redis, keys: RedisKeys, request: RecomputeRequest): Promise<string> {
  const r = parseRecomputeRequest(request);
  const fields: string[] = [];
  for (const [key, value] of Object.entries(r)) fields.push(key, String(value));
  const entryId = await redis.xadd(keys.recomputeRequests, 'MAXLEN', '~', String(CONTROL_STREAM_MAXLEN), '*', ...fields);
  return entryId as string;
}

/** What the enqueue functions need of a BullMQ Queue (structural, so no bullmq import here). */
export interface QueueLike {
  readonly name: string;
  add(name: string, data: unknown, opts?: JobsOptions): Promise<{ id?: string }>;
}

// The connector retries and dead-letters on its own, so BullMQ itself makes one attempt; kept
// jobs are bounded so a queue's Redis footprint is too.
const JOB_DEFAULTS: JobsOptions = { attempts: 1, removeOnComplete: { count: 1000, age: 24 * 3600 }, removeOnFail: { count: 5000 } };

function checkQueue(queue: QueueLike, expected: string): void {
  if (queue.name !== expected) throw new PermanentError('TRIGGER_ERR_WRONG_QUEUE', `expected the "${expected}" queue, got "${queue.name}"`);
}

/**
 * Queue one Directus `commands` row for routing. The job id is derived from the command id so a
 * hook firing twice for the same row queues it once (while the job is kept).
 */
export async function enqueueDeviceCommand(queue: QueueLike, keys: RedisKeys, commandId: string | number): Promise<string | undefined> {
  checkQueue(queue, keys.queues.deviceCommands);
  const data = parseDeviceCommandRequest({ command_id: commandId });
  const job = await queue.add('route-command', data, { ...JOB_DEFAULTS, jobId: `cmd-${data.command_id}` });
  return job.id;
}

export async function enqueueStartOrder(queue: QueueLike, keys: RedisKeys, request: StartOrderRequest): Promise<string | undefined> {
  checkQueue(queue, keys.queues.startOrders);
  const job = await queue.add('generate-start-order', parseStartOrderRequest(request), JOB_DEFAULTS);
  return job.id;
}

export async function enqueuePenaltyEvaluation(queue: QueueLike, keys: RedisKeys, request: PenaltyEvaluationRequest): Promise<string | undefined> {
  checkQueue(queue, keys.queues.penalties);
  const job = await queue.add('evaluate-penalties', parsePenaltyEvaluationRequest(request), JOB_DEFAULTS);
  return job.id;
}
