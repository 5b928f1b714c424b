/**
 * `time_control`: early or late arrival at a time control, per minute (rally-domain.md §2.4,
 * AC-8: 10 s per minute late, 1 min per minute early, OTL = exclusion).
 *
 * How minutes are counted is the event's convention (`granularity`):
 * - `clock_minute` — time-card practice: only the minute of the clock counts, so arriving at any
 *   second of 10:18 for a 10:15 due time is 3 min late (AC-8); 10:13:59 is 2 min early.
 * - `started_minute` — every started minute of difference counts (ceil).
 * - `completed_minute` — only completed minutes count (floor).
 * - `exact` — pro rata to the millisecond.
 * Lateness beyond `otlAfterMinutes` is "out of time limit": exclusion, or a fixed amount.
 */
import type { Evaluator, ValidationResult } from '../evaluator.ts';
import { compareStrings, roundMs } from '../evaluator.ts';
import { formatDurationMs, stagePrefix, trimNumber } from '../format.ts';
import type { Problems } from '../params.ts';
import { oneOf, optionalBoolean, optionalNumber, readObject, rejectUnknownKeys, requiredNumber } from '../params.ts';
import type { Assessment, FactContext, TimeControlArrival } from '../types.ts';

export type MinuteGranularity = 'clock_minute' | 'started_minute' | 'completed_minute' | 'exact';

export interface TimeControlParams {
  latePerMinuteMs: number;
  earlyPerMinuteMs: number;
  granularity: MinuteGranularity;
  /** minutes late that cost nothing (default 0) */
  lateToleranceMinutes: number;
  /** true where checking in early is allowed (e.g. the last control of the day); default false */
  earlyAllowed: boolean;
  /** late by more than this many minutes = OTL; null = no limit */
  otlAfterMinutes: number | null;
  otlOutcome: 'exclusion' | 'amount';
  otlAmountMs: number;
  /** no arrival at all: `none` = not this evaluator's business, `exclusion`, or `amount` */
  missedOutcome: 'none' | 'exclusion' | 'amount';
  missedAmountMs: number;
  roundToMs: number;
}

const KEYS = ['latePerMinuteMs', 'earlyPerMinuteMs', 'granularity', 'lateToleranceMinutes', 'earlyAllowed', 'otlAfterMinutes', 'otlOutcome', 'otlAmountMs', 'missedOutcome', 'missedAmountMs', 'roundToMs'];

export function validateTimeControlParams(raw: unknown): ValidationResult<TimeControlParams> {
  const problems: Problems = [];
  const obj = readObject(raw, '', problems) ?? {};
  rejectUnknownKeys(obj, '', KEYS, problems);
  const otlOutcome = oneOf(obj, 'otlOutcome', '', ['exclusion', 'amount'] as const, 'exclusion', problems);
  const missedOutcome = oneOf(obj, 'missedOutcome', '', ['none', 'exclusion', 'amount'] as const, 'none', problems);
  const params: TimeControlParams = {
    latePerMinuteMs: requiredNumber(obj, 'latePerMinuteMs', '', { min: 0 }, problems),
    earlyPerMinuteMs: requiredNumber(obj, 'earlyPerMinuteMs', '', { min: 0 }, problems),
    granularity: oneOf(obj, 'granularity', '', ['clock_minute', 'started_minute', 'completed_minute', 'exact'] as const, undefined, problems),
    lateToleranceMinutes: optionalNumber(obj, 'lateToleranceMinutes', '', { min: 0 }, problems) ?? 0,
    earlyAllowed: optionalBoolean(obj, 'earlyAllowed', '', false, problems),
    otlAfterMinutes: optionalNumber(obj, 'otlAfterMinutes', '', { min: 0 }, problems),
    otlOutcome,
    otlAmountMs: otlOutcome === 'amount' ? requiredNumber(obj, 'otlAmountMs', '', { min: 0 }, problems) : 0,
    missedOutcome,
    missedAmountMs: missedOutcome === 'amount' ? requiredNumber(obj, 'missedAmountMs', '', { min: 0 }, problems) : 0,
    roundToMs: optionalNumber(obj, 'roundToMs', '', { above: 0 }, problems) ?? 1,
  };
  return problems.length ? { ok: false, problems } : { ok: true, params };
}

