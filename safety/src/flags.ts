/**
 * Operators' position flags (position_flags) as the safety service applies them to fixes that
 * are not in Postgres yet. Pure. The rule is trm-timing's (directus/extensions/trm-timing/
 * flags.ts): a fix is faulty when the most recent flag (highest id) of its device whose range
 * [from, coalesce(to, from)] covers it says faulty; no covering flag → not faulty.
 */

export interface Flag {
  id: number;
  device: string;
  fromMs: number;
  toMs: number;
  faulty: boolean;
}

export class FlagIndex {
  private readonly byDevice = new Map<string, Flag[]>();

  constructor(flags: readonly Flag[] = []) {
    for (const f of flags) {
      const list = this.byDevice.get(f.device) ?? [];
      list.push(f);
      this.byDevice.set(f.device, list);
    }
    for (const list of this.byDevice.values()) list.sort((a, b) => b.id - a.id);
  }

  get size(): number {
    let n = 0;
    for (const list of this.byDevice.values()) n += list.length;
    return n;
  }

  isFaulty(device: string, tsMs: number): boolean {
    const list = this.byDevice.get(device);
    if (!list) return false;
    for (const f of list) if (f.fromMs <= tsMs && tsMs <= f.toMs) return f.faulty;
    return false;
  }
}
