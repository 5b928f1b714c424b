/**
 * `recompute`: recomputes timing (stage times, waypoint passes, speed infringements) for an event, stage, entry or device over a time window.
 * Triggered by the connector (stack.yml `topic` annotation); the payload is the `RecomputeRequest` of
 * common/src/triggers.ts, validated here with the producers' own parser (400 FN_ERR_BAD_INPUT).
 *
 * The work itself arrives with issue #6: it replaces the 501 below with a call to its pure
 * core under functions/src/core/ (imported as `../src/core/…`, which resolves the same way in
 * the repository and in the image).
 */
import type { FunctionContext, FunctionEvent } from '../../template/node24-ts/runtime/types.ts';
import { parseRecomputeRequest } from '../../common/src/triggers.ts';

export const ISSUE = '#6';

export async function handle(event: FunctionEvent, context: FunctionContext): Promise<unknown> {
  const request = parseRecomputeRequest(event.body);
  return context.status(501).succeed({ code: 'FN_ERR_NOT_IMPLEMENTED', message: `recompute is not built yet: it arrives with issue ${ISSUE}`, issue: ISSUE, request });
}
