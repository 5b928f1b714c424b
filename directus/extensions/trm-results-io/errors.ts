// Codes of the bulk result write endpoint (docs/recompute.md, "Bulk result writes"). Directus
// formats them as its own errors: `{ errors: [{ message, extensions: { code, reason } }] }` with
// the status below. A unique violation keeps Directus's own RECORD_NOT_UNIQUE (the functions'
// client retries it), other database errors Directus's translation (NOT_NULL_VIOLATION, …).
export const BULK_ERR = {
  /** 403: the caller is neither an admin nor granted unrestricted create/update/delete on the collection */
  FORBIDDEN: 'BULK_ERR_FORBIDDEN',
  /** 404: the collection is not one the endpoint writes (stage_times, waypoint_passes, speed_infringements) */
  COLLECTION: 'BULK_ERR_COLLECTION',
  /** 400: the body does not parse: unknown or read-only field, wrong type, missing required field, duplicate id */
  BAD_INPUT: 'BULK_ERR_BAD_INPUT',
  /** 413: more rows in one request than the endpoint takes (MAX_BATCH_MUTATION) */
  TOO_MANY_ROWS: 'BULK_ERR_TOO_MANY_ROWS',
  /** 404: an updated or deleted id does not exist (nothing of the request is written) */
  NOT_FOUND: 'BULK_ERR_NOT_FOUND',
} as const;

export const BULK_STATUS: Record<string, number> = {
  [BULK_ERR.FORBIDDEN]: 403,
  [BULK_ERR.COLLECTION]: 404,
  [BULK_ERR.BAD_INPUT]: 400,
  [BULK_ERR.TOO_MANY_ROWS]: 413,
  [BULK_ERR.NOT_FOUND]: 404,
};

/** A refusal of the pure parts (bulk.ts); index.ts turns it into a Directus error. */
export class BulkError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'BulkError';
    this.code = code;
  }
}
