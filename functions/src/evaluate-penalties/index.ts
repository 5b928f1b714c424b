/** evaluate-penalties (issue 7): I/O around the penalties core. docs/penalties.md, "Function". */
export { createPenaltyService } from './service.ts';
export type { PenaltyService } from './service.ts';
export { runPenaltyEvaluation, DEFAULT_COUNTED_STAGE_KINDS } from './evaluate.ts';
export type { PenaltyDeps, PenaltySummary } from './evaluate.ts';
export { PENALTIES_ERR } from './errors.ts';
