/** Text a competitor reads: durations as `m:ss` / `h:mm:ss`, short ones in seconds, speeds rounded. */

/** 240000 → `4:00`, 3723000 → `1:02:03`, 19200 → `19.2 s`, 2273 → `2.27 s`, 30000 → `30 s`. */
export function formatDurationMs(ms: number): string {
  const sign = ms < 0 ? '−' : '';
  const abs = Math.abs(ms);
  if (abs < 60_000) {
    const seconds = Math.round(abs / 10) / 100; // 0.01 s resolution
    return `${sign}${trimNumber(seconds)} s`;
  }
  const totalSeconds = Math.round(abs / 1000);
  const h = Math.floor(totalSeconds / 3600);
  const m = Math.floor((totalSeconds % 3600) / 60);
  const s = totalSeconds % 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${sign}${h}:${String(m).padStart(2, '0')}:${ss}` : `${sign}${m}:${ss}`;
}

/** 68 → `68`, 60.04 → `60`, 46.66 → `46.7`. */
export function formatKmh(speedKmh: number): string {
  return trimNumber(Math.round(speedKmh * 10) / 10);
}

export function trimNumber(value: number): string {
  return String(Number(value.toFixed(2)));
}

/** 1 → `1st`, 2 → `2nd`, 11 → `11th`, 23 → `23rd`. */
export function ordinal(n: number): string {
  const mod100 = n % 100;
  if (mod100 >= 11 && mod100 <= 13) return `${n}th`;
  switch (n % 10) {
    case 1: return `${n}st`;
    case 2: return `${n}nd`;
    case 3: return `${n}rd`;
    default: return `${n}th`;
  }
}

/** `SS3: ` or '' when there is no stage label. */
export function stagePrefix(stageCode: string): string {
  return stageCode ? `${stageCode}: ` : '';
}
