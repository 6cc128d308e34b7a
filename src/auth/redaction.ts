import type { LoggerOptions } from 'pino';
import { pino } from 'pino';

export const REDACTED = '[redacted]';

/**
 * Paths pino replaces with {@link REDACTED} (its `redact` option): fields that hold credentials or
 * secrets, wherever a whole request, config or connection object is logged. `*` matches one level.
 */
export const PINO_REDACT_PATHS: readonly string[] = [
  'authorization',
  'Authorization',
  'headers.authorization',
  'headers.cookie',
  'headers["set-cookie"]',
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.authorization',
  '*.Authorization',
  '*.headers.authorization',
  '*.headers.cookie',
  'connectionParams',
  '*.connectionParams',
  'secretKey',
  '*.secretKey',
  '*.*.secretKey',
  'webhookSecret',
  '*.webhookSecret',
  'tokenSecret',
  '*.tokenSecret',
  'apiKeys',
  '*.apiKeys',
  'redisUrl',
  '*.redisUrl',
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

/** Secret values shorter than this are not searched for: they would mask ordinary words. */
export const MIN_SECRET_LENGTH = 8;

const PATTERNS: ReadonlyArray<[RegExp, string]> = [
  // Omise secret and public keys: keep the kind, drop the key.
  [/\b(skey|pkey)_(test_)?[0-9a-z]+/gi, `$1_$2${REDACTED}`],
  // Gateway client tokens, before the JWT rule so that the prefix stays readable.
  [/\bctok_[A-Za-z0-9._-]+/g, `ctok_${REDACTED}`],
  [/\bBearer\s+[^\s"',;]+/gi, `Bearer ${REDACTED}`],
  // Omise's own auth: Basic base64(skey:).
  [/\bBasic\s+[A-Za-z0-9+/=]{8,}/gi, `Basic ${REDACTED}`],
  // Any JWT/JWS.
  [/\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g, REDACTED],
  // user:password@ in URLs (REDIS_URL...).
  [/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi, `$1${REDACTED}@`],
];

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A function masking, in free text, Omise keys (`skey_…`, `pkey_…`), bearer and basic credentials,
 * client tokens (`ctok_…`), JWTs, URL passwords, and each of the given secret values (webhook secret,
 * token secret...). For messages of errors and anything else that is not a known field.
 */
export function createSecretRedactor(
  secrets: readonly (string | undefined)[] = [],
): (text: string) => string {
  const literal = secrets.filter((s): s is string => typeof s === 'string' && s.length >= MIN_SECRET_LENGTH);
  // Longest first, so that a secret containing another is masked whole.
  literal.sort((a, b) => b.length - a.length);
  const literalPattern =
    literal.length > 0 ? new RegExp(literal.map(escapeRegExp).join('|'), 'g') : undefined;
  return (text) => {
    let out = literalPattern === undefined ? text : text.replace(literalPattern, REDACTED);
    for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
    return out;
  };
}

/** One-off form of {@link createSecretRedactor}. */
export function redactSecrets(text: string, secrets: readonly (string | undefined)[] = []): string {
  return createSecretRedactor(secrets)(text);
}

const MAX_WALK_DEPTH = 6;

function redactDeep(value: unknown, redact: (text: string) => string, depth: number): unknown {
  if (typeof value === 'string') return redact(value);
  if (depth >= MAX_WALK_DEPTH || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, redact, depth + 1));
  // Only plain objects are copied; errors go through the serializers below, other objects are left alone.
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value;
  const copy: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) copy[k] = redactDeep(v, redact, depth + 1);
  return copy;
}

/**
 * pino options that keep secrets out of every line: {@link PINO_REDACT_PATHS} for known fields, and
 * {@link createSecretRedactor} over the message, the string values of the logged object, and the message
 * and stack of errors logged as `err` or `error`. Spread into `pino({...})`.
 */
export function redactingLoggerOptions(
  secrets: readonly (string | undefined)[] = [],
): Pick<LoggerOptions, 'redact' | 'hooks' | 'formatters' | 'serializers'> {
  const redact = createSecretRedactor(secrets);
  const errorSerializer = (error: unknown): unknown => {
    if (!(error instanceof Error)) return redactDeep(error, redact, 0);
    // The serialized error is not a plain object: copy its own fields (type, message, stack, cause...).
    const copy: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(pino.stdSerializers.err(error))) copy[k] = redactDeep(v, redact, 1);
    return copy;
  };
  return {
    redact: { paths: [...PINO_REDACT_PATHS], censor: REDACTED },
    hooks: {
      logMethod(args, method) {
        const cleaned = args.map((arg) => (typeof arg === 'string' ? redact(arg) : arg));
        method.apply(this, cleaned as Parameters<typeof method>);
      },
    },
    formatters: {
      log: (object) => redactDeep(object, redact, 0) as Record<string, unknown>,
    },
    serializers: { err: errorSerializer, error: errorSerializer },
  };
}
