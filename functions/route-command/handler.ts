/**
 * `route-command`: routes a queued Directus \`commands\` row to the ingest instance holding the device socket (\`commands:{instance}\`).
 * Triggered by the connector (stack.yml `topic` annotation); the payload is the `DeviceCommandRequest` of
 * common/src/triggers.ts, validated here with the producers' own parser (400 FN_ERR_BAD_INPUT).
 *
 * The work itself arrives with issue #10: it replaces the 501 below with a call to its pure
 * core under functions/src/core/ (imported as `../src/core/…`, which resolves the same way in
 * the repository and in the image).
 */
import type { FunctionContext, FunctionEvent } from '../../template/node24-ts/runtime/types.ts';
import { parseDeviceCommandRequest } from '../../common/src/triggers.ts';

export const ISSUE = '#10';

export async function handle(event: FunctionEvent, context: FunctionContext): Promise<unknown> {
  const request = parseDeviceCommandRequest(event.body);
  return context.status(501).succeed({ code: 'FN_ERR_NOT_IMPLEMENTED', message: `route-command is not built yet: it arrives with issue ${ISSUE}`, issue: ISSUE, request });
}
