/**
 * When to read more and when to flush: a batch closes at `maxRows` entries or `maxWaitMs`
 * after its first entry arrived, whichever comes first. Pure: time comes in as `nowMs`.
 *
 *   empty ──first entries──▶ filling ──maxRows reached | maxWaitMs elapsed──▶ flush
 *     │ nothing within blockMs
 *     ▼
 *   flush of nothing (the loop gets a turn: claim dead consumers' entries, notice close())
 */

export interface BatchPolicy {
  maxRows: number;
  maxWaitMs: number;
  blockMs: number;
}

export type ReadPlan = { action: 'read'; count: number; blockMs: number } | { action: 'flush' };

export function planRead(policy: BatchPolicy, size: number, firstAtMs: number | null, nowMs: number): ReadPlan {
  if (size >= policy.maxRows) return { action: 'flush' };
  if (size === 0 || firstAtMs === null) return { action: 'read', count: policy.maxRows, blockMs: policy.blockMs };
  const leftMs = firstAtMs + policy.maxWaitMs - nowMs;
  if (leftMs <= 0) return { action: 'flush' };
  // BLOCK 0 would mean "forever": never ask for less than 1 ms
  return { action: 'read', count: policy.maxRows - size, blockMs: Math.max(1, Math.ceil(leftMs)) };
}
