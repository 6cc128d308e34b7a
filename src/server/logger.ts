import { pino, type DestinationStream, type Logger } from 'pino';
import { redactingLoggerOptions } from '../auth/redaction.js';
import type { Config } from '../config/config.js';

export interface LoggerOptions {
  level: Config['logLevel'];
  /** Extra fields on every line, e.g. `{ instance: 'gw-1' }`. */
  base?: Record<string, unknown>;
  /**
   * Secret values masked wherever they appear in a line (webhook secret, token secret, Omise secret
   * key). Known secret fields, Omise keys, bearer credentials and client tokens are masked regardless.
   */
  secrets?: readonly (string | undefined)[];
}

/**
 * The gateway's JSON logger: stdout unless a destination is given (tests collect lines). Secrets never
 * reach a line (src/auth/redaction.ts: pino `redact` paths plus a text redactor), even when a whole
 * config, request or error object is logged by mistake.
 */
export function createLogger(options: LoggerOptions, destination?: DestinationStream): Logger {
  const pinoOptions = {
    level: options.level,
    base: { service: 'truemoney-graphql-gateway', ...options.base },
    ...redactingLoggerOptions(options.secrets ?? []),
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(pinoOptions, destination) : pino(pinoOptions);
}

/** The secret values of a config, for {@link LoggerOptions.secrets}. */
export function configSecrets(
  config: Pick<Config, 'webhookSecret' | 'tokenSecret' | 'omise'> &
    Partial<Pick<Config, 'metricsToken' | 'database'>>,
): string[] {
  return [
    config.webhookSecret,
    config.tokenSecret,
    config.omise.secretKey,
    config.metricsToken,
    ...databaseUrlSecrets(config.database?.url),
  ].filter((s): s is string => s !== undefined && s !== '');
}

/** The connection string and its password (also as written, percent-encoded), never to be logged. */
function databaseUrlSecrets(url: string | undefined): string[] {
  if (url === undefined) return [];
  try {
    const password = new URL(url).password;
    return password === '' ? [url] : [url, password, decodeURIComponent(password)];
  } catch {
    return [url];
  }
}
