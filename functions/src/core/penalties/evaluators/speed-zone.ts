/**
 * `speed_zone`: one penalty per speed-zone infringement (one infringement per zone passage,
 * Dakar 2023 "une Infraction Vitesse … dans une même Zone"), rally-domain.md §2.2.
 *
 * 1. Excess: the chosen speed basis minus the zone limit (km/h). `max` = highest spot speed,
 *    `average` = actual-path average, `nominal_average` = nominal distance / zone time (FIM
 *    80.16.2, "regardless of the route taken", AC-6), `greatest` = the larger of max and nominal
 *    (or actual) average.
 * 2. Tolerance: `threshold` = an excess up to the tolerance costs nothing, above it the whole
 *    excess counts; `deduct` = the tolerance is subtracted from the excess.
 * 3. Brackets by km/h over the limit, each (aboveKmh, upToKmh], contiguous from 0:
 *    `fixed` (amountMs), `per_kmh` (amountMs + perKmhMs × km/h, counted from zero or from the
 *    bracket's start), `time_gained` (RallySafe, AC-1: factor × excess / limit × time over the
 *    limit, by `max_speed`, or by `samples` = Σ factor × (v_i − limit)/limit × Δt_i), or
 *    `exclusion`. `accumulation: 'bracket'` = the bracket holding the excess decides alone;
 *    `'progressive'` = each bracket charges the km/h inside it (continuous by construction for
 *    per_kmh). Each bracket may be capped (`capMs`); the whole amount too (`capMs`, after
 *    escalation).
 * 4. Escalation across the event (or stage): the amount is multiplied by `multipliers[n − 1]`
 *    (the last one repeats) for the n-th offence, and the `excludeAtOffence`-th offence excludes
 *    (AC-2 Dakar 2005: ×1, ×2, ×4, exclusion at the 4th). Only infringements with a positive
 *    excess after tolerance count as offences.
 */
import type { Evaluator, ValidationResult } from '../evaluator.ts';
import { compareStrings, roundMs } from '../evaluator.ts';
import { formatDurationMs, formatKmh, ordinal, stagePrefix, trimNumber } from '../format.ts';
import type { Json, Problems } from '../params.ts';
import { join, oneOf, optionalArray, optionalBoolean, optionalNumber, optionalString, readObject, rejectUnknownKeys, requiredNumber } from '../params.ts';
import type { Assessment, FactContext, SpeedInfringement } from '../types.ts';

export type SpeedBasis = 'max' | 'average' | 'nominal_average' | 'greatest';
export type BracketMethod = 'fixed' | 'per_kmh' | 'time_gained' | 'exclusion';
export type TimeGainedMethod = 'max_speed' | 'samples';

export interface SpeedBracket {
  /** lower bound of the excess, exclusive (km/h over the limit) */
  aboveKmh: number;
  /** upper bound, inclusive; null = open-ended (last bracket only) */
  upToKmh: number | null;
  method: BracketMethod;
  /** fixed: the amount; per_kmh: a base added to the per-km/h part */
  amountMs: number;
  /** per_kmh: milliseconds per km/h */
  perKmhMs: number;
  /** per_kmh: count km/h from zero (Dakar 2005: 8 km/h over × 30 s) or from the bracket start */
  kmhFrom: 'zero' | 'bracket_start';
  /** time_gained: the factor k (RallySafe 10) */
  factor: number;
  timeGainedMethod: TimeGainedMethod;
  capMs: number | null;
  /** money: fixed fine and fine per km/h over (rule currency) */
  fine: number | null;
  finePerKmh: number | null;
}

export interface SpeedEscalation {
  scope: 'event' | 'stage';
  /** multiplier for the 1st, 2nd, … offence; the last repeats */
  multipliers: number[];
  /** the n-th offence excludes; null = never */
  excludeAtOffence: number | null;
  /** money added for the 1st, 2nd, … offence (Dakar 2005: 300, 500, 1000); the last repeats */
  fineByOffence: number[] | null;
}

