import { pino, type DestinationStream, type Logger } from 'pino';
import type { Config } from '../config/config.js';

/**
 * Paths pino replaces with "[redacted]". Secrets must never reach a log line, even when a whole config,
 * request or error object is logged by mistake. Wildcards match one level deep.
 */
export const REDACT_PATHS = [
  'authorization',
  'headers.authorization',
  'headers.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  '*.authorization',
  '*.headers.authorization',
  'secretKey',
  '*.secretKey',
  '*.*.secretKey',
  'webhookSecret',
  '*.webhookSecret',
  'tokenSecret',
  '*.tokenSecret',
  'apiKeys',
  '*.apiKeys',
  'key',
  '*.key',
  'secret',
  '*.secret',
  'token',
  '*.token',
  'clientToken',
  '*.clientToken',
  'password',
  '*.password',
];

export interface LoggerOptions {
  level: Config['logLevel'];
  /** Extra fields on every line, e.g. `{ instance: 'gw-1' }`. */
  base?: Record<string, unknown>;
}

/** The gateway's JSON logger: stdout unless a destination is given (tests collect lines). */
export function createLogger(options: LoggerOptions, destination?: DestinationStream): Logger {
  const pinoOptions = {
    level: options.level,
    base: { service: 'truemoney-graphql-gateway', ...options.base },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(pinoOptions, destination) : pino(pinoOptions);
}
