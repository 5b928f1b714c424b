/**
 * The safety service: one sequential loop over the group `safety` of the telemetry stream, the
 * silence clock and the course refresh, so the detector's state needs no locks.
 *
 *   loop: refresh due? → reload course/flags/open alerts (flag-closes, below)
 *         tick due?    → detector.tick(now)          → apply intents
 *         claim due?   → XAUTOCLAIM dead consumers'  → process
 *         XREADGROUP (BLOCK ≤ time to the next tick) → process
 *   process: decode → faulty? (flags) → detector.ingest → apply intents → XACK
 *   apply:   open  → an alert with the key not closed? dedup : POST /items/alerts
 *            close → PATCH status closed, note "auto-closed: <why>"
 *
 * The database decides dedup (findOpenAlert, then the trm-safety hook's lock-protected check
 * answers 409 to a racing create). Writes that fail retryably are retried with backoff, holding
 * the batch (nothing is XACKed before its alerts are written); on close the retries stop at the
 * drain deadline and the batch stays pending for the next consumer. Faulty flags: on every
 * refresh, an alert not closed whose evidence fixes are all flagged faulty is closed.
 */
import type pg from 'pg';
import { errorMessage, isRetryable } from '../../common/src/errors.ts';
import type { Health } from '../../common/src/admin-server.ts';
import type { Logger } from '../../common/src/log.ts';
import type { AlertsApi } from './alerts-api.ts';
import { Course } from './course.ts';
import { Detector, type CloseIntent, type Intent, type OpenIntent } from './detector.ts';
import { drainDeadline, DuplicateOpenError } from './errors.ts';
import { decodeFix } from './fix.ts';
import { FlagIndex } from './flags.ts';
import { findOpenAlert, loadLastHeard, loadSnapshot, type OpenAlert } from './loader.ts';
import type { SafetyMetrics } from './metrics.ts';
import type { PositionGroup, StreamEntry } from './stream.ts';

export interface SafetyOptions {
  readCount: number;
  readBlockMs: number;
  tickMs: number;
  refreshMs: number;
  claimIdleMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  drainMs: number;
}

export interface SafetyDeps {
  stream: PositionGroup;
  pool: pg.Pool;
  alerts: AlertsApi;
  log: Logger;
  metrics: SafetyMetrics;
  options: SafetyOptions;
  now?: () => number;
}

export interface Safety {
  /** resolves once the group exists and the first course is loaded; the loop then runs */
  start(): Promise<void>;
  /** the loop's end: rejects when it failed */
  done(): Promise<void>;
  health(): Promise<Health>;
  close(): Promise<void>;
}

const FLAG_CLOSE_NOTE = 'auto-closed: every fix that raised it was flagged faulty (position_flags)';

