/**
 * evaluate-penalties (issue 7; docs/penalties.md, "Function"): a request (event, stage or entry)
 * in; penalties, stage totals and positions, and standings written through Directus, only the
 * rows that changed.
 *
 *   scope → event rows (stages, entries, rules, every stage_times row) + the evaluated entries'
 *   facts and stored penalties (with the officials' overrides and manual penalties)
 *   → evaluatePenalties over the whole event (repeat offences count across the event)
 *   → penalties: create / update / delete by key (manual rows kept, overridden rows voided, not deleted)
 *   → stage_times: totals of the evaluated entries, positions of everyone
 *   → standings: overall and per category after each counted stage
 *
 * A stage request evaluates every entry of the event (escalation crosses stages); an entry
 * request evaluates that entry and re-ranks everyone with the others' stored totals. The core is
 * pure and every write is keyed, so a second run with the same rows writes nothing.
 */
import type { PenaltyEvaluationRequest } from '../../../common/src/triggers.ts';
import { evaluatePenalties, type Penalty, type PenaltyOverride } from '../core/penalties/index.ts';
import { diffRows, type StoredRow } from '../directus-io/diff.ts';
import type { DirectusApi } from '../directus-io/directus-api.ts';
import { changedCount, writeDiff, zeroWriteCounts, type WriteCounts } from '../directus-io/write.ts';
import { entryFacts, penaltyRules, stageRefs, storedOverrides } from './facts.ts';
import { eventTotals, penaltyWrites, stageTimeWrites, standingRows, STANDING_FIELDS, storedEventPenalties, type TotalsInput } from './results.ts';
import { loadEvent, loadTargets, resolveScope, STANDING_ROW_FIELDS } from './store.ts';

export interface PenaltyDeps {
  api: DirectusApi;
  /** stage kinds counted in the standings (default: special; the prologue sets the start order only) */
  countedStageKinds?: readonly string[];
}

export interface PenaltySummary {
  request: PenaltyEvaluationRequest;
  event: number;
  /** entries evaluated */
  entries: number;
  penalties: WriteCounts & { manual_updated: number; voided: number };
  stage_times: { updated: number; unchanged: number };
  standings: WriteCounts;
  /** rows changed in all three collections */
  total_changes: number;
  /** overrides whose penalty no longer exists (their rows are kept, voided) */
  orphan_overrides: string[];
  /** overrides that cannot apply, and facts that cannot be evaluated */
  ignored: string[];
  duration_ms: number;
}

export const DEFAULT_COUNTED_STAGE_KINDS = ['special'] as const;

export async function runPenaltyEvaluation(deps: PenaltyDeps, request: PenaltyEvaluationRequest): Promise<PenaltySummary> {
  const started = Date.now();
  const { api } = deps;
  const scope = await resolveScope(api, request);
  const [event, targets] = await Promise.all([loadEvent(api, scope.eventId), loadTargets(api, scope)]);
  const evaluatedEntries = scope.entryId === null ? event.entries : event.entries.filter((e) => e.id === scope.entryId);
  const evaluated = new Set(evaluatedEntries.map((e) => e.id));

  // 1. facts and overrides → the core
  const { facts, skipped } = entryFacts({
    stages: event.stages,
    entries: evaluatedEntries,
    infringements: targets.infringements,
    zones: targets.zones,
    waypointPasses: targets.waypointPasses,
    waypoints: targets.waypoints,
    stageTimes: event.stageTimes.filter((r) => evaluated.has(r.entry)),
    penalties: targets.penalties,
  });
  const { overrides, ignored } = storedOverrides(targets.penalties);
  const result = evaluatePenalties({ stages: stageRefs(event.stages), rules: penaltyRules(event.rules), entries: facts, overrides });

  // 2. penalties
  const pw = penaltyWrites(scope.eventId, result.penalties, targets.penalties);
  const penaltyCounts = await writeDiff(api, 'penalties', pw.diff);
  if (pw.manual.length) await api.updateMany('penalties', pw.manual);

  // 3. stage totals and positions
  const totalsInput: TotalsInput = {
    stages: event.stages,
    entries: event.entries,
    stageTimes: event.stageTimes,
    evaluated,
    coreStageTimes: facts.flatMap((f) => f.stageTimes ?? []),
    penalties: result.penalties,
  };
  const totals = eventTotals(totalsInput);
  const stPatches = stageTimeWrites(totalsInput, totals);
  if (stPatches.length) await api.updateMany('stage_times', stPatches);

  // 4. standings after each counted stage
  const eventPenalties: Penalty[] = [...result.penalties.filter((p) => p.stageId === null), ...storedEventPenalties(targets.otherEventPenalties, evaluated)];
  const wanted = standingRows({ eventId: scope.eventId, stages: event.stages, entries: event.entries, totals, eventPenalties, countedKinds: deps.countedStageKinds ?? DEFAULT_COUNTED_STAGE_KINDS });
  const storedStandings = await api.list<StoredRow>('standings', { event: { _eq: scope.eventId } }, STANDING_ROW_FIELDS);
  const standingCounts = storedStandings.length || wanted.length ? await writeDiff(api, 'standings', diffRows(wanted, storedStandings, STANDING_FIELDS)) : zeroWriteCounts();

  const penalties = { ...penaltyCounts, manual_updated: pw.manual.length, voided: pw.voided };
  return {
    request,
    event: scope.eventId,
    entries: evaluated.size,
    penalties,
    stage_times: { updated: stPatches.length, unchanged: event.stageTimes.length - stPatches.length },
    standings: standingCounts,
    total_changes: changedCount(penaltyCounts) + pw.manual.length + stPatches.length + changedCount(standingCounts),
    orphan_overrides: result.orphanOverrides.map((o: PenaltyOverride) => o.penaltyKey),
    ignored: [...ignored.map((i) => `override on ${i.key}: ${i.reason}`), ...skipped],
    duration_ms: Date.now() - started,
  };
}
