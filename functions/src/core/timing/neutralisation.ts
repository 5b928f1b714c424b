/**
 * Neutralised time: the time between entering and leaving a neutralisation zone (DN → FN, or a
 * polygon) during the stage. With a nominal duration the deducted time is exactly the nominal
 * one, whatever the actual time (AC-9: leaving FN early still deducts only the nominal 900 s;
 * the early exit is reported for the penalty evaluator).
 *
 * Only the stage counts: the zone must be entered at or after the start and before the finish.
 * Lines: the first DN→FN passage. Polygon: first entry to last exit, so GPS jitter along the
 * boundary does not split the stay; a stay still open at the finish ends at the finish.
 * Nothing is deducted for a neutralisation entered but not left, nor, without a nominal
 * duration, for one whose DN or FN fell in a gap (its actual time is unknown): both are reported
 * as NEUTRALISATION_INCOMPLETE for an operator to decide.
 */
import { roundMs } from './options.ts';
import type { Track } from './track.ts';
import type { NeutralisationRow, NeutralisationZone, TimingIssue } from './types.ts';
import { findZonePassages } from './zone-passages.ts';

export interface StageWindow {
  startMs: number;
  /** null while running */
  finishMs: number | null;
}

export function evaluateNeutralisation(
  track: Track,
  zone: NeutralisationZone,
  stage: StageWindow | null,
): { row: NeutralisationRow; issue: TimingIssue | null } {
  const nominalMs = zone.nominalDurationS === undefined ? null : roundMs(zone.nominalDurationS * 1000);
  const row: NeutralisationRow = {
    zoneId: zone.id,
    code: zone.code ?? null,
    enteredAtMs: null,
    exitedAtMs: null,
    actualMs: null,
    nominalMs,
    deductedMs: 0,
    earlyExitMs: null,
    complete: false,
  };
  if (stage === null) return { row, issue: null };
  const passages = findZonePassages(track, zone.area).filter(
    (p) => p.entrySeen && p.enteredAtMs >= stage.startMs && (stage.finishMs === null || p.enteredAtMs < stage.finishMs),
  );
  if (passages.length === 0) return { row, issue: null };
  const first = passages[0];
  const last = zone.area.type === 'lines' ? first : passages[passages.length - 1];
  let exitedAtMs = last.exitedAtMs;
  if (stage.finishMs !== null && (exitedAtMs === null || exitedAtMs > stage.finishMs)) {
    exitedAtMs = zone.area.type === 'polygon' ? stage.finishMs : null;
  }
  row.enteredAtMs = first.enteredAtMs;
  row.exitedAtMs = exitedAtMs;
  if (exitedAtMs === null) {
    return {
      row,
      issue: { code: 'NEUTRALISATION_INCOMPLETE', featureId: zone.id, fromTs: first.enteredAtMs, toTs: null },
    };
  }
  const actualMs = exitedAtMs - first.enteredAtMs;
  row.actualMs = actualMs;
  row.complete = true;
  row.earlyExitMs = nominalMs === null ? null : Math.max(0, nominalMs - actualMs);
  const timed = first.entryInterpolated && (last.exitInterpolated || exitedAtMs !== last.exitedAtMs);
  if (nominalMs === null && !timed) {
    return {
      row,
      issue: { code: 'NEUTRALISATION_INCOMPLETE', featureId: zone.id, fromTs: first.enteredAtMs, toTs: exitedAtMs },
    };
  }
  row.deductedMs = nominalMs ?? actualMs;
  return { row, issue: null };
}
