/**
 * The consumer loop of group `processor`: read → batch → write → COMMIT → dead letters →
 * XACK → publish committed windows. Nothing is acknowledged before it is durable.
 *
 * State machine (one batch fills while up to `concurrentBatches` (2) are written; at most three
 * batches are held):
 *
 *   collecting ──maxRows | maxWaitMs──▶ writing ──COMMIT──▶ dead-lettering ──▶ XACK ──▶ publishing
 *       ▲                                  │ retryable failure                              │
 *       │                                  ▼                                                │
 *       │                      backoff, same batch again (nothing new is read: backpressure)│
 *       └────────────────────────────────────────────────────────────────────────────────────┘
 *   close(): stop reading → the batch in hand is written (retrying for at most drainMs, after
 *   which it is left pending for XAUTOCLAIM) → done.
 *
 * A row Postgres rejects for its value (SQLSTATE 22/23/54) is isolated by halving the batch
 * and dead-lettered with the error; the rest of the batch commits. Pending entries idle longer
 * than claimIdleMs (a writer that died) are claimed and written by whoever notices first.
 */
import { TrmError, errorMessage } from '../../common/src/errors.ts';
import type { Health } from '../../common/src/admin-server.ts';
import type { Logger } from '../../common/src/log.ts';
import { backoffMs } from './backoff.ts';
import { planRead, type BatchPolicy } from './batch-policy.ts';
import { classifyDbError, WRITER_ERR_ABANDONED } from './errors.ts';
import { assessBacklog, type GroupInfo } from './lag.ts';
import { createWriterMetrics, type WriterMetrics } from './metrics.ts';
import type { EncodedRow } from './entry-codec.ts';
import type { PositionSink } from './sink.ts';
import type { DeadLetter, PositionStream, StreamEntry } from './stream.ts';
import { committedWindows, type CommittedWindow } from './windows.ts';

export interface CommittedBatch {
  ids: string[];
  rows: number;
  inserted: number;
  deadLetters: number;
  windows: CommittedWindow[];
  committedAtMs: number;
}

export interface WriterOptions {
  stream: PositionStream;
  sink: PositionSink;
  log: Logger;
  consumer: string;
  policy: BatchPolicy;
  claimIdleMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  drainMs: number;
  streamMaxLen: number;
  lagWarnPercent: number;
  monitorIntervalMs: number;
  /**
   * batches written at once (each on its own connection): one's COMMIT waits for its WAL flush
   * while the next one's COPY runs. Default 2.
   */
  concurrentBatches?: number;
  metrics?: WriterMetrics;
  now?: () => number;
  random?: () => number;
  /** called after each batch is committed and acknowledged (benchmarks, tests) */
  onCommitted?: (batch: CommittedBatch) => void;
}

