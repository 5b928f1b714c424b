/**
 * A compute worker (compute-pool.ts): `{ id, courseKey, course?, job }` in, `{ id, outcome }` or
 * `{ id, error }` out. Courses are sent once per worker and kept by key, the most recent
 * COURSES_KEPT of them, evicted in the order they came (the pool mirrors that order, so it
 * knows which keys a worker holds).
 */
import { parentPort } from 'node:worker_threads';
import type { StageCourse } from '../core/timing/index.ts';
import { computeEntry } from './compute-entry.ts';
import { COURSES_KEPT, type WorkerReply, type WorkerRequest } from './compute-protocol.ts';

const courses = new Map<string, StageCourse>();

parentPort!.on('message', (message: WorkerRequest) => {
  let reply: WorkerReply;
  try {
    if (message.course) {
      courses.set(message.courseKey, message.course);
      if (courses.size > COURSES_KEPT) courses.delete(courses.keys().next().value!);
    }
    const course = courses.get(message.courseKey);
    if (!course) throw new Error(`course ${message.courseKey} was not sent to this worker`);
    reply = { id: message.id, outcome: computeEntry(course, message.job) };
  } catch (error) {
    const e = error as Error & { code?: string };
    reply = { id: message.id, error: { message: e.message, stack: e.stack, code: e.code } };
  }
  parentPort!.postMessage(reply);
});
