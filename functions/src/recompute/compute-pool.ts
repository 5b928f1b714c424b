/**
 * Entry computations (compute-entry.ts: parse the COPY bytes, timing core, rows) on worker
 * threads, so several entries are computed on several cores while the main thread reads the
 * next entries' fixes. `size: 0` computes on the caller's thread: same code, same rows. A job
 * goes to the worker with the fewest jobs in flight; the rows do not depend on which one.
 *
 * The fix bytes are transferred (not copied) to the worker; a stage's course is sent once per
 * worker and kept there by key (compute-protocol.ts).
 *
 * A worker: started on the first job it gets → running (ref'd while it has jobs in flight,
 * unref'd when idle, so an idle pool keeps no process alive) → failed (an uncaught error or an
 * unexpected exit rejects its jobs with a retryable RECOMPUTE_ERR_COMPUTE; the next job starts a
 * new worker) | closed (`close()`: terminated, jobs in flight rejected, later jobs refused).
 */
import { Worker } from 'node:worker_threads';
import type { StageCourse } from '../core/timing/index.ts';
import { computeEntry, type EntryJob, type EntryOutcome } from './compute-entry.ts';
import { COURSES_KEPT, type WorkerReply, type WorkerRequest } from './compute-protocol.ts';
import { RECOMPUTE_ERR, RecomputeError } from './errors.ts';

const WORKER_URL = new URL('./compute-worker.ts', import.meta.url);

/** A stage's course and a key naming it for the duration of one stage's recompute. */
export interface CourseRef {
  key: string;
  course: StageCourse;
}

export interface ComputePool {
  /** workers; 0 = computed on the caller's thread */
  readonly size: number;
  run(course: CourseRef, job: EntryJob): Promise<EntryOutcome>;
  /** terminates the workers; idempotent */
  close(): Promise<void>;
}

interface Pending {
  resolve: (outcome: EntryOutcome) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
  /** course keys the worker holds, oldest first (mirrors compute-worker.ts) */
  courses: string[];
  done: boolean;
}

/** Computes on the caller's thread. */
export const inlineCompute: ComputePool = {
  size: 0,
  run: async (course, job) => computeEntry(course.course, job),
  close: async () => undefined,
};

/**
 * The bytes as the sole view of their ArrayBuffer, so transferring it moves nothing else; a
 * Buffer is copied (Node's Buffers may share a pool, which is not transferable).
 */
function ownBuffer(bytes: Uint8Array): Uint8Array {
  return !Buffer.isBuffer(bytes) && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : new Uint8Array(bytes);
}

export function createComputePool(options: { size: number }): ComputePool {
  const size = Math.max(0, Math.floor(options.size));
  if (size === 0) return inlineCompute;
  const slots: (Slot | undefined)[] = new Array(size).fill(undefined);
  let nextId = 1;
  let closing: Promise<void> | undefined;

  function start(index: number): Slot {
    const worker = new Worker(WORKER_URL);
    worker.unref();
    const slot: Slot = { worker, pending: new Map(), courses: [], done: false };
    const fail = (cause: Error) => {
      if (slot.done) return;
      slot.done = true;
      if (slots[index] === slot) slots[index] = undefined;
      for (const p of slot.pending.values()) p.reject(new RecomputeError(RECOMPUTE_ERR.COMPUTE, `compute worker failed: ${cause.message}`, { cause, retryable: true }));
      slot.pending.clear();
      void worker.terminate();
    };
    worker.on('message', (reply: WorkerReply) => {
      const p = slot.pending.get(reply.id);
      if (!p) return;
      slot.pending.delete(reply.id);
      if (slot.pending.size === 0) worker.unref();
      if (reply.error) p.reject(Object.assign(new RecomputeError(RECOMPUTE_ERR.COMPUTE, `computing an entry: ${reply.error.message}`, { details: { code: reply.error.code } }), { workerStack: reply.error.stack }));
      else p.resolve(reply.outcome);
    });
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`worker exited with code ${code}`)));
    slots[index] = slot;
    return slot;
  }

  return {
    size,
    run(course, job) {
      if (closing) return Promise.reject(new RecomputeError(RECOMPUTE_ERR.COMPUTE, 'the compute pool is closed'));
      let best = 0;
      for (let i = 1; i < size; i++) if ((slots[i]?.pending.size ?? 0) < (slots[best]?.pending.size ?? 0)) best = i;
      const slot = slots[best] ?? start(best);
      const id = nextId++;
      const bytes = ownBuffer(job.bytes);
      const sendCourse = !slot.courses.includes(course.key);
      const message: WorkerRequest = { id, courseKey: course.key, ...(sendCourse ? { course: course.course } : {}), job: { ...job, bytes } };
      return new Promise<EntryOutcome>((resolve, reject) => {
        slot.pending.set(id, { resolve, reject });
        if (slot.pending.size === 1) slot.worker.ref();
        try {
          slot.worker.postMessage(message, [bytes.buffer as ArrayBuffer]);
          if (sendCourse) {
            slot.courses.push(course.key);
            if (slot.courses.length > COURSES_KEPT) slot.courses.shift();
          }
        } catch (cause) {
          slot.pending.delete(id);
          if (slot.pending.size === 0) slot.worker.unref();
          reject(new RecomputeError(RECOMPUTE_ERR.COMPUTE, `sending an entry to a compute worker: ${(cause as Error).message}`, { cause }));
        }
      });
    },
    close() {
      closing ??= (async () => {
        const live = slots.filter((s): s is Slot => s !== undefined);
        slots.fill(undefined);
        for (const slot of live) {
          slot.done = true;
          for (const p of slot.pending.values()) p.reject(new RecomputeError(RECOMPUTE_ERR.COMPUTE, 'the compute pool closed'));
          slot.pending.clear();
        }
        await Promise.all(live.map((s) => s.worker.terminate()));
      })();
      return closing;
    },
  };
}
