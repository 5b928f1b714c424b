/**
 * Process lifecycle for a service's main.ts: SIGTERM/SIGINT stop taking work and drain, with a
 * deadline after which the process is forced out; an uncaught exception is logged and the
 * process exits (redelivery plus idempotent writes make a restart safe).
 */
import type { Logger } from './log.ts';

export interface Closable {
  close(): Promise<void>;
}

/** A different signal this soon after the first is the same stop request delivered twice. */
export const ECHO_WINDOW_MS = 2000;

/**
 * Whether a signal received while already stopping forces an immediate exit. Ctrl-C sends SIGINT
 * to the whole process group and `trm up` then sends its children SIGTERM: that pair, within
 * ECHO_WINDOW_MS, must not skip the drain. The same signal again (Ctrl-C twice), or any signal
 * later, is someone insisting: exit now.
 */
export function forcesExit(first: { signal: string; atMs: number }, signal: string, nowMs: number): boolean {
  return signal === first.signal || nowMs - first.atMs >= ECHO_WINDOW_MS;
}

export function runUntilSignal(service: Closable, log: Logger, options: { deadlineMs?: number } = {}): void {
  const deadlineMs = options.deadlineMs ?? 10_000;
  let first: { signal: string; atMs: number } | undefined;
  const stop = (signal: string) => {
    if (first) {
      if (!forcesExit(first, signal, Date.now())) {
        log.info({ signal, first: first.signal }, 'second stop signal right after the first; still draining');
        return;
      }
      log.warn({ signal }, 'second signal, exiting now');
      process.exit(1);
    }
    first = { signal, atMs: Date.now() };
    log.info({ signal, deadlineMs }, 'stopping');
    const timer = setTimeout(() => {
      log.error({ deadlineMs }, 'shutdown deadline passed, forcing exit');
      process.exit(1);
    }, deadlineMs);
    timer.unref();
    service.close().then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('uncaughtException', (error) => {
    log.fatal({ err: error }, 'uncaught exception, exiting');
    process.exit(1);
  });
  process.on('unhandledRejection', (error) => {
    log.fatal({ err: error }, 'unhandled rejection, exiting');
    process.exit(1);
  });
}

/** Wraps a close function so calling it twice returns the same promise. */
export function once(close: () => Promise<void>): () => Promise<void> {
  let pending: Promise<void> | undefined;
  return () => (pending ??= close());
}