export interface Writer {
  metrics: WriterMetrics;
  start(): void;
  /** resolves when the loop has ended (after close(), or rejects on an unexpected failure) */
  done(): Promise<void>;
  close(): Promise<void>;
  health(): Health;
  /** reads the group's lag and pending now (the monitor does it every monitorIntervalMs) */
  monitor(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const LOUD_LOG_EVERY_MS = 10_000;
const DEAD_CONSUMER_IDLE_FACTOR = 10;

export function buildWriter(options: WriterOptions): Writer {
  const { stream, sink, log, policy } = options;
  const metrics = options.metrics ?? createWriterMetrics();
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const claimEveryMs = Math.max(50, Math.min(options.claimIdleMs / 2, 5000));
  const concurrentBatches = options.concurrentBatches ?? 2;

  let stopping = false;
  let stoppingAtMs = 0;
  let loop: Promise<void> | undefined;
  let monitorTimer: NodeJS.Timeout | undefined;
  let monitoring = false;
  let nextClaimAtMs = 0;
  let ownCursor: string | null = '0-0'; // own pending entries first (same consumer name after a restart)
  // batches being written: a claim must not take back what this writer holds (ids looked up
  // only when a claim returns something, not per entry of every batch)
  const inFlight = new Set<StreamEntry[]>();
  const heldIds = () => new Set([...inFlight].flatMap((batch) => batch.map((e) => e.id)));

  let dbFailing = false;
  let lastError: string | undefined;
  let lastCommitAtMs: number | undefined;
  let group: GroupInfo | undefined;
  let backlogDegraded = false;
  let lastLoudLogMs = 0;
  let lastRateAtMs = now();
  let lastRateRows = 0;
  let lastConsumerSweepMs = 0;

  async function collect(): Promise<StreamEntry[]> {
    const entries: StreamEntry[] = [];
    let firstAtMs: number | null = null;
    if (ownCursor !== null) {
      const own = await stream.read(policy.maxRows, 0, ownCursor);
      if (own.length === 0) ownCursor = null;
      else {
        ownCursor = own[own.length - 1].id;
        log.info({ entries: own.length }, 'resuming own pending entries');
        return own;
      }
    }
    if (now() >= nextClaimAtMs) {
      nextClaimAtMs = now() + claimEveryMs;
      let claimed = await stream.claim(options.claimIdleMs, policy.maxRows);
      if (claimed.length > 0 && inFlight.size > 0) {
        const held = heldIds();
        claimed = claimed.filter((e) => !held.has(e.id));
      }
      if (claimed.length > 0) {
        metrics.claimed.inc(claimed.length);
        log.warn({ entries: claimed.length, idleMs: options.claimIdleMs }, "claimed a dead consumer's pending entries");
        entries.push(...claimed);
        firstAtMs = now();
        if (claimed.length >= policy.maxRows) nextClaimAtMs = 0; // more may be waiting
      }
    }
    while (!stopping) {
      const plan = planRead(policy, entries.length, firstAtMs, now());
      if (plan.action === 'flush') break;
      const got = await stream.read(plan.count, plan.blockMs);
      if (got.length > 0) {
        firstAtMs ??= now();
        for (const e of got) entries.push(e);
      } else if (entries.length === 0) break; // idle: give the loop a turn (claims, close)
    }
    return entries;
  }

  /** Retries `fn` with backoff until it succeeds; gives up only when draining past drainMs. */
  async function retrying<T>(what: 'db' | 'redis', rows: number, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        const result = await fn();
        if (what === 'db' && dbFailing) {
          dbFailing = false;
          metrics.dbUp.set(1);
          log.info({ attempts: attempt + 1 }, 'database writes succeed again');
        }
        return result;
      } catch (error) {
        metrics.retries.inc();
        lastError = `${what}: ${errorMessage(error)}`;
        if (what === 'db') {
          dbFailing = true;
          metrics.dbUp.set(0);
        }
        if (stopping && now() - stoppingAtMs >= options.drainMs) {
          throw new TrmError(WRITER_ERR_ABANDONED, `draining took longer than ${options.drainMs} ms; batch left pending`, { cause: error });
        }
        const waitMs = backoffMs(attempt, options.retryBaseMs, options.retryMaxMs, random());
        log.warn({ err: error, what, attempt, rows, waitMs }, 'batch step failed, retrying the same batch');
        await sleep(stopping ? Math.max(1, Math.min(waitMs, options.drainMs - (now() - stoppingAtMs))) : waitMs);
      }
    }
  }

  interface Written {
    inserted: number;
    accepted: EncodedRow[];
    rejected: DeadLetter[];
  }

  /** Writes rows; a row-level rejection is narrowed down by halving until the bad row is alone. */
  async function writeIsolating(rows: EncodedRow[], entries: StreamEntry[]): Promise<Written> {
    try {
      const { inserted } = await sink.write(rows);
      return { inserted, accepted: rows, rejected: [] };
    } catch (error) {
      if (classifyDbError(error) === 'retry') throw error;
      if (rows.length === 1) {
        const code = (error as { code?: string }).code;
        return { inserted: 0, accepted: [], rejected: [{ entry: entries[0], reason: `rejected by Postgres (${code}): ${errorMessage(error)}` }] };
      }
      const mid = rows.length >>> 1;
      const a = await writeIsolating(rows.slice(0, mid), entries.slice(0, mid));
      const b = await writeIsolating(rows.slice(mid), entries.slice(mid));
      return { inserted: a.inserted + b.inserted, accepted: [...a.accepted, ...b.accepted], rejected: [...a.rejected, ...b.rejected] };
    }
  }

  async function flush(entries: StreamEntry[]): Promise<void> {
    const rows: EncodedRow[] = [];
    const rowEntries: StreamEntry[] = [];
    const dead: DeadLetter[] = [];
    for (const entry of entries) {
      // decoded as it was read (stream.ts, entry-codec.ts); a decoded entry is its own row
      if (entry.ok) {
        rows.push(entry);
        rowEntries.push(entry);
      } else dead.push({ entry, reason: entry.reason });
    }
    const startedMs = now();
    const written = await retrying('db', rows.length, () => writeIsolating(rows, rowEntries));
    const committedAtMs = now();
    dead.push(...written.rejected);
    await retrying('redis', dead.length, () => stream.deadLetter(dead));
    const ids = entries.map((e) => e.id);
    await retrying('redis', ids.length, () => stream.ack(ids));
    const windows = committedWindows(written.accepted);
    if (windows.length > 0) {
      await retrying('redis', rows.length, () => stream.publishCommitted({ windows, rows: written.accepted.length, inserted: written.inserted }));
    }

    lastCommitAtMs = committedAtMs;
    metrics.batches.inc();
    metrics.rows.inc(written.accepted.length);
    metrics.inserted.inc(written.inserted);
    metrics.batchRows.observe(entries.length);
    metrics.commitSeconds.observe((committedAtMs - startedMs) / 1000);
    for (const e of entries) metrics.recordAgeSeconds.observe((committedAtMs - e.idMs) / 1000);
    if (dead.length > 0) {
      metrics.deadLetters.inc(dead.length);
      log.warn({ entries: dead.length, first: { id: dead[0].entry.id, reason: dead[0].reason } }, 'entries dead-lettered');
    }
    options.onCommitted?.({ ids, rows: written.accepted.length, inserted: written.inserted, deadLetters: dead.length, windows, committedAtMs });
  }

