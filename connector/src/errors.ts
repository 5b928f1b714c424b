/** Connector error codes (docs/functions.md, "Error codes"). */
import { TrmError, type TrmErrorOptions } from '../../common/src/errors.ts';

export const CONNECTOR_ERRORS = {
  badStack: 'CONNECTOR_ERR_BAD_STACK',
  noGateway: 'CONNECTOR_ERR_NO_GATEWAY',
  network: 'CONNECTOR_ERR_NETWORK',
  timeout: 'CONNECTOR_ERR_TIMEOUT',
} as const;

export class ConnectorError extends TrmError {
  constructor(code: string, message: string, options: TrmErrorOptions = {}) {
    super(code, message, options);
    this.name = 'ConnectorError';
  }
}