export function buildSafety(deps: SafetyDeps): Safety {
  const { stream, pool, alerts, log, metrics, options } = deps;
  const now = deps.now ?? Date.now;
  const detector = new Detector(Course.empty());
  let flags = new FlagIndex();
  let course = Course.empty();
  let devices: string[] = [];
  let stopping = false;
  let stopDeadline = Infinity;
  let loop: Promise<void> | undefined;
  let lastRefreshOkMs: number | null = null;
  let lastError: string | null = null;
  let writeFailing = false;
  let closed: Promise<void> | undefined;

  const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

  async function refresh(): Promise<void> {
    const t = now();
    try {
      const snap = await loadSnapshot(pool, t, course);
      course = snap.course;
      devices = snap.devices;
      detector.setCourse(course);
      flags = snap.flags;
      metrics.entries.set(snap.course.entryCount);
      metrics.tracked.set(detector.tracked);
      lastRefreshOkMs = t;
      await closeFlagged(snap.openAlerts);
      return;
    } catch (error) {
      metrics.refreshErrors.inc();
      lastError = errorMessage(error);
      log.warn({ err: error }, 'course refresh failed; keeping the previous one');
    }
  }

  async function closeFlagged(open: readonly OpenAlert[]): Promise<void> {
    for (const a of open) {
      if (a.kind === 'silent' || !a.device || !a.evidence?.fixes?.length) continue;
      if (!a.evidence.fixes.every((f) => flags.isFaulty(a.device!, Date.parse(f.ts)))) continue;
      if ((await write(a.kind, () => alerts.update(a.id, { status: 'closed', note: FLAG_CLOSE_NOTE }).then(() => true))) !== true) continue;
      metrics.closed.inc(1, { kind: a.kind, reason: 'faulty' });
      if (a.entry !== null) detector.reset(a.entry, a.kind);
      log.info({ alert: a.id, key: a.key, kind: a.kind }, 'alert closed: its fixes were flagged faulty');
    }
  }

  /**
   * Runs one alert write (its dedup read included), retrying retryable failures with backoff
   * until the drain deadline; undefined when Directus refused it for good.
   */
  async function write<T>(kind: string, fn: () => Promise<T>): Promise<T | undefined> {
    for (let attempt = 0; ; attempt++) {
      const started = performance.now();
      try {
        const value = await fn();
        metrics.writeSeconds.observe((performance.now() - started) / 1000);
        writeFailing = false;
        return value;
      } catch (error) {
        if (!isRetryable(error)) {
          metrics.writeErrors.inc(1, { kind });
          log.error({ err: error, kind }, 'alert write refused; not retried');
          return undefined;
        }
        writeFailing = true;
        lastError = errorMessage(error);
        if (Date.now() >= stopDeadline) throw drainDeadline(error);
        metrics.retries.inc();
        const delay = Math.min(options.retryMaxMs, options.retryBaseMs * 2 ** Math.min(attempt, 16));
        log.warn({ err: error, attempt, delayMs: delay }, 'alert write failed; retrying');
        await sleep(delay);
      }
    }
  }

  async function apply(intents: readonly Intent[]): Promise<void> {
    for (const intent of intents) {
      metrics.intents.inc(1, { type: intent.type, kind: intent.kind });
      if (intent.type === 'open') await open(intent);
      else await close(intent);
    }
  }

  async function open(intent: OpenIntent): Promise<void> {
    const t = new Date(now()).toISOString();
    const body = {
      key: intent.key,
      event: intent.event,
      stage: intent.stage,
      entry: intent.entry,
      device: intent.device,
      kind: intent.kind,
      severity: intent.severity,
      status: 'open',
      opened_at: t,
      position: intent.position ? { type: 'Point', coordinates: [intent.position.lon, intent.position.lat] } : null,
      evidence: { ...intent.evidence, at: new Date(intent.atMs).toISOString(), detected_at: t },
    };
    const result = await write(intent.kind, async () => {
      const existing = await findOpenAlert(pool, intent.key);
      if (existing) return { duplicateOf: existing.id };
      try {
        return { id: (await alerts.create(body)).id };
      } catch (error) {
        if (error instanceof DuplicateOpenError) return { duplicateOf: error.alertId };
        throw error;
      }
    });
    if (!result) return;
    if ('duplicateOf' in result) {
      metrics.deduplicated.inc(1, { kind: intent.kind });
      log.debug({ key: intent.key, alert: result.duplicateOf }, 'already open');
      return;
    }
    metrics.opened.inc(1, { kind: intent.kind });
    log.info({ alert: result.id, key: intent.key, kind: intent.kind, event: intent.event, entry: intent.entry }, 'alert opened');
  }

  async function close(intent: CloseIntent): Promise<void> {
    const closedId = await write(intent.kind, async () => {
      const existing = await findOpenAlert(pool, intent.key);
      if (!existing) return null;
      await alerts.update(existing.id, { status: 'closed', note: `auto-closed: ${intent.reason}` });
      return existing.id;
    });
    if (closedId === undefined || closedId === null) return;
    metrics.closed.inc(1, { kind: intent.kind, reason: 'cleared' });
    log.info({ alert: closedId, key: intent.key, reason: intent.reason }, 'alert closed: condition cleared');
  }

  async function processEntries(entries: readonly StreamEntry[]): Promise<void> {
    if (!entries.length) return;
    const intents: Intent[] = [];
    const t = now();
    for (const e of entries) {
      const decoded = decodeFix(e.fields);
      if (!decoded.ok) {
        metrics.recordsBad.inc();
        log.debug({ id: e.id, reason: decoded.reason }, 'undecodable entry skipped');
        continue;
      }
      const fix = decoded.fix;
      metrics.records.inc();
      metrics.recordAgeSeconds.observe(Math.max(0, t - fix.rxMs) / 1000);
      if (flags.isFaulty(fix.imei, fix.tsMs)) {
        fix.faulty = true;
        metrics.recordsFaulty.inc();
      }
      intents.push(...detector.ingest(fix));
    }
    await apply(intents);
    await stream.ack(entries.map((e) => e.id));
  }

  async function run(): Promise<void> {
    let nextRefresh = now() + options.refreshMs;
    let nextTick = now();
    let nextClaim = now() + options.claimIdleMs / 2;
    let failures = 0;
    while (!stopping) {
      try {
        if (now() >= nextRefresh) {
          await refresh();
          nextRefresh = now() + options.refreshMs;
          metrics.tracked.set(detector.tracked);
        }
        if (now() >= nextTick) {
          await apply(detector.tick(now()));
          nextTick = now() + options.tickMs;
        }
        if (now() >= nextClaim) {
          await processEntries(await stream.claim(options.claimIdleMs, options.readCount));
          nextClaim = now() + options.claimIdleMs / 2;
        }
        const block = Math.max(1, Math.min(options.readBlockMs, nextTick - now()));
        await processEntries(await stream.read(options.readCount, block));
        failures = 0;
      } catch (error) {
        // Redis or Postgres away: the batch was not acknowledged and comes back (claim)
        if (stopping || !isRetryable(error)) throw error;
        lastError = errorMessage(error);
        const delay = Math.min(options.retryMaxMs, options.retryBaseMs * 2 ** Math.min(failures++, 16));
        log.warn({ err: error, delayMs: delay }, 'safety loop step failed; retrying');
        await sleep(delay);
      }
    }
  }

  return {
    async start() {
      await stream.ensureGroup();
      await refresh();
      try {
        for (const fix of await loadLastHeard(pool, devices, now())) if (!flags.isFaulty(fix.imei, fix.tsMs)) detector.seedHeard(fix);
      } catch (error) {
        log.warn({ err: error }, 'could not load the last records; silence counts from the first one heard');
      }
      loop = run();
      loop.catch((error: unknown) => {
        lastError = errorMessage(error);
      });
    },
    done() {
      return loop ?? Promise.resolve();
    },
    async health() {
      const lag = await stream.lag().catch(() => ({ lag: null, pending: -1 }));
      const fresh = lastRefreshOkMs !== null && now() - lastRefreshOkMs < 3 * options.refreshMs + 5000;
      return { ok: !stopping && loop !== undefined && fresh && !writeFailing, group: 'safety', ...lag, entries: metrics.entries.get(), tracked: detector.tracked, flags: flags.size, lastRefreshAt: lastRefreshOkMs === null ? null : new Date(lastRefreshOkMs).toISOString(), writeFailing, lastError };
    },
    close() {
      closed ??= (async () => {
        stopping = true;
        stopDeadline = Date.now() + options.drainMs;
        await loop?.catch((error: unknown) => log.warn({ err: error }, 'safety loop ended with an error'));
      })();
      return closed;
    },
  };
}