export interface SpeedZoneParams {
  speedBasis: SpeedBasis;
  toleranceKmh: number;
  toleranceMode: 'threshold' | 'deduct';
  accumulation: 'bracket' | 'progressive';
  /** when true, validation rejects brackets whose amounts jump at a boundary */
  continuous: boolean;
  brackets: SpeedBracket[];
  capMs: number | null;
  /** amounts are rounded to a multiple of this (default 1 ms) */
  roundToMs: number;
  /** samples method: weight of each sample; null = the gap to the next sample (last: previous gap) */
  sampleIntervalMs: number | null;
  /** samples method: a gap longer than this counts only this much (data holes) */
  maxSampleGapMs: number;
  escalation: SpeedEscalation | null;
  currency: string | null;
}

const PARAM_KEYS = ['speedBasis', 'toleranceKmh', 'toleranceMode', 'accumulation', 'continuous', 'brackets', 'capMs', 'roundToMs', 'sampleIntervalMs', 'maxSampleGapMs', 'escalation', 'currency'];
const BRACKET_KEYS = ['aboveKmh', 'upToKmh', 'method', 'amountMs', 'perKmhMs', 'kmhFrom', 'factor', 'timeGainedMethod', 'capMs', 'fine', 'finePerKmh'];
const ESCALATION_KEYS = ['scope', 'multipliers', 'excludeAtOffence', 'fineByOffence'];

function readBracket(raw: unknown, path: string, problems: Problems): SpeedBracket | undefined {
  const obj = readObject(raw, path, problems);
  if (!obj) return undefined;
  rejectUnknownKeys(obj, path, BRACKET_KEYS, problems);
  const method = oneOf(obj, 'method', path, ['fixed', 'per_kmh', 'time_gained', 'exclusion'] as const, undefined, problems);
  const bracket: SpeedBracket = {
    aboveKmh: requiredNumber(obj, 'aboveKmh', path, { min: 0 }, problems),
    upToKmh: optionalNumber(obj, 'upToKmh', path, { min: 0 }, problems),
    method,
    amountMs: method === 'fixed' ? requiredNumber(obj, 'amountMs', path, { min: 0 }, problems) : optionalNumber(obj, 'amountMs', path, { min: 0 }, problems) ?? 0,
    perKmhMs: method === 'per_kmh' ? requiredNumber(obj, 'perKmhMs', path, { min: 0 }, problems) : 0,
    kmhFrom: oneOf(obj, 'kmhFrom', path, ['zero', 'bracket_start'] as const, 'zero', problems),
    factor: method === 'time_gained' ? requiredNumber(obj, 'factor', path, { above: 0 }, problems) : 0,
    timeGainedMethod: oneOf(obj, 'timeGainedMethod', path, ['max_speed', 'samples'] as const, 'max_speed', problems),
    capMs: optionalNumber(obj, 'capMs', path, { min: 0 }, problems),
    fine: optionalNumber(obj, 'fine', path, { min: 0 }, problems),
    finePerKmh: optionalNumber(obj, 'finePerKmh', path, { min: 0 }, problems),
  };
  if (bracket.upToKmh !== null && bracket.upToKmh <= bracket.aboveKmh) problems.push(`${path}.upToKmh must be > aboveKmh`);
  return bracket;
}

function readEscalation(raw: unknown, path: string, problems: Problems): SpeedEscalation | null {
  if (raw === undefined || raw === null) return null;
  const obj = readObject(raw, path, problems);
  if (!obj) return null;
  rejectUnknownKeys(obj, path, ESCALATION_KEYS, problems);
  const numbers = (key: string, min: number): number[] | null => {
    const list = optionalArray(obj, key, path, problems);
    if (!list) return null;
    if (list.length === 0) problems.push(`${join(path, key)} must not be empty`);
    return list.map((value, i) => {
      if (typeof value !== 'number' || !Number.isFinite(value) || value < min) problems.push(`${join(join(path, key), i)} must be a number >= ${min}`);
      return typeof value === 'number' ? value : 0;
    });
  };
  return {
    scope: oneOf(obj, 'scope', path, ['event', 'stage'] as const, 'event', problems),
    multipliers: numbers('multipliers', 0) ?? [1],
    excludeAtOffence: optionalNumber(obj, 'excludeAtOffence', path, { min: 1, integer: true }, problems),
    fineByOffence: numbers('fineByOffence', 0),
  };
}

