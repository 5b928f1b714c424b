/**
 * Routes from stack.yml: each function's `topic` annotation (comma-separated
 * `stream:<key>` / `queue:<name>`) names what triggers it; `coalesce: window` asks for the
 * recompute-window coalescing of coalesce.ts on a stream topic.
 */
import { execTimeoutMs, type Stack } from '../../functions/gateway/stack.ts';
import { formatTopic, parseTopic, type Topic } from '../../common/src/triggers.ts';
import { ConnectorError } from './errors.ts';

export interface RouteFunction {
  name: string;
  /** HTTP timeout of one call: the function's exec_timeout plus a margin for the gateway */
  timeoutMs: number;
}

export interface Route {
  topic: Topic;
  functions: RouteFunction[];
  coalesce: boolean;
}

export const COALESCE_VALUES = ['window', 'none'] as const;
const MARGIN_MS = 5_000;
const NO_TIMEOUT_MS = 10 * 60_000;

export function routesFromStack(stack: Stack, only?: string[]): Route[] {
  const byTopic = new Map<string, Route>();
  for (const fn of stack.functions) {
    if (only && !only.includes(fn.name)) continue;
    const annotation = fn.annotations.topic;
    if (!annotation) continue;
    const coalesce = fn.annotations.coalesce ?? 'none';
    if (!(COALESCE_VALUES as readonly string[]).includes(coalesce)) throw new ConnectorError('CONNECTOR_ERR_BAD_STACK', `function ${fn.name}: coalesce must be one of ${COALESCE_VALUES.join(', ')}`);
    const exec = execTimeoutMs(fn);
    for (const text of annotation.split(',').map((t) => t.trim()).filter(Boolean)) {
      let topic: Topic;
      try {
        topic = parseTopic(text);
      } catch (cause) {
        throw new ConnectorError('CONNECTOR_ERR_BAD_STACK', `function ${fn.name}: ${(cause as Error).message}`, { cause });
      }
      if (coalesce === 'window' && topic.kind !== 'stream') throw new ConnectorError('CONNECTOR_ERR_BAD_STACK', `function ${fn.name}: coalesce applies to stream topics only`);
      const key = formatTopic(topic);
      const route = byTopic.get(key) ?? { topic, functions: [], coalesce: false };
      route.functions.push({ name: fn.name, timeoutMs: exec === 0 ? NO_TIMEOUT_MS : exec + MARGIN_MS });
      route.coalesce ||= coalesce === 'window';
      byTopic.set(key, route);
    }
  }
  return [...byTopic.values()];
}
