/** Messages between the compute pool and its workers (compute-pool.ts, compute-worker.ts). */
import type { StageCourse } from '../core/timing/index.ts';
import type { EntryJob, EntryOutcome } from './compute-entry.ts';

/** courses a worker keeps (and the pool remembers it keeps), oldest sent evicted first */
export const COURSES_KEPT = 8;

export interface WorkerRequest {
  id: number;
  courseKey: string;
  /** present the first time this worker gets the course */
  course?: StageCourse;
  job: EntryJob;
}

export type WorkerReply = { id: number; outcome: EntryOutcome; error?: undefined } | { id: number; error: { message: string; stack?: string; code?: string }; outcome?: undefined };