  async function run(): Promise<void> {
    await stream.ensureGroup();
    const writing = new Set<Promise<void>>();
    let failure: unknown;
    for (;;) {
      let batch: StreamEntry[] = [];
      if (!stopping) {
        try {
          batch = await collect();
        } catch (error) {
          lastError = `redis: ${errorMessage(error)}`;
          log.error({ err: error }, 'reading the stream failed');
          await sleep(backoffMs(3, options.retryBaseMs, options.retryMaxMs, random()));
        }
      }
      // backpressure: at most `concurrentBatches` written at a time, one more filled ahead
      while (writing.size >= concurrentBatches && failure === undefined) await Promise.race(writing);
      if (failure !== undefined) throw failure;
      if (batch.length > 0) {
        inFlight.add(batch);
        const ids = batch;
        const task: Promise<void> = flush(batch)
          .catch((error: unknown) => {
            if ((error as TrmError).code !== WRITER_ERR_ABANDONED) throw error;
            log.error({ err: error, entries: ids.length }, 'batch abandoned at shutdown; it stays pending for another writer');
          })
          .then(
            () => undefined,
            (error: unknown) => {
              failure ??= error;
            },
          )
          .finally(() => {
            inFlight.delete(ids);
            writing.delete(task);
          });
        writing.add(task);
      }
      if (stopping) {
        await Promise.all(writing);
        if (failure !== undefined) throw failure;
        return;
      }
    }
  }

  async function monitor(): Promise<void> {
    if (monitoring) return;
    monitoring = true;
    try {
      group = await stream.groupInfo();
      const assessment = assessBacklog(group, options.streamMaxLen, options.lagWarnPercent);
      metrics.lag.set(group.lag ?? group.length);
      metrics.pending.set(group.pending);
      metrics.streamLength.set(group.length);
      metrics.backlogRatio.set(assessment.ratio);
      backlogDegraded = assessment.degraded;
      metrics.degraded.set(backlogDegraded || dbFailing ? 1 : 0);
      if (backlogDegraded && now() - lastLoudLogMs >= LOUD_LOG_EVERY_MS) {
        lastLoudLogMs = now();
        log.error({ ...group, backlog: assessment.backlog, capEntries: options.streamMaxLen, percent: Math.round(assessment.ratio * 100) },
          'BACKLOG APPROACHES THE STREAM CAP: entries not yet written will be trimmed and LOST; add writers or fix the database');
      }
      const t = now();
      const rows = metrics.rows.get();
      if (t > lastRateAtMs) metrics.rowsPerSecond.set(Math.round(((rows - lastRateRows) * 1000) / (t - lastRateAtMs)));
      lastRateAtMs = t;
      lastRateRows = rows;
      if (t - lastConsumerSweepMs >= options.claimIdleMs) {
        lastConsumerSweepMs = t;
        // consumers of dead processes pile up in the group after restarts; forget those that hold nothing
        for (const c of await stream.consumers()) {
          if (c.name !== options.consumer && c.pending === 0 && c.idleMs >= options.claimIdleMs * DEAD_CONSUMER_IDLE_FACTOR) await stream.deleteConsumer(c.name);
        }
      }
    } catch (error) {
      log.warn({ err: error }, 'reading the group state failed');
    } finally {
      monitoring = false;
    }
  }

  let closing: Promise<void> | undefined;
  return {
    metrics,
    start() {
      if (loop) return;
      metrics.dbUp.set(1);
      loop = run();
      loop.catch(() => {}); // observed through done()
      monitorTimer = setInterval(() => void monitor(), options.monitorIntervalMs);
      monitorTimer.unref();
      void monitor();
    },
    done() {
      return loop ?? Promise.resolve();
    },
    close() {
      closing ??= (async () => {
        stopping = true;
        stoppingAtMs = now();
        if (monitorTimer) clearInterval(monitorTimer);
        await loop;
      })();
      return closing;
    },
    health() {
      const degraded = backlogDegraded || dbFailing;
      return {
        ok: !degraded,
        status: degraded ? 'degraded' : 'ok',
        consumer: options.consumer,
        db: dbFailing ? 'failing' : 'up',
        lag: group?.lag ?? null,
        pending: group?.pending ?? null,
        streamLength: group?.length ?? null,
        capEntries: options.streamMaxLen,
        backlogRatio: metrics.backlogRatio.get(),
        lastCommitAt: lastCommitAtMs === undefined ? null : new Date(lastCommitAtMs).toISOString(),
        lastError: lastError ?? null,
      };
    },
    monitor,
  };
}
