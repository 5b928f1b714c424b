/**
 * Delivers one trigger (a stream entry, a coalesced group of entries, or a BullMQ job) to every
 * function its topic routes to, and says what the source must do next: acknowledge (every
 * function answered 2xx or was dead-lettered) or leave it for redelivery (abandoned).
 */
import type { Logger } from 'pino';
import type { Counter, Gauge, Histogram, Registry } from '../../common/src/metrics.ts';
import { formatTopic } from '../../common/src/triggers.ts';
import { invokeWithRetry, type RetryPolicy } from './invoker.ts';
import type { Route } from './routes.ts';

export interface ConnectorMetrics {
  calls: Counter;
  attempts: Counter;
  retries: Counter;
  deadLetters: Counter;
  coalesced: Counter;
  claimed: Counter;
  inFlight: Gauge;
  duration: Histogram;
}

export function connectorMetrics(registry: Registry): ConnectorMetrics {
  return {
    calls: registry.counter('calls_total', 'triggers delivered, by function and outcome (ok, dead, abandoned)'),
    attempts: registry.counter('attempts_total', 'HTTP calls made to the gateway, by function and status'),
    retries: registry.counter('retries_total', 'calls retried after a 5xx, 408, 429, timeout or network error, by function'),
    deadLetters: registry.counter('dead_letters_total', 'dead-letter records written, by function'),
    coalesced: registry.counter('coalesced_total', 'stream entries folded into another call by window coalescing, by topic'),
    claimed: registry.counter('claimed_total', 'stale pending stream entries claimed from another consumer, by topic'),
    inFlight: registry.gauge('in_flight', 'triggers being delivered now, by topic'),
    duration: registry.histogram('call_duration_seconds', 'duration of one gateway call attempt', [0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60]),
  };
}

export interface DeadLetter {
  topic: string;
  function: string;
  /** the stream entry ids (comma-separated) or `job:<id>` */
  source: string;
  payload: string;
  status: string;
  code: string;
  error: string;
  attempts: number;
}

/** Field list for XADD of a dead-letter record. */
export function deadLetterFields(d: DeadLetter, at: Date): string[] {
  return ['topic', d.topic, 'function', d.function, 'source', d.source, 'payload', d.payload, 'status', d.status, 'code', d.code, 'error', d.error.slice(0, 4000), 'attempts', String(d.attempts), 'at', at.toISOString()];
}

export interface DeliveryContext {
  gatewayUrl: string;
  retry: RetryPolicy;
  signal: AbortSignal;
  log: Logger;
  metrics: ConnectorMetrics;
}

export interface Delivery {
  abandoned: boolean;
  dead: DeadLetter[];
}

export async function deliver(route: Route, payload: unknown, source: string, headers: Record<string, string>, ctx: DeliveryContext): Promise<Delivery> {
  const topic = formatTopic(route.topic);
  const body = JSON.stringify(payload);
  const results = await Promise.all(
    route.functions.map(async (fn) => {
      const result = await invokeWithRetry(
        { gatewayUrl: ctx.gatewayUrl, fn: fn.name, body, timeoutMs: fn.timeoutMs, headers: { 'x-topic': topic, 'x-connector': 'trm-connector', 'x-trm-source': source, ...headers } },
        ctx.retry,
        ctx.signal,
        (a) => {
          ctx.metrics.attempts.inc(1, { function: fn.name, status: a.status ?? a.code ?? 'error' });
          ctx.metrics.duration.observe(a.durationMs / 1000);
          if (a.willRetry) {
            ctx.metrics.retries.inc(1, { function: fn.name });
            ctx.log.warn({ fn: fn.name, source, attempt: a.attempt, status: a.status, code: a.code, delayMs: a.delayMs }, 'call failed, retrying');
          }
        },
      );
      ctx.metrics.calls.inc(1, { function: fn.name, outcome: result.outcome });
      return { fn: fn.name, result };
    }),
  );
  const abandoned = results.some((r) => r.result.outcome === 'abandoned');
  const dead = results
    .filter((r) => r.result.outcome === 'dead')
    .map(({ fn, result }): DeadLetter => ({ topic, function: fn, source, payload: body, status: result.status === undefined ? '' : String(result.status), code: result.code ?? '', error: result.error ?? '', attempts: result.attempts }));
  for (const d of dead) ctx.log.error({ fn: d.function, source, status: d.status, code: d.code, attempts: d.attempts }, 'dead-lettered');
  return { abandoned, dead };
}
