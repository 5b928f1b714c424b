/**
 * Stable codes of the device-command path (docs/commands.md, "Error codes"). The Directus hook
 * answers with them (and the HTTP status below); route-command and the status consumer write
 * them into a command's `error`. Ingest's own codes (`INGEST_ERR_*`) pass through unchanged.
 */
import { PermanentError } from '../../../common/src/errors.ts';

export const CommandErrorCode = {
  /** payload shape: no device, no template, args not an object, ttl_s out of range */
  BAD_INPUT: 'COMMAND_ERR_BAD_INPUT',
  /** the user may not command this device (other organisation, no such device, no create permission) */
  FORBIDDEN: 'COMMAND_ERR_FORBIDDEN',
  /** no active template with this key in the device's organisation */
  UNKNOWN_TEMPLATE: 'COMMAND_ERR_UNKNOWN_TEMPLATE',
  /** unknown, missing or unsafe argument */
  BAD_ARGS: 'COMMAND_ERR_BAD_ARGS',
  /** a template's own text or key is not acceptable (command_templates create/update) */
  BAD_TEMPLATE: 'COMMAND_ERR_BAD_TEMPLATE',
  /** too many commands for this device in the current window */
  RATE_LIMITED: 'COMMAND_ERR_RATE_LIMITED',
  /** only the service account moves a command through its lifecycle */
  READ_ONLY: 'COMMAND_ERR_READ_ONLY',
  /** Redis (rate limit, queue) unreachable: refused rather than sent unchecked */
  UNAVAILABLE: 'COMMAND_ERR_UNAVAILABLE',
  /** the TTL ran out before the device answered (also the `expired` status itself) */
  EXPIRED: 'COMMAND_ERR_EXPIRED',
  /** route-command: no command row with this id */
  NOT_FOUND: 'COMMAND_ERR_NOT_FOUND',
  /** route-command: Directus refused or failed (retryable when 5xx / network) */
  DIRECTUS: 'COMMAND_ERR_DIRECTUS',
} as const;

export type CommandErrorCode = (typeof CommandErrorCode)[keyof typeof CommandErrorCode];

/** HTTP status the Directus hook answers each refusal with. */
export const HTTP_STATUS: Record<string, number> = {
  [CommandErrorCode.BAD_INPUT]: 400,
  [CommandErrorCode.FORBIDDEN]: 403,
  [CommandErrorCode.UNKNOWN_TEMPLATE]: 400,
  [CommandErrorCode.BAD_ARGS]: 400,
  [CommandErrorCode.BAD_TEMPLATE]: 400,
  [CommandErrorCode.RATE_LIMITED]: 429,
  [CommandErrorCode.READ_ONLY]: 403,
  [CommandErrorCode.UNAVAILABLE]: 503,
};

/** A refusal of a command (bad input or not allowed): never retried. */
export class CommandError extends PermanentError {
  constructor(code: CommandErrorCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details ? { details } : {});
    this.name = 'CommandError';
  }
}
