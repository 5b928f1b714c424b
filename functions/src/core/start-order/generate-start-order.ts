/**
 * generateStartOrder: strategy + params + reference result → start_orders rows with start times
 * and a short explanation each. Pure and idempotent: the same input gives the same rows.
 *
 * 1. Each start group (params.groups, in order; none = everyone) is ordered by the strategy
 *    (strategies.ts); the groups are concatenated.
 * 2. Locked rows are never changed: they keep their position and start time, and the other
 *    entries fill the free positions in order, around them.
 * 3. Start times: the first row starts at `firstStartAtMs` (or its group's `startAtMs`); within a
 *    group the group's interval blocks apply by position within the group (schedule.ts); a new
 *    group starts `gapBeforeMs` (else `gapBetweenGroupsMs`, else the previous group's last
 *    interval) after the previous group's last start. A locked row takes its slot in the
 *    schedule like any other row but shows its own locked time.
 */
import { ordinal } from '../penalties/format.ts';
import { SO_ERR_BAD_INPUT, SO_ERR_BAD_LOCK, StartOrderError } from './errors.ts';
import { validateStartOrderParams } from './params.ts';
import { blockFor, opensSlot } from './schedule.ts';
import type { Ordered } from './strategies.ts';
import { orderGroup, strategyContext } from './strategies.ts';
import type { LockedRow, StartEntry, StartGroup, StartOrderInput, StartOrderParams, StartOrderResult, StartOrderRow } from './types.ts';

interface Slot {
  entryId: string;
  number: number | null;
  group: StartGroup | null;
  locked: LockedRow | null;
  text: string;
}

function checkInput(input: StartOrderInput, params: StartOrderParams): void {
  const problems: string[] = [];
  const ids = new Set<string>();
  for (const e of input.entries) {
    if (ids.has(e.entryId)) problems.push(`entry ${e.entryId} is listed twice`);
    ids.add(e.entryId);
    if (params.groups.length && !params.groups.some((g) => e.categoryId !== null && g.categoryIds.includes(e.categoryId))) problems.push(`entry ${e.entryId} (#${e.number}): category ${e.categoryId ?? 'none'} is in no start group`);
  }
  const ranking = ['natural', 'previous_stage_clean_result', 'inverse_top_n_then_natural', 'inverse_of_overall'].includes(input.strategy);
  if (ranking && input.reference === undefined) problems.push(`${input.strategy} needs a reference result`);
  if (input.strategy === 'manual' && input.manual === undefined) problems.push('manual needs manual positions');
  if (!Number.isInteger(input.firstStartAtMs)) problems.push('firstStartAtMs must be an integer (ms since epoch)');
  if (problems.length) throw new StartOrderError(SO_ERR_BAD_INPUT, 'bad start-order input', problems);

  const lockProblems: string[] = [];
  const positions = new Set<number>();
  const lockedIds = new Set<string>();
  for (const l of input.locked ?? []) {
    if (!Number.isInteger(l.position) || l.position < 1) lockProblems.push(`locked ${l.entryId}: position must be an integer >= 1`);
    if (positions.has(l.position)) lockProblems.push(`locked position ${l.position} is held twice`);
    if (lockedIds.has(l.entryId)) lockProblems.push(`entry ${l.entryId} is locked twice`);
    if (!Number.isInteger(l.startAtMs)) lockProblems.push(`locked ${l.entryId}: startAtMs must be an integer`);
    positions.add(l.position);
    lockedIds.add(l.entryId);
  }
  if (lockProblems.length) throw new StartOrderError(SO_ERR_BAD_LOCK, 'bad locked rows', lockProblems);
}

function groupOf(params: StartOrderParams, categoryId: string | null): StartGroup | null {
  if (!params.groups.length) return null;
  return params.groups.find((g) => categoryId !== null && g.categoryIds.includes(categoryId)) ?? null;
}

/** @throws SO_ERR_UNKNOWN_STRATEGY, SO_ERR_BAD_PARAMS, SO_ERR_BAD_INPUT, SO_ERR_BAD_LOCK */
export function generateStartOrder(input: StartOrderInput): StartOrderResult {
  const params = validateStartOrderParams(input.strategy, input.params);
  checkInput(input, params);
  const ctx = strategyContext(params, input.reference, input.previousOrder, input.manual);
  const entryById = new Map<string, StartEntry>(input.entries.map((e) => [e.entryId, e]));
  const locked = [...(input.locked ?? [])].sort((a, b) => a.position - b.position);
  const lockedIds = new Set(locked.map((l) => l.entryId));

  // 1. order each group, concatenate
  const groups: (StartGroup | null)[] = params.groups.length ? params.groups : [null];
  const desired: { ordered: Ordered; group: StartGroup | null }[] = [];
  const omitted: StartOrderResult['omitted'] = [];
  const sortedEntries = [...input.entries].sort((a, b) => a.number - b.number || (a.entryId < b.entryId ? -1 : 1));
  for (const group of groups) {
    const members = sortedEntries.filter((e) => group === null || (e.categoryId !== null && group.categoryIds.includes(e.categoryId)));
    const result = orderGroup(input.strategy, ctx, members);
    for (const o of result.ordered) if (!lockedIds.has(o.entry.entryId)) desired.push({ ordered: o, group });
    for (const o of result.omitted) if (!lockedIds.has(o.entryId)) omitted.push(o);
  }

  // 2. locked rows keep their positions; the rest fill the free positions in order
  const slots = new Map<number, Slot>();
  for (const l of locked) {
    const entry = entryById.get(l.entryId);
    slots.set(l.position, { entryId: l.entryId, number: entry?.number ?? null, group: groupOf(params, entry?.categoryId ?? null), locked: l, text: l.explanation ?? 'locked by an official' });
  }
  let position = 1;
  for (const d of desired) {
    while (slots.has(position)) position++;
    slots.set(position, { entryId: d.ordered.entry.entryId, number: d.ordered.entry.number, group: d.group, locked: null, text: d.ordered.text });
    position++;
  }

  // 3. start times by walking the positions
  const rows: StartOrderRow[] = [];
  const countInGroup = new Map<string, number>();
  let t = input.firstStartAtMs;
  let previous: { group: StartGroup | null; indexInGroup: number } | null = null;
  for (const pos of [...slots.keys()].sort((a, b) => a - b)) {
    const slot = slots.get(pos) as Slot;
    const groupKey = slot.group?.id ?? '';
    const indexInGroup = (countInGroup.get(groupKey) ?? 0) + 1;
    countInGroup.set(groupKey, indexInGroup);
    const blocks = slot.group?.blocks ?? params.blocks;
    if (previous === null) {
      t = slot.group?.startAtMs ?? input.firstStartAtMs;
    } else if (previous.group !== slot.group) {
      const previousBlocks = previous.group?.blocks ?? params.blocks;
      const gap = slot.group?.gapBeforeMs ?? params.gapBetweenGroupsMs ?? blockFor(previousBlocks, previous.indexInGroup).intervalMs;
      t = slot.group?.startAtMs ?? t + gap;
    } else if (opensSlot(blocks, indexInGroup)) {
      t += blockFor(blocks, indexInGroup - 1).intervalMs;
    }
    previous = { group: slot.group, indexInGroup };
    rows.push({
      stageId: input.stageId,
      entryId: slot.entryId,
      number: slot.number,
      position: pos,
      startAtMs: slot.locked ? slot.locked.startAtMs : t,
      locked: slot.locked !== null,
      groupId: slot.group?.id ?? null,
      explanation: slot.locked ? slot.text : `${slot.text} → ${ordinal(pos)}`,
    });
  }
  return { rows, omitted };
}
