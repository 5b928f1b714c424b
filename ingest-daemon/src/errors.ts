/**
 * The ingest-daemon's error codes (docs/ingest.md lists them). Codec errors are PermanentError:
 * the bytes will not get better by decoding them again. Redis errors are wrapped with their
 * cause and keep the retryable verdict of common/isRetryable.
 */
import { PermanentError, TrmError, isRetryable } from '../../common/src/errors.ts';

export const IngestErrorCode = {
  /** packet CRC-16 does not match: no ACK, the device resends */
  BAD_CRC: 'INGEST_ERR_BAD_CRC',
  /** a declared frame length above the maximum (refused before allocating it) */
  FRAME_TOO_LARGE: 'INGEST_ERR_FRAME_TOO_LARGE',
  /** preamble not zero, data length too small, IMEI length absurd */
  BAD_FRAME: 'INGEST_ERR_BAD_FRAME',
  /** the record layout overruns the data field, N1 ≠ N2, trailing bytes */
  BAD_PACKET: 'INGEST_ERR_BAD_PACKET',
  /** codec id we do not decode (Codec 7, unknown ids) */
  UNSUPPORTED_CODEC: 'INGEST_ERR_UNSUPPORTED_CODEC',
  /** a decoded record breaks an invariant (coordinates, heading, time in the future) */
  BAD_RECORD: 'INGEST_ERR_BAD_RECORD',
  /** IMEI frame that is not 15 ASCII digits */
  BAD_IMEI: 'INGEST_ERR_BAD_IMEI',
  /** IMEI not in `devices` while INGEST_ACCEPT=known */
  UNKNOWN_DEVICE: 'INGEST_ERR_UNKNOWN_DEVICE',
  /** a data frame before the IMEI handshake, or a second IMEI */
  PROTOCOL: 'INGEST_ERR_PROTOCOL',
  /** XADD failed (Redis down, timeout): no ACK */
  XADD_FAILED: 'INGEST_ERR_XADD_FAILED',
  /** connection cap reached */
  TOO_MANY_CONNECTIONS: 'INGEST_ERR_TOO_MANY_CONNECTIONS',
  /** no byte within the idle timeout */
  IDLE_TIMEOUT: 'INGEST_ERR_IDLE_TIMEOUT',
  /** a started frame did not complete in time (slowloris) */
  SLOW_SENDER: 'INGEST_ERR_SLOW_SENDER',
  /** the device does not read what we write (ACKs pile up in the socket buffer) */
  SLOW_READER: 'INGEST_ERR_SLOW_READER',
  /** command for a device that has no socket on this instance */
  NOT_CONNECTED: 'INGEST_ERR_NOT_CONNECTED',
  /** device did not answer a Codec 12 command in time */
  COMMAND_TIMEOUT: 'INGEST_ERR_COMMAND_TIMEOUT',
  /** per-device command queue full */
  COMMAND_QUEUE_FULL: 'INGEST_ERR_COMMAND_QUEUE_FULL',
  /** the socket closed while a command was queued or outstanding */
  DISCONNECTED: 'INGEST_ERR_DISCONNECTED',
  /** command entry without id/imei/text, or text too long */
  BAD_COMMAND: 'INGEST_ERR_BAD_COMMAND',
  /** the devices table could not be read (the last known set is kept) */
  DEVICES_UNAVAILABLE: 'INGEST_ERR_DEVICES_UNAVAILABLE',
} as const;
export type IngestErrorCode = (typeof IngestErrorCode)[keyof typeof IngestErrorCode];

/** Bad bytes from a device: never retried by decoding again. */
export class CodecError extends PermanentError {
  constructor(code: IngestErrorCode, message: string, details?: Record<string, unknown>) {
    super(code, message, { details });
    this.name = 'CodecError';
  }
}

export function xaddFailed(cause: unknown, details?: Record<string, unknown>): TrmError {
  return new TrmError(IngestErrorCode.XADD_FAILED, 'XADD to the positions stream failed', { cause, retryable: isRetryable(cause), details });
}