/** Signed minutes of difference, arrival − due, under the convention; positive = late. */
export function minutesLate(granularity: MinuteGranularity, dueMs: number, arrivedMs: number): number {
  const diffMs = arrivedMs - dueMs;
  switch (granularity) {
    case 'clock_minute':
      return Math.floor(arrivedMs / 60_000) - Math.floor(dueMs / 60_000);
    case 'started_minute':
      return Math.sign(diffMs) * Math.ceil(Math.abs(diffMs) / 60_000);
    case 'completed_minute':
      return Math.sign(diffMs) * Math.floor(Math.abs(diffMs) / 60_000);
    case 'exact':
      return diffMs / 60_000;
  }
}

export function evaluateTimeControl(p: TimeControlParams, f: TimeControlArrival, ctx: FactContext<TimeControlArrival>): Assessment | null {
  const label = `${stagePrefix(ctx.stageCode)}${f.controlCode ?? f.controlId}`;
  if (f.arrivedMs === null) {
    if (p.missedOutcome === 'none') return null;
    if (p.missedOutcome === 'exclusion') return { amountMs: 0, exclusion: true, explanation: `${label}: no check-in → exclusion` };
    return { amountMs: p.missedAmountMs, exclusion: false, explanation: `${label}: no check-in → ${formatDurationMs(p.missedAmountMs)}` };
  }
  const minutes = minutesLate(p.granularity, f.dueMs, f.arrivedMs);
  const m = trimNumber(Math.abs(minutes));
  if (minutes > 0) {
    if (p.otlAfterMinutes !== null && minutes > p.otlAfterMinutes) {
      const limit = `over the ${trimNumber(p.otlAfterMinutes)} min limit (OTL)`;
      if (p.otlOutcome === 'exclusion') return { amountMs: 0, exclusion: true, explanation: `${label}: ${m} min late, ${limit} → exclusion` };
      return { amountMs: p.otlAmountMs, exclusion: false, explanation: `${label}: ${m} min late, ${limit} → ${formatDurationMs(p.otlAmountMs)}` };
    }
    const counted = Math.max(0, minutes - p.lateToleranceMinutes);
    if (counted === 0) return null;
    const amountMs = roundMs(counted * p.latePerMinuteMs, p.roundToMs);
    const tol = p.lateToleranceMinutes > 0 ? ` (${trimNumber(counted)} after ${trimNumber(p.lateToleranceMinutes)} min tolerance)` : '';
    return { amountMs, exclusion: false, explanation: `${label}: ${m} min late${tol} × ${formatDurationMs(p.latePerMinuteMs)}/min → ${formatDurationMs(amountMs)}` };
  }
  if (minutes < 0 && !p.earlyAllowed) {
    const amountMs = roundMs(-minutes * p.earlyPerMinuteMs, p.roundToMs);
    return { amountMs, exclusion: false, explanation: `${label}: ${m} min early × ${formatDurationMs(p.earlyPerMinuteMs)}/min → ${formatDurationMs(amountMs)}` };
  }
  return null;
}

export const timeControlEvaluator: Evaluator<TimeControlParams, TimeControlArrival> = {
  key: 'time_control',
  sourceKind: 'time_control',
  summary: 'Time control: per minute late or early (minute convention a parameter), OTL exclusion',
  validate: validateTimeControlParams,
  select: (facts) => facts.timeControls ?? [],
  sourceId: (f) => f.id ?? `${f.controlId}:${f.entryId}`,
  stageId: (f) => f.stageId,
  compare: (a, b) => a.dueMs - b.dueMs || compareStrings(a.controlId, b.controlId),
  evaluate: evaluateTimeControl,
};
