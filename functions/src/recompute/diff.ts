/**
 * The fields the recompute owns in each result collection (docs/recompute.md, "Rows"), compared
 * by the shared diff (../directus-io/diff.ts, re-exported here).
 */
import type { FieldSpec } from '../directus-io/diff.ts';

export { diffRows, sameValue } from '../directus-io/diff.ts';
export type { Diff, FieldKind, FieldSpec, StoredRow } from '../directus-io/diff.ts';

export const STAGE_TIME_FIELDS: FieldSpec = { stage: 'int', entry: 'int', status: 'text', start_at: 'instant', finish_at: 'instant', raw_ms: 'int', neutralised_ms: 'int', net_ms: 'int', splits: 'json', time_controls: 'json' };
export const WAYPOINT_PASS_FIELDS: FieldSpec = { stage: 'int', entry: 'int', waypoint: 'int', validated: 'bool', passed_at: 'instant', distance_m: 'real', method: 'text' };
export const SPEED_INFRINGEMENT_FIELDS: FieldSpec = {
  stage: 'int',
  entry: 'int',
  zone: 'int',
  entered_at: 'instant',
  exited_at: 'instant',
  limit_kmh: 'int',
  max_speed_kmh: 'real',
  avg_speed_kmh: 'real',
  nominal_avg_speed_kmh: 'real',
  over_ms: 'int',
  over_distance_m: 'real',
  evidence: 'json',
};

