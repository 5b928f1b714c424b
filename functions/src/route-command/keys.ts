/**
 * The Redis keys of the command path that common/src/redis-keys.ts does not name (it is not
 * this feature's file to change): derived from the same namespace prefix, so a test's prefix
 * covers them too. docs/commands.md lists them.
 */
import type { RedisKeys } from '../../../common/src/redis-keys.ts';

export interface CommandKeys {
  /** string with TTL: held while one router (route-command, status consumer, sweep) changes a command */
  lock(commandId: string): string;
  /** counter with TTL: commands accepted for a device in the current rate window */
  rate(imei: string): string;
}

export function commandKeys(keys: RedisKeys): CommandKeys {
  return {
    lock: (id) => `${keys.prefix}commands:lock:${id}`,
    rate: (imei) => `${keys.prefix}commands:rate:${imei}`,
  };
}

/** The status consumer's group on `commands:events`. */
export const STATUS_GROUP = 'command-status';
