/**
 * Official overrides: a decision on a computed penalty, keyed by the penalty's natural key, kept
 * in the DB apart from the computed row. They are applied after every evaluation, so they
 * survive every recompute; the computed amount stays on the row (`computedAmountMs`).
 *
 * - `waive`: nothing counts (amount 0, no exclusion, a max-time forfeit no longer replaces the
 *   measured time).
 * - `adjust`: `amountMs` counts instead; `exclusion` is what the official says (default false,
 *   so adjusting an excluding penalty to an amount lifts the exclusion).
 *
 * An override whose penalty no longer exists (infringement dismissed, rule removed) is returned
 * as an orphan for the UI to show, never silently dropped and never applied to something else.
 */
import { compareStrings } from './evaluator.ts';
import { PEN_ERR_BAD_OVERRIDE, PenaltyConfigError } from './errors.ts';
import { formatDurationMs } from './format.ts';
import type { Penalty, PenaltyOverride } from './types.ts';

export function validateOverrides(overrides: readonly PenaltyOverride[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  overrides.forEach((o, i) => {
    const at = `overrides[${i}]`;
    if (typeof o.penaltyKey !== 'string' || o.penaltyKey === '') problems.push(`${at}.penaltyKey is required`);
    else if (seen.has(o.penaltyKey)) problems.push(`${at}: a second override for ${o.penaltyKey} (one per penalty)`);
    else seen.add(o.penaltyKey);
    if (o.action !== 'waive' && o.action !== 'adjust') problems.push(`${at}.action must be waive or adjust`);
    if (o.action === 'adjust' && (typeof o.amountMs !== 'number' || !Number.isFinite(o.amountMs))) problems.push(`${at}.amountMs is required for adjust`);
    if (typeof o.reason !== 'string' || o.reason.trim() === '') problems.push(`${at}.reason is required`);
    if (typeof o.by !== 'string' || o.by.trim() === '') problems.push(`${at}.by is required`);
  });
  return problems;
}

/** @throws PEN_ERR_BAD_OVERRIDE listing every problem */
export function applyOverrides(penalties: readonly Penalty[], overrides: readonly PenaltyOverride[]): { penalties: Penalty[]; orphanOverrides: PenaltyOverride[] } {
  const problems = validateOverrides(overrides);
  if (problems.length) throw new PenaltyConfigError(PEN_ERR_BAD_OVERRIDE, 'invalid overrides', problems);
  const byKey = new Map(overrides.map((o) => [o.penaltyKey, o]));
  const used = new Set<string>();
  const out = penalties.map((p): Penalty => {
    const o = byKey.get(p.key);
    if (!o) return { ...p };
    used.add(p.key);
    if (o.action === 'waive') {
      return { ...p, amountMs: 0, exclusion: false, replacesRawMs: null, status: 'waived', override: o, explanation: `${p.explanation} — waived by ${o.by}: ${o.reason}` };
    }
    const amountMs = o.amountMs ?? p.computedAmountMs;
    const exclusion = o.exclusion ?? false;
    const what = exclusion ? 'exclusion' : formatDurationMs(amountMs);
    return { ...p, amountMs: exclusion ? 0 : amountMs, exclusion, status: 'adjusted', override: o, explanation: `${p.explanation} — adjusted to ${what} by ${o.by}: ${o.reason}` };
  });
  const orphanOverrides = overrides.filter((o) => !used.has(o.penaltyKey)).sort((a, b) => compareStrings(a.penaltyKey, b.penaltyKey));
  return { penalties: out, orphanOverrides };
}
