/**
 * CPU accounting for the benchmarks (Linux /proc, Redis INFO): on a shared 2-core host each
 * result records the cores every party used, so a run during other work can be told apart.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { Redis } from '../common/src/redis.ts';

/** CPU seconds (user + system) of a process from /proc/<pid>/stat (USER_HZ 100); null if gone or elsewhere. */
export function procCpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks
  } catch {
    return null;
  }
}

/** CPU seconds of every process whose command line matches (Postgres backends, say). */
export function matchingCpuSeconds(match: (cmdline: string) => boolean): number {
  let total = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (match(readFileSync(`/proc/${pid}/cmdline`, 'utf8'))) total += procCpuSeconds(Number(pid)) ?? 0;
    } catch {
      /* the process ended meanwhile */
    }
  }
  return total;
}

/** CPU seconds Redis has used (INFO cpu: user + sys). */
export async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const get = (k: string) => Number(new RegExp(`${k}:([0-9.]+)`).exec(info)?.[1] ?? 0);
  return get('used_cpu_sys') + get('used_cpu_user');
}

/** Busy CPU seconds of the whole machine from /proc/stat; null where there is none. */
export function machineBusySeconds(): number | null {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    return (cpu.reduce((a, b) => a + b, 0) - cpu[3] - cpu[4]) / 100; // all but idle and iowait
  } catch {
    return null;
  }
}
