/**
 * node:http glue shared by the container server (index.ts) and the local functions gateway:
 * read a bounded request body, write a FunctionResponse, parse size settings.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CodedError, RUNTIME_ERRORS, type FunctionResponse } from './invoke.ts';

/** Default body limit: 1 MiB, the OpenFaaS async queue's (NATS) own payload limit. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** `100kb`, `1mb`, `512` (bytes); what MAX_JSON_SIZE / MAX_RAW_SIZE hold in the official templates. */
export function parseSize(text: string | undefined, fallback: number): number {
  if (text === undefined || text.trim() === '') return fallback;
  const match = /^(\d+)\s*(b|kb|mb|gb)?$/i.exec(text.trim());
  if (!match) throw new Error(`not a size: "${text}" (use e.g. 512kb or 1mb)`);
  const unit = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[(match[2] ?? 'b').toLowerCase() as 'b'];
  return Number(match[1]) * unit;
}

/** The request body, refused with a coded 413 past `maxBytes` (memory stays bounded). */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      req.resume();
      reject(new CodedError(RUNTIME_ERRORS.tooLarge, `request body of ${declared} bytes exceeds ${maxBytes}`, 413));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.removeAllListeners('data');
        req.resume();
        reject(new CodedError(RUNTIME_ERRORS.tooLarge, `request body exceeds ${maxBytes} bytes`, 413));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function writeResponse(res: ServerResponse, response: FunctionResponse, extraHeaders: Record<string, string> = {}): void {
  res.writeHead(response.status, { ...response.headers, ...extraHeaders, 'content-length': String(response.body.length) });
  res.end(response.body);
}

export function writeJson(res: ServerResponse, status: number, body: unknown, extraHeaders: Record<string, string> = {}): void {
  writeResponse(res, { status, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(body)) }, extraHeaders);
}

/** An error from readBody as a response. */
export function bodyErrorResponse(error: unknown): FunctionResponse {
  const e = error as { statusCode?: number; code?: string; message?: string };
  const status = e.statusCode ?? 400;
  return { status, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify({ code: e.code ?? 'FN_ERR_BAD_REQUEST', message: e.message ?? String(error) })) };
}
