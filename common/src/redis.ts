/** ioredis construction in one place: a `/N` database index in the URL is honoured by ioredis. */
import { Redis, type RedisOptions } from 'ioredis';

export type { Redis };

export function createRedis(redisUrl: string, options: RedisOptions = {}): Redis {
  return new Redis(redisUrl, {
    // BullMQ requires null here; for our own clients it keeps commands queued during a
    // reconnect instead of failing them after 20 tries.
    maxRetriesPerRequest: null,
    enableAutoPipelining: false,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    ...options,
  });
}
