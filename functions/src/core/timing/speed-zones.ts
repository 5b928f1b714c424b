/**
 * Speed-zone passages and infringements: ONE infringement per passage through a zone, however
 * many times the speed goes over and back under the limit inside it (Dakar 2023, AC-3).
 *
 * Speed profile of a passage (docs/timing.md "Speed zones"):
 *   entry → first fix inside:   the first inside fix's speed, held
 *   between inside fixes:       linear between the two spot speeds (not across a gap/spike pair)
 *   last fix inside → exit:     the last inside fix's speed, held
 * Fixes outside the zone never contribute, so a fast approach before DZ is no evidence.
 * `overMs` and `overDistanceM` measure where that profile is strictly above limit + tolerance;
 * `avgSpeedKmh` is its time-weighted mean. With a nominal distance (FIM 80.16.2, AC-6) the
 * average "regardless of the route" is nominalDistanceM over the DZ→FZ time and infringes alone.
 */
import { round2, roundMs, type ResolvedOptions } from './options.ts';
import type { Track } from './track.ts';
import type { SpeedZone, SpeedZonePassage, TimingIssue } from './types.ts';
import { findZonePassages, isComplete, type ZonePassage } from './zone-passages.ts';

export interface SpeedZoneEvaluation {
  passages: SpeedZonePassage[];
  issues: TimingIssue[];
}

interface OverAccumulator {
  weightedKmhMs: number;
  durationMs: number;
  overMs: number;
  /** km/h · ms above the threshold; /3600 gives metres */
  overKmhMs: number;
}

/** Adds a piece of profile going linearly from v0 to v1 over durationMs. */
function addPiece(acc: OverAccumulator, v0: number, v1: number, durationMs: number, threshold: number): void {
  if (durationMs <= 0) return;
  acc.weightedKmhMs += ((v0 + v1) / 2) * durationMs;
  acc.durationMs += durationMs;
  const over0 = v0 > threshold;
  const over1 = v1 > threshold;
  if (over0 && over1) {
    acc.overMs += durationMs;
    acc.overKmhMs += ((v0 + v1) / 2) * durationMs;
  } else if (over0 || over1) {
    const vHigh = over0 ? v0 : v1;
    const vLow = over0 ? v1 : v0;
    const d = ((vHigh - threshold) / (vHigh - vLow)) * durationMs;
    acc.overMs += d;
    acc.overKmhMs += ((vHigh + threshold) / 2) * d;
  }
}

function evidence(track: Track, p: ZonePassage, threshold: number, max: number): number[] {
  const { fixes } = track;
  const boundary = new Set<number>();
  if (p.entryPair >= 0) boundary.add(p.entryPair);
  if (p.lastInside >= p.firstInside) {
    boundary.add(p.firstInside);
    boundary.add(p.lastInside);
  }
  if (p.exitPair >= 0) boundary.add(p.exitPair + 1);
  const fastest: number[] = [];
  for (let k = p.firstInside; k <= p.lastInside; k++) if (fixes[k].speedKmh > threshold && !boundary.has(k)) fastest.push(k);
  fastest.sort((a, b) => fixes[b].speedKmh - fixes[a].speedKmh || a - b);
  const chosen = [...boundary, ...fastest.slice(0, Math.max(0, max - boundary.size))];
  return chosen.sort((a, b) => a - b).map((k) => fixes[k].ts);
}

