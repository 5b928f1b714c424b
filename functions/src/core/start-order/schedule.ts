/**
 * Interval schedules: positions → start times (rally-domain.md §5, "interval schedules are
 * orthogonal to ordering"). Within a group, position k belongs to the last block whose
 * `fromPosition` ≤ k. A block holds `perSlot` entries per slot (Dakar 2017: from the 21st, two
 * at a time). When a new slot opens, the clock advances by the interval of the block of the
 * position before it, so leaving a block uses that block's interval (assumption [I] of §5:
 * #10 → #11 = 3 min, #20 → #21 = 2 min).
 *
 * Dakar 2017 bikes, first start 07:00:00, blocks {1: 3 min}, {11: 2 min}, {21: 30 s × 2}:
 * #10 07:27:00, #11 07:30:00, #20 07:48:00, #21 #22 07:50:00, #23 #24 07:50:30.
 */
import type { IntervalBlock } from './types.ts';

export function blockFor(blocks: readonly IntervalBlock[], position: number): IntervalBlock {
  let found = blocks[0];
  for (const b of blocks) if (b.fromPosition <= position) found = b;
  return found;
}

/** True when `position` (1-based within the group) opens a new slot. */
export function opensSlot(blocks: readonly IntervalBlock[], position: number): boolean {
  if (position === 1) return true;
  const b = blockFor(blocks, position);
  return (position - b.fromPosition) % b.perSlot === 0;
}

/** Offset from the group's first start of each position 1..count, in ms. */
export function scheduleOffsetsMs(blocks: readonly IntervalBlock[], count: number): number[] {
  const offsets: number[] = [];
  let t = 0;
  for (let position = 1; position <= count; position++) {
    if (position > 1 && opensSlot(blocks, position)) t += blockFor(blocks, position - 1).intervalMs;
    offsets.push(t);
  }
  return offsets;
}
