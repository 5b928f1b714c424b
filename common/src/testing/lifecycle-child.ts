/**
 * A service for lifecycle.test.ts: runUntilSignal around a close() that takes CLOSE_MS; prints
 * `ready` once its handlers are installed. Logs go to stdout (pino, JSON lines).
 */
import { createLogger } from '../log.ts';
import { runUntilSignal } from '../lifecycle.ts';

const closeMs = Number(process.env.CLOSE_MS ?? 300);
runUntilSignal({ close: () => new Promise<void>((resolve) => setTimeout(resolve, closeMs)) }, createLogger('lifecycle-child'), { deadlineMs: 10_000 });
setInterval(() => {}, 1000); // stays up until signalled
process.stdout.write('ready\n');