/** Amount of one bracket at excess e (km/h), before the bracket cap; exclusion brackets are 0. */
function bracketFormulaMs(b: SpeedBracket, excessKmh: number): number {
  if (b.method === 'fixed') return b.amountMs;
  if (b.method === 'per_kmh') return b.amountMs + b.perKmhMs * (excessKmh - (b.kmhFrom === 'zero' ? 0 : b.aboveKmh));
  return 0;
}

function capped(amountMs: number, capMs: number | null): number {
  return capMs === null ? amountMs : Math.min(amountMs, capMs);
}

/** Amount for an excess by km/h alone (fixed and per_kmh brackets); used by validation checks. */
function amountByKmh(p: Pick<SpeedZoneParams, 'accumulation' | 'brackets'>, excessKmh: number, useUpperBracket: boolean): number {
  if (p.accumulation === 'progressive') {
    let total = 0;
    for (const b of p.brackets) {
      if (excessKmh <= b.aboveKmh && !(useUpperBracket && excessKmh === b.aboveKmh)) break;
      const inside = Math.min(excessKmh, b.upToKmh ?? Infinity);
      total += capped(b.method === 'per_kmh' ? b.amountMs + b.perKmhMs * (inside - b.aboveKmh) : b.amountMs, b.capMs);
    }
    return total;
  }
  const b = p.brackets.find((x) => (useUpperBracket ? excessKmh >= x.aboveKmh && excessKmh < (x.upToKmh ?? Infinity) : excessKmh > x.aboveKmh && excessKmh <= (x.upToKmh ?? Infinity)));
  return b ? capped(bracketFormulaMs(b, excessKmh), b.capMs) : 0;
}

function checkBrackets(p: SpeedZoneParams, problems: Problems): void {
  const { brackets } = p;
  if (brackets.length === 0) {
    problems.push('brackets must not be empty');
    return;
  }
  if (brackets[0].aboveKmh !== 0) problems.push('brackets[0].aboveKmh must be 0 (brackets start at the limit)');
  for (let i = 0; i < brackets.length; i++) {
    const b = brackets[i];
    if (b.upToKmh === null && i < brackets.length - 1) problems.push(`brackets[${i}].upToKmh may be open only on the last bracket`);
    if (i > 0 && brackets[i - 1].upToKmh !== null && b.aboveKmh !== brackets[i - 1].upToKmh) {
      problems.push(`brackets[${i}].aboveKmh must equal brackets[${i - 1}].upToKmh (${brackets[i - 1].upToKmh}): brackets are contiguous`);
    }
    if (p.accumulation === 'progressive' && b.method === 'time_gained') problems.push(`brackets[${i}]: time_gained cannot be progressive`);
    if (i > 0 && brackets[i - 1].method === 'exclusion' && b.method !== 'exclusion') problems.push(`brackets[${i}]: after an exclusion bracket every bracket must exclude`);
  }
  // Boundary checks between neighbouring km/h-based brackets: never decreasing, and equal when
  // `continuous` is set. time_gained depends on duration, exclusion is a step by design.
  for (let i = 0; i + 1 < brackets.length; i++) {
    const left = brackets[i];
    const right = brackets[i + 1];
    if (left.upToKmh === null) continue;
    if (left.method === 'time_gained' || right.method === 'time_gained' || left.method === 'exclusion' || right.method === 'exclusion') continue;
    const boundary = left.upToKmh;
    const atMs = amountByKmh(p, boundary, false);
    const justAboveMs = amountByKmh(p, boundary, true);
    if (justAboveMs < atMs) problems.push(`brackets[${i + 1}]: the amount drops at ${boundary} km/h over (${atMs} → ${justAboveMs} ms)`);
    if (p.continuous && Math.abs(justAboveMs - atMs) > 1e-6) problems.push(`brackets[${i + 1}]: not continuous at ${boundary} km/h over (${atMs} → ${justAboveMs} ms) but continuous is set`);
  }
}

