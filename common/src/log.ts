/** Structured logging (pino). Object first, message second; child loggers per scope. */
import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

const REDACT = [
  'token', 'password', 'secret', 'authorization', 'access_token', 'refresh_token',
  '*.token', '*.password', '*.secret', '*.authorization', '*.access_token', '*.refresh_token',
  'headers.authorization', 'req.headers.authorization', 'config.directusToken', 'config.directusSecret',
];

export interface LogOptions {
  level?: string;
  /** stream to write to; stdout by default */
  destination?: NodeJS.WritableStream;
}

export function createLogger(name: string, options: LogOptions = {}): Logger {
  const config: LoggerOptions = {
    name,
    level: options.level ?? 'info',
    redact: { paths: REDACT, censor: '[redacted]' },
    base: { svc: name },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return options.destination ? pino(config, options.destination as pino.DestinationStream) : pino(config);
}

/** A logger that drops everything, for tests that don't look at logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
