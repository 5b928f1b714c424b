/**
 * Live gateway errors (docs/live.md, "Error codes"). A client sees the wire code
 * (`{"type":"error","code":"FORBIDDEN"}`); logs and metrics see `GW_ERR_<wire code>`.
 */
import { TrmError, type TrmErrorOptions } from '../../common/src/errors.ts';

export const WIRE_CODES = ['UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'BAD_REQUEST', 'TOKEN_EXPIRED', 'UNAVAILABLE'] as const;
export type WireCode = (typeof WIRE_CODES)[number];

export class GatewayError extends TrmError {
  readonly wire: WireCode;
  constructor(wire: WireCode, message: string, options: TrmErrorOptions = {}) {
    // only UNAVAILABLE (Directus or Postgres down) may succeed when tried again
    super(`GW_ERR_${wire}`, message, { retryable: wire === 'UNAVAILABLE', ...options });
    this.name = 'GatewayError';
    this.wire = wire;
  }
}

export function gwError(wire: WireCode, message: string, options: TrmErrorOptions = {}): GatewayError {
  return new GatewayError(wire, message, options);
}

/** WebSocket close codes the gateway uses (4000-4999 are the application's, RFC 6455 §7.4.2). */
export const CLOSE = {
  /** the server is shutting down */
  GOING_AWAY: 1001,
  /** the client sent something that is not the protocol (oversize, binary) */
  POLICY: 1008,
  /** the client could not keep up: its coalescing queue or socket buffer overflowed */
  SLOW_CLIENT: 4008,
} as const;