export function validateSpeedZoneParams(raw: unknown): ValidationResult<SpeedZoneParams> {
  const problems: Problems = [];
  const obj: Json = readObject(raw, '', problems) ?? {};
  rejectUnknownKeys(obj, '', PARAM_KEYS, problems);
  const list = optionalArray(obj, 'brackets', '', problems);
  if (!list) problems.push('brackets is required');
  const brackets = (list ?? []).map((b, i) => readBracket(b, `brackets[${i}]`, problems)).filter((b): b is SpeedBracket => b !== undefined);
  const params: SpeedZoneParams = {
    speedBasis: oneOf(obj, 'speedBasis', '', ['max', 'average', 'nominal_average', 'greatest'] as const, 'max', problems),
    toleranceKmh: optionalNumber(obj, 'toleranceKmh', '', { min: 0 }, problems) ?? 0,
    toleranceMode: oneOf(obj, 'toleranceMode', '', ['threshold', 'deduct'] as const, 'threshold', problems),
    accumulation: oneOf(obj, 'accumulation', '', ['bracket', 'progressive'] as const, 'bracket', problems),
    continuous: optionalBoolean(obj, 'continuous', '', false, problems),
    brackets,
    capMs: optionalNumber(obj, 'capMs', '', { min: 0 }, problems),
    roundToMs: optionalNumber(obj, 'roundToMs', '', { above: 0 }, problems) ?? 1,
    sampleIntervalMs: optionalNumber(obj, 'sampleIntervalMs', '', { above: 0 }, problems),
    maxSampleGapMs: optionalNumber(obj, 'maxSampleGapMs', '', { above: 0 }, problems) ?? 10_000,
    escalation: readEscalation(obj.escalation, 'escalation', problems),
    currency: optionalString(obj, 'currency', '', problems),
  };
  if (list && problems.length === 0) checkBrackets(params, problems);
  return problems.length ? { ok: false, problems } : { ok: true, params };
}

function basisSpeed(p: SpeedZoneParams, f: SpeedInfringement): { speedKmh: number; label: string } {
  const nominal = f.nominalAvgSpeedKmh ?? null;
  switch (p.speedBasis) {
    case 'max':
      return { speedKmh: f.maxSpeedKmh, label: `${formatKmh(f.maxSpeedKmh)} km/h` };
    case 'average':
      return { speedKmh: f.avgSpeedKmh, label: `average ${formatKmh(f.avgSpeedKmh)} km/h` };
    case 'nominal_average': {
      const v = nominal ?? f.avgSpeedKmh;
      return { speedKmh: v, label: nominal === null ? `average ${formatKmh(v)} km/h` : `${formatKmh(v)} km/h over the zone's nominal distance` };
    }
    case 'greatest': {
      const avg = nominal ?? f.avgSpeedKmh;
      if (avg > f.maxSpeedKmh) return { speedKmh: avg, label: `${formatKmh(avg)} km/h ${nominal === null ? 'average' : "over the zone's nominal distance"}` };
      return { speedKmh: f.maxSpeedKmh, label: `${formatKmh(f.maxSpeedKmh)} km/h` };
    }
  }
}

function bracketLabel(b: SpeedBracket): string {
  if (b.upToKmh === null) return `over ${trimNumber(b.aboveKmh)} km/h`;
  if (b.aboveKmh === 0) return `up to ${trimNumber(b.upToKmh)} km/h`;
  const from = Number.isInteger(b.aboveKmh) && Number.isInteger(b.upToKmh) ? b.aboveKmh + 1 : b.aboveKmh;
  return `${trimNumber(from)}–${trimNumber(b.upToKmh)} km/h`;
}

/** Σ factor × (v_i − limit − deducted)/limit × Δt_i over the samples (AC-1b: 10.2 s). */
function sampleIntegralMs(p: SpeedZoneParams, b: SpeedBracket, f: SpeedInfringement, deductKmh: number): { amountMs: number; count: number } {
  const samples = [...(f.samples ?? [])].sort((x, y) => x.atMs - y.atMs);
  let sum = 0;
  for (let i = 0; i < samples.length; i++) {
    let dt: number;
    if (p.sampleIntervalMs !== null) dt = p.sampleIntervalMs;
    else if (i + 1 < samples.length) dt = samples[i + 1].atMs - samples[i].atMs;
    else dt = i > 0 ? samples[i].atMs - samples[i - 1].atMs : 1000;
    dt = Math.min(dt, p.maxSampleGapMs);
    const over = samples[i].speedKmh - f.limitKmh - deductKmh;
    if (over > 0) sum += (over / f.limitKmh) * dt;
  }
  return { amountMs: b.factor * sum, count: samples.length };
}

interface BracketResult {
  amountMs: number;
  exclusion: boolean;
  text: string;
  fine: number;
}

