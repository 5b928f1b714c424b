/** Exponential backoff with full jitter, capped. Pure: the random draw comes in as `random01`. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random01: number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(attempt, 0), 30));
  // half fixed, half jitter: never zero (no hot loop), never in lock-step with other writers
  return Math.round(ceiling / 2 + (ceiling / 2) * random01);
}
