/**
 * Validation of start-order params (stored on the stage row as strategy + params). Every problem
 * is reported at once (SO_ERR_BAD_PARAMS). Defaults: 60 s interval, no groups, DNF and DNS at the
 * end, excluded omitted, `includePenalties` false except for `natural` (Dakar convention).
 */
import type { Json, Problems } from '../penalties/params.ts';
import { join, oneOf, optionalArray, optionalBoolean, optionalNumber, optionalString, readObject, rejectUnknownKeys, requiredNumber } from '../penalties/params.ts';
import { SO_ERR_BAD_PARAMS, SO_ERR_UNKNOWN_STRATEGY, StartOrderError } from './errors.ts';
import type { IntervalBlock, Placement, StartGroup, StartOrderParams, StrategyKey } from './types.ts';

export const STRATEGIES: readonly StrategyKey[] = ['manual', 'natural', 'previous_stage_clean_result', 'inverse_top_n_then_natural', 'inverse_of_overall', 'race_number', 'reverse_race_number'];
const PLACEMENTS: readonly Placement[] = ['end', 'by_number', 'omit'];
const KEYS = ['n', 'includePenalties', 'blocks', 'intervalMs', 'groups', 'gapBetweenGroupsMs', 'unclassified', 'referenceLabel'];

function readBlocks(raw: unknown[], path: string, problems: Problems): IntervalBlock[] {
  if (raw.length === 0) problems.push(`${path} must not be empty`);
  const blocks = raw.map((item, i): IntervalBlock => {
    const at = join(path, i);
    const obj = readObject(item, at, problems) ?? {};
    rejectUnknownKeys(obj, at, ['fromPosition', 'intervalMs', 'perSlot'], problems);
    return {
      fromPosition: requiredNumber(obj, 'fromPosition', at, { min: 1, integer: true }, problems),
      intervalMs: requiredNumber(obj, 'intervalMs', at, { min: 0, integer: true }, problems),
      perSlot: optionalNumber(obj, 'perSlot', at, { min: 1, integer: true }, problems) ?? 1,
    };
  });
  if (blocks.length && blocks[0].fromPosition !== 1) problems.push(`${path}[0].fromPosition must be 1`);
  for (let i = 1; i < blocks.length; i++) {
    if (blocks[i].fromPosition <= blocks[i - 1].fromPosition) problems.push(`${path}[${i}].fromPosition must be greater than the previous block's`);
  }
  return blocks;
}

function readGroups(raw: unknown[], problems: Problems): StartGroup[] {
  const ids = new Set<string>();
  const categories = new Map<string, string>();
  return raw.map((item, i): StartGroup => {
    const at = `groups[${i}]`;
    const obj: Json = readObject(item, at, problems) ?? {};
    rejectUnknownKeys(obj, at, ['id', 'label', 'categoryIds', 'blocks', 'gapBeforeMs', 'startAtMs'], problems);
    const id = optionalString(obj, 'id', at, problems) ?? `group-${i + 1}`;
    if (ids.has(id)) problems.push(`${at}.id ${id} is used twice`);
    ids.add(id);
    const cats = optionalArray(obj, 'categoryIds', at, problems) ?? [];
    if (cats.length === 0) problems.push(`${at}.categoryIds must list at least one category`);
    const categoryIds = cats.map((c, j) => {
      if (typeof c !== 'string') problems.push(`${at}.categoryIds[${j}] must be a string`);
      const cat = String(c);
      const other = categories.get(cat);
      if (other !== undefined) problems.push(`category ${cat} is in groups ${other} and ${id}`);
      categories.set(cat, id);
      return cat;
    });
    const blocks = optionalArray(obj, 'blocks', at, problems);
    return {
      id,
      label: optionalString(obj, 'label', at, problems) ?? id,
      categoryIds,
      blocks: blocks ? readBlocks(blocks, `${at}.blocks`, problems) : null,
      gapBeforeMs: optionalNumber(obj, 'gapBeforeMs', at, { min: 0, integer: true }, problems),
      startAtMs: optionalNumber(obj, 'startAtMs', at, { integer: true }, problems),
    };
  });
}

/** @throws SO_ERR_UNKNOWN_STRATEGY, SO_ERR_BAD_PARAMS (every problem listed) */
export function validateStartOrderParams(strategy: string, raw: unknown): StartOrderParams {
  if (!(STRATEGIES as readonly string[]).includes(strategy)) throw new StartOrderError(SO_ERR_UNKNOWN_STRATEGY, 'unknown start-order strategy', [`"${strategy}" is not one of ${STRATEGIES.join(', ')}`]);
  const problems: Problems = [];
  const obj: Json = readObject(raw ?? {}, '', problems) ?? {};
  rejectUnknownKeys(obj, '', KEYS, problems);
  const n = optionalNumber(obj, 'n', '', { min: 1, integer: true }, problems);
  if (strategy === 'inverse_top_n_then_natural' && n === null) problems.push('n is required for inverse_top_n_then_natural');
  // `intervalMs` is shorthand for one block with a single interval
  const interval = optionalNumber(obj, 'intervalMs', '', { min: 0, integer: true }, problems);
  const blocksRaw = optionalArray(obj, 'blocks', '', problems);
  if (interval !== null && blocksRaw) problems.push('give blocks or intervalMs, not both');
  const blocks = blocksRaw ? readBlocks(blocksRaw, 'blocks', problems) : [{ fromPosition: 1, intervalMs: interval ?? 60_000, perSlot: 1 }];
  const groups = readGroups(optionalArray(obj, 'groups', '', problems) ?? [], problems);
  const un = readObject(obj.unclassified ?? {}, 'unclassified', problems) ?? {};
  rejectUnknownKeys(un, 'unclassified', ['dnf', 'dns', 'excluded'], problems);
  const params: StartOrderParams = {
    n,
    includePenalties: optionalBoolean(obj, 'includePenalties', '', strategy === 'natural', problems),
    blocks,
    groups,
    gapBetweenGroupsMs: optionalNumber(obj, 'gapBetweenGroupsMs', '', { min: 0, integer: true }, problems),
    unclassified: {
      dnf: oneOf(un, 'dnf', 'unclassified', PLACEMENTS, 'end', problems),
      dns: oneOf(un, 'dns', 'unclassified', PLACEMENTS, 'end', problems),
      excluded: oneOf(un, 'excluded', 'unclassified', PLACEMENTS, 'omit', problems),
    },
    referenceLabel: optionalString(obj, 'referenceLabel', '', problems) ?? (strategy === 'inverse_of_overall' ? 'overall' : 'the previous stage'),
  };
  if (problems.length) throw new StartOrderError(SO_ERR_BAD_PARAMS, `bad parameters for ${strategy}`, problems);
  return params;
}
