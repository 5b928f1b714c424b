/**
 * `evaluate-penalties`: evaluates the penalty rules (speed limit zones, missed waypoints, late starts) for an event, stage or entry.
 * Triggered by the connector (stack.yml `topic` annotation); the payload is the `PenaltyEvaluationRequest` of
 * common/src/triggers.ts, validated here with the producers' own parser (400 FN_ERR_BAD_INPUT).
 *
 * The work itself arrives with issue #7: it replaces the 501 below with a call to its pure
 * core under functions/src/core/ (imported as `../src/core/…`, which resolves the same way in
 * the repository and in the image).
 */
import type { FunctionContext, FunctionEvent } from '../../template/node24-ts/runtime/types.ts';
import { parsePenaltyEvaluationRequest } from '../../common/src/triggers.ts';

export const ISSUE = '#7';

export async function handle(event: FunctionEvent, context: FunctionContext): Promise<unknown> {
  const request = parsePenaltyEvaluationRequest(event.body);
  return context.status(501).succeed({ code: 'FN_ERR_NOT_IMPLEMENTED', message: `evaluate-penalties is not built yet: it arrives with issue ${ISSUE}`, issue: ISSUE, request });
}
