import { describe, expect, test } from 'vitest';
import { evaluatePenalties } from '../core/penalties/evaluate-penalties.ts';
import { compileRules } from '../core/penalties/resolve-rules.ts';
import { generateStartOrder } from '../core/start-order/generate-start-order.ts';
import { validateStartOrderParams } from '../core/start-order/params.ts';
import type { Provenance } from './index.ts';
import { PRESETS, findPreset, presetPenaltyRules } from './index.ts';

/** Every leaf under `value` as a JSON pointer. */
function leaves(value: unknown, pointer = ''): string[] {
  if (value !== null && typeof value === 'object') {
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
    return entries.flatMap(([k, v]) => leaves(v, `${pointer}/${k}`));
  }
  return [pointer];
}
const resolves = (root: unknown, pointer: string) => pointer.split('/').slice(1).reduce<unknown>((node, key) => (node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), root) !== undefined;
// names and labels are display, not rule values
const DISPLAY = /\/(id|label|referenceLabel)$/;

function checkProvenance(params: unknown, provenance: Record<string, Provenance>, extra: string[] = []): string[] {
  const problems: string[] = [];
  const pointers = Object.keys(provenance);
  for (const leaf of leaves(params)) {
    if (DISPLAY.test(leaf)) continue;
    if (!pointers.some((p) => leaf === p || leaf.startsWith(`${p}/`))) problems.push(`no provenance for ${leaf}`);
  }
  for (const [pointer, p] of Object.entries(provenance)) {
    if (!extra.includes(pointer) && !resolves(params, pointer)) problems.push(`provenance ${pointer} points at nothing`);
    if (!['P', 'S', 'O', 'I'].includes(p.confidence)) problems.push(`${pointer}: confidence ${p.confidence}`);
    if (!p.source) problems.push(`${pointer}: no source`);
  }
  return problems;
}

describe.each(PRESETS.map((p) => [p.id, p] as const))('preset %s', (_id, preset) => {
  test('every penalty rule validates and no two collide', () => {
    expect(() => compileRules(presetPenaltyRules(preset))).not.toThrow();
  });
  test('every start order validates', () => {
    for (const so of preset.startOrders) expect(() => validateStartOrderParams(so.strategy, so.params)).not.toThrow();
  });
  test('every value is marked with a confidence and a source', () => {
    const problems = [
      ...preset.penaltyRules.flatMap((r) => checkProvenance(r.params, r.provenance).map((p) => `${r.id}: ${p}`)),
      ...preset.startOrders.flatMap((s) => checkProvenance(s.params, s.provenance, ['/strategy']).map((p) => `${s.appliesTo}: ${p}`)),
    ];
    expect(problems).toEqual([]);
  });
  test('start-order groups use only the preset categories', () => {
    for (const so of preset.startOrders) {
      for (const g of (so.params.groups ?? []) as { categoryIds: string[] }[]) for (const c of g.categoryIds) expect(preset.categories.codes).toContain(c);
    }
  });
});

describe('presets reproduce their sources', () => {
  test('Dakar 2005 village zones (disabled by default) give AC-2 when enabled', () => {
    const rule = presetPenaltyRules(findPreset('dakar-style')!).find((r) => r.id === 'dakar-2005-village-zones')!;
    const inf = (id: string, t: number, max: number) => ({ id, stageId: 's', entryId: 'e', zoneId: id, limitKmh: 50, maxSpeedKmh: max, avgSpeedKmh: 45, overMs: 1, overDistanceM: 1, enteredAtMs: t, exitedAtMs: t + 1 });
    const r = evaluatePenalties({ stages: [{ id: 's', code: 'SS1', sequence: 1 }], rules: [{ ...rule, enabled: true }], entries: [{ entryId: 'e', categoryId: null, infringements: [inf('A', 1, 58), inf('B', 2, 61), inf('C', 3, 53), inf('D', 4, 51)] }] });
    expect(r.penalties.map((p) => [p.amountMs, p.exclusion, p.fine])).toEqual([[240_000, false, 300], [660_000, false, 500], [360_000, false, 1000], [0, true, 1000]]);
  });
  test('Rally Albania: the first special after the prologue gives AC-7', () => {
    const so = findPreset('rally-albania-2025')!.startOrders.find((s) => s.strategy === 'inverse_top_n_then_natural')!;
    const entries = Array.from({ length: 25 }, (_, i) => ({ entryId: `r${i + 1}`, number: 100 + i, categoryId: 'M-1' }));
    const reference = entries.map((e, i) => ({ entryId: e.entryId, status: 'classified' as const, rawMs: 1_000 * (i + 1), totalMs: 1_000 * (i + 1) }));
    const t0 = Date.UTC(2025, 5, 9, 7, 0, 0);
    const rows = generateStartOrder({ stageId: 'ss1', strategy: so.strategy, params: so.params, firstStartAtMs: t0, entries, reference }).rows;
    const r7 = rows.find((r) => r.entryId === 'r7')!;
    expect([r7.position, r7.startAtMs - t0, r7.explanation]).toEqual([14, 13 * 60_000, 'P7 in prologue; top 20 reversed → 14th']);
  });
});
