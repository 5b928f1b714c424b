/**
 * Device routing (ARCHITECTURE.md, `device:route:{imei}`): while a device is connected here its
 * key names this instance, with a TTL refreshed in one pipeline for all devices; on disconnect
 * the key is deleted only if it still names this instance (the device may already have
 * reconnected to another one).
 */
import type { Logger } from '../../common/src/log.ts';
import type { Redis } from '../../common/src/redis.ts';
import type { RedisKeys } from '../../common/src/redis-keys.ts';
import { errorMessage } from '../../common/src/errors.ts';

// KEYS[1] route key; ARGV[1] instance id. Returns 1 when deleted, 0 when another instance owns it.
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export interface DeviceRoutesOptions {
  redis: Redis;
  keys: RedisKeys;
  instanceId: string;
  ttlSeconds: number;
  log: Logger;
  /** the IMEIs currently online here, read at every refresh */
  online: () => Iterable<string>;
}

export class DeviceRoutes {
  private timer: NodeJS.Timeout | null = null;
  private readonly o: DeviceRoutesOptions;

  constructor(options: DeviceRoutesOptions) {
    this.o = options;
  }

  start(): void {
    // refresh at a third of the TTL: two refreshes may fail before a route expires
    this.timer = setInterval(() => void this.refresh(), Math.max(500, (this.o.ttlSeconds * 1000) / 3));
    this.timer.unref();
  }

  async claim(imei: string): Promise<void> {
    await this.o.redis.set(this.o.keys.deviceRoute(imei), this.o.instanceId, 'EX', this.o.ttlSeconds);
  }

  async release(imei: string): Promise<void> {
    await this.o.redis.eval(RELEASE, 1, this.o.keys.deviceRoute(imei), this.o.instanceId);
  }

  async refresh(): Promise<void> {
    const pipeline = this.o.redis.pipeline();
    let n = 0;
    for (const imei of this.o.online()) {
      pipeline.set(this.o.keys.deviceRoute(imei), this.o.instanceId, 'EX', this.o.ttlSeconds);
      n++;
    }
    if (n === 0) return;
    try {
      await pipeline.exec();
    } catch (error) {
      this.o.log.warn({ err: errorMessage(error), devices: n }, 'device route refresh failed');
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