function applyBracket(p: SpeedZoneParams, b: SpeedBracket, f: SpeedInfringement, excessKmh: number, deductKmh: number): BracketResult {
  const fine = (b.fine ?? 0) + (b.finePerKmh ?? 0) * excessKmh;
  const label = `bracket ${bracketLabel(b)}`;
  switch (b.method) {
    case 'exclusion':
      return { amountMs: 0, exclusion: true, text: `${label}: exclusion`, fine };
    case 'fixed': {
      const amountMs = capped(b.amountMs, b.capMs);
      return { amountMs, exclusion: false, text: `${label}: ${formatDurationMs(amountMs)}`, fine };
    }
    case 'per_kmh': {
      const counted = excessKmh - (b.kmhFrom === 'zero' ? 0 : b.aboveKmh);
      const raw = b.amountMs + b.perKmhMs * counted;
      const amountMs = capped(raw, b.capMs);
      const base = b.amountMs ? `${formatDurationMs(b.amountMs)} + ` : '';
      const cap = amountMs < raw ? ` (capped at ${formatDurationMs(amountMs)})` : '';
      return { amountMs, exclusion: false, text: `${label}: ${base}${formatKmh(counted)} km/h × ${formatDurationMs(b.perKmhMs)} = ${formatDurationMs(raw)}${cap}`, fine };
    }
    case 'time_gained': {
      let raw: number;
      let how: string;
      if (b.timeGainedMethod === 'samples' && f.samples && f.samples.length > 0) {
        const integral = sampleIntegralMs(p, b, f, deductKmh);
        raw = integral.amountMs;
        how = `time gained over ${integral.count} samples × ${trimNumber(b.factor)}`;
      } else {
        raw = (b.factor * excessKmh * f.overMs) / f.limitKmh;
        how = `time gained ${trimNumber(b.factor)} × ${formatKmh(excessKmh)}/${formatKmh(f.limitKmh)} × ${formatDurationMs(f.overMs)} over the limit`;
        if (b.timeGainedMethod === 'samples') how += ' (no speed samples: max-speed method)';
      }
      const amountMs = capped(raw, b.capMs);
      const cap = amountMs < raw ? ` (capped at ${formatDurationMs(amountMs)})` : '';
      return { amountMs, exclusion: false, text: `${label}: ${how} = ${formatDurationMs(raw)}${cap}`, fine };
    }
  }
}

function progressive(p: SpeedZoneParams, excessKmh: number): BracketResult {
  let amountMs = 0;
  let fine = 0;
  const parts: string[] = [];
  for (const b of p.brackets) {
    if (excessKmh <= b.aboveKmh) break;
    if (b.method === 'exclusion') return { amountMs: 0, exclusion: true, text: `bracket ${bracketLabel(b)}: exclusion`, fine };
    const inside = Math.min(excessKmh, b.upToKmh ?? Infinity) - b.aboveKmh;
    const part = capped(b.method === 'per_kmh' ? b.amountMs + b.perKmhMs * inside : b.amountMs, b.capMs);
    amountMs += part;
    fine += (b.fine ?? 0) + (b.finePerKmh ?? 0) * inside;
    parts.push(b.method === 'per_kmh' ? `${formatKmh(inside)} km/h × ${formatDurationMs(b.perKmhMs)}` : formatDurationMs(part));
  }
  return { amountMs, exclusion: false, text: `${parts.join(' + ')} = ${formatDurationMs(amountMs)}`, fine };
}

