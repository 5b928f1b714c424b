/** The status consumer's group on `commands:events` (keys themselves: common/src/redis-keys.ts). */
export const STATUS_GROUP = 'command-status';
