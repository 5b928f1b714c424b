/**
 * Test fixture function for the connector and gateway tests: answers whatever status the
 * payload asks for in `answer` (200 by default; 4xx/5xx as coded errors), echoing the payload.
 */
import type { FunctionContext, FunctionEvent } from '../../../template/node24-ts/runtime/types.ts';

export async function handle(event: FunctionEvent, context: FunctionContext): Promise<unknown> {
  const body = (event.body ?? {}) as Record<string, unknown>;
  const answer = Number(body.answer ?? 200);
  if (answer >= 400) throw Object.assign(new Error(`asked to answer ${answer}`), { code: `FIXTURE_${answer}`, statusCode: answer, details: { got: body } });
  return context.status(answer).succeed({ ok: true, got: body, topic: event.headers['x-topic'] ?? null });
}
