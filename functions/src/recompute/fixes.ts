/**
 * Reads one device's valid fixes over a time span from `positions` (ARCHITECTURE.md: every
 * timing read filters `faulty = false`; `fix = false` records are no position at all). The
 * rows come through `COPY (SELECT …) TO STDOUT (FORMAT binary)` (fix-binary.ts says why binary)
 * and are kept as raw bytes (`readFixBytes`) so they can be handed to a compute worker without a
 * copy (compute-pool.ts); `parseFixCopyBinary` turns them into fixes there.
 * COPY takes no parameters, so the IMEI is checked against a strict pattern and the instants are
 * formatted here.
 */
import { finished } from 'node:stream/promises';
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import type { Fix } from '../core/timing/index.ts';
import { RECOMPUTE_ERR, RecomputeError } from './errors.ts';
import { parseFixCopyBinary } from './fix-binary.ts';
import { sqlInstant, type Span } from './span.ts';

const IMEI = /^[0-9A-Za-z_-]{1,20}$/;

export function fixesSql(imei: string, span: Span): string {
  if (!IMEI.test(imei)) throw new RecomputeError(RECOMPUTE_ERR.FIXES, `device id "${imei}" is not an IMEI`);
  return `COPY (SELECT ts, lat, lon, speed::text FROM positions WHERE imei = '${imei}' AND ts BETWEEN '${sqlInstant(span.fromMs)}' AND '${sqlInstant(span.toMs)}' AND faulty = false AND fix = true ORDER BY ts) TO STDOUT (FORMAT binary)`;
}

/**
 * The binary COPY of one device's fixes over the span, as one Uint8Array that owns its
 * ArrayBuffer (transferable to a worker).
 */
export async function readFixBytes(pool: pg.Pool, imei: string, span: Span): Promise<Uint8Array> {
  const sql = fixesSql(imei, span);
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    const chunks: Buffer[] = [];
    let size = 0;
    const stream = client.query(copyTo(sql));
    stream.on('data', (c: Buffer) => {
      chunks.push(c);
      size += c.length;
    });
    await finished(stream);
    const out = new Uint8Array(size);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  } catch (cause) {
    broken = cause as Error;
    throw new RecomputeError(RECOMPUTE_ERR.FIXES, `reading fixes of ${imei}: ${(cause as Error).message}`, { cause, retryable: true });
  } finally {
    client.release(broken);
  }
}

export { parseFixCopyBinary } from './fix-binary.ts';
export { parseFixBytes, parseFixes } from './fix-text.ts';

export async function readFixes(pool: pg.Pool, imei: string, span: Span): Promise<Fix[]> {
  return parseFixCopyBinary(await readFixBytes(pool, imei, span));
}
