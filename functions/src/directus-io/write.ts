/**
 * Writes a diff (diff.ts) through Directus: deletes first (a natural key freed by a delete can be
 * taken by a create), then updates of the differing fields, then creates; each a batch request.
 * A diff with nothing to do sends nothing, so Directus pushes nothing over its WebSocket.
 */
import type { Diff } from './diff.ts';
import type { DirectusApi } from './directus-api.ts';

export interface WriteCounts {
  created: number;
  updated: number;
  deleted: number;
  unchanged: number;
}

export const zeroWriteCounts = (): WriteCounts => ({ created: 0, updated: 0, deleted: 0, unchanged: 0 });

export async function writeDiff<T extends object>(api: DirectusApi, collection: string, diff: Diff<T>): Promise<WriteCounts> {
  if (diff.delete.length) await api.deleteMany(collection, diff.delete);
  if (diff.update.length) await api.updateMany(collection, diff.update);
  if (diff.create.length) await api.createMany(collection, diff.create as unknown as Record<string, unknown>[]);
  return { created: diff.create.length, updated: diff.update.length, deleted: diff.delete.length, unchanged: diff.unchanged };
}

/**
 * The same for a computed result collection (stage_times, waypoint_passes, speed_infringements):
 * the whole diff through the bulk endpoint (DirectusApi.writeResults), which keeps that order
 * inside its transaction.
 */
export async function writeResultDiff<T extends object>(api: DirectusApi, collection: string, diff: Diff<T>): Promise<WriteCounts> {
  if (diff.delete.length || diff.update.length || diff.create.length) {
    await api.writeResults(collection, { delete: diff.delete as number[], update: diff.update as ({ id: number } & Record<string, unknown>)[], create: diff.create as unknown as Record<string, unknown>[] });
  }
  return { created: diff.create.length, updated: diff.update.length, deleted: diff.delete.length, unchanged: diff.unchanged };
}

/** Sum of the changed rows (created + updated + deleted). */
export const changedCount = (c: WriteCounts): number => c.created + c.updated + c.deleted;
