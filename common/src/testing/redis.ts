/** A Redis namespace for one test: a unique key prefix, and cleanup of every key under it. */
import { randomUUID } from 'node:crypto';
import { createRedis, type Redis } from '../redis.ts';
import { redisKeys, type RedisKeys } from '../redis-keys.ts';

export function testRedisUrl(env: NodeJS.ProcessEnv = process.env): string {
  return env.TRM_TEST_REDIS_URL ?? env.REDIS_URL ?? 'redis://127.0.0.1:6379';
}

export interface TestRedis {
  url: string;
  keys: RedisKeys;
  redis: Redis;
  cleanup(): Promise<void>;
}

export async function createTestRedis(label = 'r', env: NodeJS.ProcessEnv = process.env): Promise<TestRedis> {
  const url = testRedisUrl(env);
  const prefix = `t:${label}:${randomUUID().slice(0, 8)}:`;
  const redis = createRedis(url);
  return {
    url,
    keys: redisKeys(prefix),
    redis,
    async cleanup() {
      let cursor = '0';
      do {
        const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        if (found.length) await redis.unlink(...found);
      } while (cursor !== '0');
      redis.disconnect();
    },
  };
}
