/**
 * A node24-ts function: parse and validate the input (400 with a coded error), do the work
 * (ideally a pure core), return the result. Inside the TRM repository this folder lives under
 * functions/ and the type import reads `../../template/node24-ts/runtime/types.ts`.
 */
import type { FunctionContext, FunctionEvent } from '../runtime/types.ts';

class BadInput extends Error {
  readonly code = 'FN_ERR_BAD_INPUT';
  readonly statusCode = 400;
}

export async function handle(event: FunctionEvent, context: FunctionContext): Promise<unknown> {
  const body = event.body as { name?: unknown } | undefined;
  if (body !== undefined && (typeof body !== 'object' || body === null)) throw new BadInput('body must be a JSON object');
  const name = body?.name ?? 'world';
  if (typeof name !== 'string') throw new BadInput('"name" must be a string');
  context.headers({ 'cache-control': 'no-store' });
  return { message: `hello, ${name}` };
}
