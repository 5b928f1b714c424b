/** The recompute (issue 6): I/O around the timing core. docs/recompute.md. */
export { loadRecomputeConfig } from './config.ts';
export type { RecomputeConfig } from './config.ts';
export { createRecomputeService } from './service.ts';
export type { RecomputeService } from './service.ts';
export { runRecompute, totalChanges, zeroCounts } from './recompute.ts';
export type { ChangeCounts, ProgressEvent, RecomputeDeps, RecomputeSummary, StageSummary } from './recompute.ts';
export { RECOMPUTE_ERR } from './errors.ts';