export function evaluateSpeedZone(p: SpeedZoneParams, f: SpeedInfringement, ctx: FactContext<SpeedInfringement>): Assessment {
  const zone = f.zoneCode ?? f.zoneId;
  const basis = basisSpeed(p, f);
  const excessKmh = basis.speedKmh - f.limitKmh;
  const head = `${stagePrefix(ctx.stageCode)}${zone}: ${basis.label} in a ${formatKmh(f.limitKmh)} zone`;
  if (excessKmh <= 0) return { amountMs: 0, exclusion: false, fine: null, countsAsOffence: false, explanation: `${head}, not over the limit: no penalty` };
  const overText = `${formatKmh(excessKmh)} km/h over`;
  if (p.toleranceMode === 'threshold' && excessKmh <= p.toleranceKmh) {
    return { amountMs: 0, exclusion: false, fine: null, countsAsOffence: false, explanation: `${head}, ${overText}, within the ${formatKmh(p.toleranceKmh)} km/h tolerance: no penalty` };
  }
  const deductKmh = p.toleranceMode === 'deduct' ? p.toleranceKmh : 0;
  const countedKmh = excessKmh - deductKmh;
  if (countedKmh <= 0) {
    return { amountMs: 0, exclusion: false, fine: null, countsAsOffence: false, explanation: `${head}, ${overText}, within the ${formatKmh(p.toleranceKmh)} km/h tolerance: no penalty` };
  }
  const tolText = deductKmh > 0 ? ` (${formatKmh(countedKmh)} after the ${formatKmh(deductKmh)} km/h tolerance)` : '';
  let result: BracketResult;
  if (p.accumulation === 'progressive') {
    result = progressive(p, countedKmh);
  } else {
    const b = p.brackets.find((x) => countedKmh > x.aboveKmh && countedKmh <= (x.upToKmh ?? Infinity));
    // Validation makes the brackets contiguous from 0; beyond a closed last bracket nothing is charged.
    result = b ? applyBracket(p, b, f, countedKmh, deductKmh) : { amountMs: 0, exclusion: false, text: 'beyond the last bracket: no amount configured', fine: 0 };
  }

  let amountMs = result.amountMs;
  let exclusion = result.exclusion;
  let fine: number | null = result.fine;
  let escalationText = '';
  const esc = p.escalation;
  const offenceNumber = esc ? (esc.scope === 'event' ? ctx.offencesBefore : ctx.offencesBeforeInStage) + 1 : null;
  if (esc && offenceNumber !== null) {
    const multiplier = esc.multipliers[Math.min(offenceNumber, esc.multipliers.length) - 1];
    const fineExtra = esc.fineByOffence ? esc.fineByOffence[Math.min(offenceNumber, esc.fineByOffence.length) - 1] : 0;
    fine = fine * multiplier + fineExtra;
    if (esc.excludeAtOffence !== null && offenceNumber >= esc.excludeAtOffence) {
      exclusion = true;
      amountMs = 0;
      escalationText = ` → ${ordinal(offenceNumber)} offence${esc.scope === 'stage' ? ' in the stage' : ''}: exclusion`;
    } else {
      amountMs *= multiplier;
      escalationText = multiplier !== 1 ? ` (${ordinal(offenceNumber)} offence ×${trimNumber(multiplier)} = ${formatDurationMs(amountMs)})` : ` (${ordinal(offenceNumber)} offence)`;
    }
  }
  let capText = '';
  if (!exclusion && p.capMs !== null && amountMs > p.capMs) {
    amountMs = p.capMs;
    capText = `, capped at ${formatDurationMs(p.capMs)}`;
  }
  amountMs = roundMs(amountMs, p.roundToMs);
  const hasFine = p.brackets.some((b) => b.fine !== null || b.finePerKmh !== null) || (esc?.fineByOffence ?? null) !== null;
  const fineValue = hasFine ? Math.round((fine ?? 0) * 100) / 100 : null;
  const fineText = fineValue ? ` + fine ${trimNumber(fineValue)}${p.currency ? ` ${p.currency}` : ''}` : '';
  return {
    amountMs,
    exclusion,
    fine: fineValue,
    countsAsOffence: true,
    offenceNumber,
    explanation: `${head}, ${overText}${tolText} → ${result.text}${escalationText}${capText}${fineText}`,
  };
}

export const speedZoneEvaluator: Evaluator<SpeedZoneParams, SpeedInfringement> = {
  key: 'speed_zone',
  sourceKind: 'infringement',
  summary: 'Speed-zone infringement: brackets by km/h over (fixed, per km/h, time gained × factor, exclusion), tolerance, caps, repeat-offence escalation',
  validate: validateSpeedZoneParams,
  select: (facts) => (facts.infringements ?? []).filter((f) => !f.dismissed),
  sourceId: (f) => f.id,
  stageId: (f) => f.stageId,
  compare: (a, b) => a.enteredAtMs - b.enteredAtMs || compareStrings(a.id, b.id),
  evaluate: evaluateSpeedZone,
};
