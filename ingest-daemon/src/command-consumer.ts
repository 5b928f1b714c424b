/**
 * Reads this instance's command stream (`commands:{instance}`) with a plain XREAD BLOCK from its
 * own last id, on a dedicated connection (a blocked connection can do nothing else). It starts
 * after the entry that was last when it started: commands for this instance id are only routed
 * here while a device is connected, which cannot happen before the server listens.
 *
 * Delivery reports go to `commands:events`: `{ id, imei, status, response?, error?, at, instance }`.
 * A device that logs in is announced there too, `{ imei, status: 'online', at, instance }` (no id),
 * once its route names this instance, so commands waiting for it are routed here (issue #10).
 */
import type { Logger } from '../../common/src/log.ts';
import type { Redis } from '../../common/src/redis.ts';
import { CONTROL_STREAM_MAXLEN, type RedisKeys } from '../../common/src/redis-keys.ts';
import { errorMessage } from '../../common/src/errors.ts';

export interface DeviceCommand {
  id: string;
  imei: string;
  text: string;
}

export interface CommandEvent {
  id: string;
  imei: string;
  status: 'sent' | 'responded' | 'failed';
  response?: string;
  error?: string;
  at: number;
  instance: string;
}

export async function publishCommandEvent(redis: Redis, keys: RedisKeys, event: CommandEvent): Promise<void> {
  const fields: string[] = ['id', event.id, 'imei', event.imei, 'status', event.status];
  if (event.response !== undefined) fields.push('response', event.response);
  if (event.error !== undefined) fields.push('error', event.error);
  fields.push('at', String(event.at), 'instance', event.instance);
  await redis.xadd(keys.commandEvents, 'MAXLEN', '~', String(CONTROL_STREAM_MAXLEN), '*', ...fields);
}

/** The login announcement on `commands:events`; published after the route is claimed. */
export async function publishDeviceOnline(redis: Redis, keys: RedisKeys, event: { imei: string; at: number; instance: string }): Promise<void> {
  await redis.xadd(keys.commandEvents, 'MAXLEN', '~', String(CONTROL_STREAM_MAXLEN), '*', 'imei', event.imei, 'status', 'online', 'at', String(event.at), 'instance', event.instance);
}

export interface CommandConsumerOptions {
  /** a dedicated connection: it spends its time blocked in XREAD */
  redis: Redis;
  stream: string;
  log: Logger;
  blockMs?: number;
  onCommand(command: DeviceCommand | { invalid: string; id?: string; imei?: string }): void;
}

export class CommandConsumer {
  private lastId = '$';
  private stopping = false;
  private loop: Promise<void> | null = null;
  private readonly o: CommandConsumerOptions;

  constructor(options: CommandConsumerOptions) {
    this.o = options;
  }

  /** Resolves once the starting id is fixed; the loop then runs until close(). */
  async start(): Promise<void> {
    const last = await this.o.redis.xrevrange(this.o.stream, '+', '-', 'COUNT', 1);
    this.lastId = last.length > 0 ? last[0][0] : '0-0';
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        const reply = (await this.o.redis.xread('COUNT', 100, 'BLOCK', this.o.blockMs ?? 5_000, 'STREAMS', this.o.stream, this.lastId)) as [string, [string, string[]][]][] | null;
        if (!reply) continue;
        for (const [, entries] of reply) {
          for (const [entryId, flat] of entries) {
            this.lastId = entryId;
            const f: Record<string, string> = {};
            for (let i = 0; i + 1 < flat.length; i += 2) f[flat[i]] = flat[i + 1];
            if (!f.id || !f.imei || f.text === undefined) this.o.onCommand({ invalid: `entry ${entryId} lacks id, imei or text`, id: f.id, imei: f.imei });
            else this.o.onCommand({ id: f.id, imei: f.imei, text: f.text });
          }
        }
      } catch (error) {
        if (this.stopping) break;
        this.o.log.warn({ err: errorMessage(error) }, 'command stream read failed, retrying');
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  }

  async close(): Promise<void> {
    this.stopping = true;
    this.o.redis.disconnect();
    await this.loop;
  }
}
