/**
 * Rule presets as data: a starting point an organiser copies into `penalty_rules` and the
 * stages' start-order settings, then edits. Every value carries its provenance (confidence tag
 * P/S/O/I of rally-domain.md and a source) under `provenance`, keyed by a JSON pointer into
 * `params` (`/strategy` for a start order's strategy). A pointer on an array or object covers
 * everything under it.
 */
import type { PenaltyRule } from '../core/penalties/types.ts';
import type { StrategyKey } from '../core/start-order/types.ts';
import dakarStyle from './dakar-style.json' with { type: 'json' };
import rallyAlbania2025 from './rally-albania-2025.json' with { type: 'json' };

export type Confidence = 'P' | 'S' | 'O' | 'I';

export interface Provenance {
  confidence: Confidence;
  source: string;
  note?: string;
}

export interface PresetRule {
  id: string;
  evaluator: string;
  enabled?: boolean;
  /** `stage` is a stage code or null; `categories` are category codes or null (= every category) */
  scope: { stage: string | null; categories: string[] | null };
  params: Record<string, unknown>;
  provenance: Record<string, Provenance>;
}

export interface PresetStartOrder {
  appliesTo: string;
  strategy: StrategyKey;
  params: Record<string, unknown>;
  provenance: Record<string, Provenance>;
}

export interface Preset {
  id: string;
  name: string;
  summary: string;
  confidenceLegend: Record<Confidence, string>;
  categories: { codes: string[]; provenance: Provenance };
  penaltyRules: PresetRule[];
  standings: { countedStageKinds: string[]; provenance: Provenance };
  startOrders: PresetStartOrder[];
}

export const PRESETS: readonly Preset[] = [rallyAlbania2025 as unknown as Preset, dakarStyle as unknown as Preset];

export function findPreset(id: string): Preset | undefined {
  return PRESETS.find((p) => p.id === id);
}

/**
 * The preset's rules as `penalty_rules` rows: one row per listed category (id `${rule.id}:${code}`),
 * codes mapped to ids by the caller's lookups.
 */
export function presetPenaltyRules(preset: Preset, ids: { stage?: (code: string) => string; category?: (code: string) => string } = {}): PenaltyRule[] {
  const stageId = (code: string | null) => (code === null ? null : ids.stage ? ids.stage(code) : code);
  return preset.penaltyRules.flatMap((rule): PenaltyRule[] => {
    const base = { evaluator: rule.evaluator, params: rule.params, stageId: stageId(rule.scope.stage), enabled: rule.enabled ?? true };
    if (rule.scope.categories === null) return [{ id: rule.id, categoryId: null, ...base }];
    return rule.scope.categories.map((code) => ({ id: `${rule.id}:${code}`, categoryId: ids.category ? ids.category(code) : code, ...base }));
  });
}