export function evaluateSpeedZone(track: Track, zone: SpeedZone, opts: Pick<ResolvedOptions, 'maxEvidenceFixes'>): SpeedZoneEvaluation {
  const toleranceKmh = zone.toleranceKmh ?? 0;
  const threshold = zone.limitKmh + toleranceKmh;
  const nominalDistanceM = zone.nominalDistanceM ?? null;
  const { fixes, pairs } = track;
  const passages: SpeedZonePassage[] = [];
  const issues: TimingIssue[] = [];
  findZonePassages(track, zone.area).forEach((p, seq) => {
    const complete = isComplete(p);
    const hasInside = p.lastInside >= p.firstInside;
    const samples = [];
    let maxSpeedKmh: number | null = null;
    let maxSpeedAtMs: number | null = null;
    const acc: OverAccumulator = { weightedKmhMs: 0, durationMs: 0, overMs: 0, overKmhMs: 0 };
    let avgSpeedKmh: number | null = null;
    if (hasInside) {
      const a = fixes[p.firstInside];
      const b = fixes[p.lastInside];
      for (let k = p.firstInside; k <= p.lastInside; k++) {
        const f = fixes[k];
        samples.push({ atMs: f.ts, speedKmh: f.speedKmh });
        if (maxSpeedKmh === null || f.speedKmh > maxSpeedKmh) {
          maxSpeedKmh = f.speedKmh;
          maxSpeedAtMs = f.ts;
        }
      }
      addPiece(acc, a.speedKmh, a.speedKmh, a.ts - p.enteredExactMs, threshold);
      for (let k = p.firstInside; k < p.lastInside; k++) {
        if (pairs[k] !== 'ok') continue;
        addPiece(acc, fixes[k].speedKmh, fixes[k + 1].speedKmh, fixes[k + 1].ts - fixes[k].ts, threshold);
      }
      if (p.exitedExactMs !== null) addPiece(acc, b.speedKmh, b.speedKmh, p.exitedExactMs - b.ts, threshold);
      avgSpeedKmh =
        acc.durationMs > 0
          ? round2(acc.weightedKmhMs / acc.durationMs)
          : round2(samples.reduce((s, x) => s + x.speedKmh, 0) / samples.length);
    }
    let nominalAvgSpeedKmh: number | null = null;
    if (nominalDistanceM !== null && complete && p.exitedAtMs !== null) {
      const durMs = p.exitedAtMs - p.enteredAtMs;
      if (p.entryInterpolated && p.exitInterpolated && durMs > 0) {
        nominalAvgSpeedKmh = round2((nominalDistanceM / (durMs / 1000)) * 3.6);
      } else {
        issues.push({ code: 'NOMINAL_SPEED_UNAVAILABLE', featureId: zone.id, fromTs: p.enteredAtMs, toTs: p.exitedAtMs });
      }
    }
    if (!complete) {
      issues.push({
        code: 'ZONE_PASSAGE_INCOMPLETE',
        featureId: zone.id,
        fromTs: p.enteredAtMs,
        toTs: p.exitedAtMs ?? (fixes.length > 0 ? fixes[fixes.length - 1].ts : null),
      });
    }
    const spotOver = maxSpeedKmh !== null && maxSpeedKmh > threshold;
    const nominalOver = nominalAvgSpeedKmh !== null && nominalAvgSpeedKmh > threshold;
    passages.push({
      zoneId: zone.id,
      code: zone.code ?? null,
      seq,
      enteredAtMs: p.enteredAtMs,
      exitedAtMs: p.exitedAtMs,
      entryInterpolated: p.entryInterpolated,
      exitInterpolated: p.exitInterpolated,
      complete,
      limitKmh: zone.limitKmh,
      toleranceKmh,
      thresholdKmh: threshold,
      insideFixCount: samples.length,
      maxSpeedKmh,
      maxSpeedAtMs,
      avgSpeedKmh,
      // rounded independently of the boundaries, so clamp: never more than the rounded passage
      overMs: p.exitedAtMs === null ? roundMs(acc.overMs) : Math.min(roundMs(acc.overMs), p.exitedAtMs - p.enteredAtMs),
      overDistanceM: round2(acc.overKmhMs / 3600),
      nominalDistanceM,
      nominalAvgSpeedKmh,
      spotOver,
      nominalOver,
      infringed: complete && (spotOver || nominalOver),
      samples,
      evidenceTs: evidence(track, p, threshold, opts.maxEvidenceFixes),
    });
  });
  return { passages, issues };
}
