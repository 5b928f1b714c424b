/**
 * generate-start-order (issue 8; docs/start-order.md, "Function"): a stage id in; the stage's
 * start_orders written through Directus with start times and an explanation per row, only the
 * rows that changed; locked rows never touched.
 *
 *   stage (strategy, params, planned start, interval) + event stages, entries, categories
 *   → reference: previous stage's stage_times, or the overall standings (inverse_of_overall)
 *   → previous stage's start order (tie-break), this stage's locked rows and manual positions
 *   → generateStartOrder (pure) → diff by key against the stored unlocked rows → write
 *
 * The same rows always give the same order, so regenerating writes nothing.
 */
import type { StartOrderRequest } from '../../../common/src/triggers.ts';
import { generateStartOrder, type ReferenceResult, type StrategyKey } from '../core/start-order/index.ts';
import type { DirectusApi } from '../directus-io/directus-api.ts';
import { writeDiff, type WriteCounts } from '../directus-io/write.ts';
import { notFound, refused, START_ORDER_ERR } from './errors.ts';
import {
  coreParams,
  lockedRows,
  manualPositions,
  overallReference,
  previousOrder,
  previousStage,
  RANKING,
  stageReference,
  startEntries,
  startOrderWrites,
  type CategoryRow,
  type EntryRow,
  type StageRow,
  type StageTimeRow,
  type StandingRow,
  type StartOrderRow,
} from './plan.ts';

const STAGE_FIELDS = ['id', 'event', 'code', 'kind', 'sequence', 'planned_start', 'start_interval_s', 'start_order_strategy', 'start_order_params', 'status'];
const START_ORDER_ROW_FIELDS = ['id', 'key', 'stage', 'entry', 'position', 'start_at', 'explanation', 'locked', 'strategy'];

export interface StartOrderDeps {
  api: DirectusApi;
}

export interface StartOrderSummary {
  request: StartOrderRequest;
  stage: number;
  code: string;
  strategy: string;
  /** what the order was built from: `stage <id> (<code>)`, `overall after <code>`, or none */
  reference: string | null;
  rows: number;
  locked: number;
  changed: WriteCounts;
  omitted: { entry: number; reason: string }[];
  duration_ms: number;
}

export async function runStartOrder(deps: StartOrderDeps, request: StartOrderRequest): Promise<StartOrderSummary> {
  const started = Date.now();
  const { api } = deps;
  const id = /^\d+$/.test(request.stage_id) ? Number(request.stage_id) : NaN;
  const stage = Number.isNaN(id) ? undefined : await api.get<StageRow>('stages', id, STAGE_FIELDS);
  if (!stage) throw notFound(`stage ${request.stage_id} not found`, { stage: request.stage_id });
  if (stage.status && stage.status !== 'planned') throw refused(START_ORDER_ERR.STAGE_STARTED, `stage ${stage.code} is ${stage.status}: its start order is no longer generated (edit or lock rows instead)`, 409, { stage: stage.id, status: stage.status });
  if (!stage.planned_start) throw refused(START_ORDER_ERR.NO_PLANNED_START, `stage ${stage.code} has no planned_start: set it, then generate the start order`, 400, { stage: stage.id });

  const [stages, entries, categories, stored] = await Promise.all([
    api.list<StageRow>('stages', { event: { _eq: stage.event } }, STAGE_FIELDS, ['sequence', 'id']),
    api.list<EntryRow>('entries', { event: { _eq: stage.event } }, ['id', 'number', 'category', 'status'], ['number', 'id']),
    api.list<CategoryRow>('categories', { event: { _eq: stage.event } }, ['id', 'code']),
    api.list<StartOrderRow>('start_orders', { stage: { _eq: stage.id } }, START_ORDER_ROW_FIELDS, ['position', 'id']),
  ]);
  const strategy = (stage.start_order_strategy ?? 'manual') as StrategyKey;
  const previous = previousStage(stages, stage);

  let reference: ReferenceResult[] | undefined;
  let referenceText: string | null = null;
  if (strategy === 'inverse_of_overall') {
    const earlier = stages.filter((s) => s.sequence < stage.sequence || (s.sequence === stage.sequence && s.id < stage.id));
    const rows = earlier.length ? await api.list<StandingRow & { stage: number }>('standings', { _and: [{ scope: { _eq: 'overall' } }, { stage: { _in: earlier.map((s) => s.id) } }] }, ['stage', 'entry', 'status', 'total_ms', 'penalty_ms']) : [];
    const latest = earlier.filter((s) => rows.some((r) => r.stage === s.id)).at(-1);
    if (latest) {
      reference = overallReference(rows.filter((r) => r.stage === latest.id));
      referenceText = `overall after ${latest.code}`;
    }
  } else if (previous && strategy !== 'manual') {
    const rows = await api.list<StageTimeRow>('stage_times', { stage: { _eq: previous.id } }, ['entry', 'status', 'raw_ms', 'net_ms', 'penalty_ms', 'total_ms', 'excluded']);
    if (rows.length || RANKING.includes(strategy)) {
      reference = stageReference(rows);
      referenceText = `stage ${previous.id} (${previous.code})`;
    }
  }
  const previousStarts = previous ? await api.list<StartOrderRow>('start_orders', { stage: { _eq: previous.id } }, START_ORDER_ROW_FIELDS) : [];

  const locked = lockedRows(stored);
  const { entries: starting, notStarting } = startEntries(entries, new Set(locked.map((l) => Number(l.entryId))));
  const result = generateStartOrder({
    stageId: String(stage.id),
    strategy,
    params: coreParams(stage, categories, previous),
    firstStartAtMs: Date.parse(stage.planned_start),
    entries: starting,
    ...(reference ? { reference } : {}),
    previousOrder: previousOrder(previousStarts),
    ...(strategy === 'manual' ? { manual: manualPositions(stored) } : {}),
    locked,
  });
  const writes = startOrderWrites(stage.id, strategy, result, stored);
  const changed = await writeDiff(api, 'start_orders', writes);
  return {
    request,
    stage: stage.id,
    code: stage.code,
    strategy,
    reference: referenceText,
    rows: result.rows.length,
    locked: writes.locked,
    changed,
    omitted: [...notStarting, ...result.omitted].map((o) => ({ entry: Number(o.entryId), reason: o.reason })),
    duration_ms: Date.now() - started,
  };
}
