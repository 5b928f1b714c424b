/** Log throttling: at most one line per interval, with the count of lines suppressed meanwhile. */
export interface Throttle {
  /** returns the number suppressed since the last allowed line (≥ 0) when this one may be logged, else -1 */
  take(nowMs: number): number;
}

export function throttle(intervalMs: number): Throttle {
  let last = -Infinity;
  let suppressed = 0;
  return {
    take(nowMs) {
      if (nowMs - last >= intervalMs) {
        last = nowMs;
        const n = suppressed;
        suppressed = 0;
        return n;
      }
      suppressed += 1;
      return -1;
    },
  };
}
