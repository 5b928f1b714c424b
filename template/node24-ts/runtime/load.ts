/** Loads a handler folder's `handler.ts` (Node 24 strips its types; no build step). */
import { access } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { resolveHandler } from './invoke.ts';
import type { Handler, HandlerModule } from './types.ts';

export const HANDLER_FILES = ['handler.ts', 'handler.js', 'index.ts', 'index.js'];

export async function loadHandler(folder: string): Promise<Handler> {
  for (const file of HANDLER_FILES) {
    const path = resolve(join(folder, file));
    try {
      await access(path);
    } catch {
      continue;
    }
    return resolveHandler((await import(pathToFileURL(path).href)) as HandlerModule);
  }
  throw Object.assign(new Error(`no ${HANDLER_FILES.join(' / ')} in ${folder}`), { code: 'FN_ERR_NO_HANDLER' });
}
