/**
 * One entry on one stage, from the COPY bytes of its fixes to its result rows: parse
 * (fix-binary.ts) → timing core → rows (rows.ts). Pure and deterministic; runs on a compute worker
 * (compute-worker.ts) or, without workers, on the caller's thread: the rows are the same.
 */
import { computeEntryStage, type StageCourse, type StageStatus, type TimingOptions } from '../core/timing/index.ts';
import { parseFixCopyBinary } from './fix-binary.ts';
import { entryRows, fixLookup, type EntryRows } from './rows.ts';

export interface EntryJob {
  stage: number;
  entry: number;
  /** the binary COPY of the entry's fixes over the stage span (fixes.ts) */
  bytes: Uint8Array;
  /** the stage's timing options with the entry's scheduled start */
  options: TimingOptions;
}

export interface EntryOutcome {
  fixes: number;
  status: StageStatus;
  issues: number;
  rows: EntryRows;
}

export function computeEntry(course: StageCourse, job: EntryJob): EntryOutcome {
  const fixes = parseFixCopyBinary(job.bytes);
  const result = computeEntryStage(course, fixes, job.options);
  return { fixes: fixes.length, status: result.status, issues: result.issues.length, rows: entryRows(job.stage, job.entry, result, fixLookup(fixes)) };
}
