import proxyaddr from 'proxy-addr';
import { z } from 'zod';

/** Scopes a service API key may carry (docs/configuration.md). */
export const API_KEY_SCOPES = [
  'charges:create',
  'charges:read',
  'charges:refund',
  'charges:void',
  'test:simulate',
] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

export interface ApiKeyConfig {
  name: string;
  key: string;
  scopes: ApiKeyScope[];
}

/** Where the gateway's Omise calls go. */
export type OmiseMode =
  /** No keys configured: an embedded simulator is started and used. */
  | 'simulator'
  /** Omise test keys (`skey_test_…`) against Omise or any compatible server. */
  | 'test'
  /** Live keys: real money. */
  | 'live';

/** pino levels accepted in LOG_LEVEL. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  port: number;
  host: string | undefined;
  production: boolean;
  logLevel: LogLevel;
  omise: {
    mode: OmiseMode;
    /** Unset in simulator mode until the simulator has started and handed out its keys. */
    secretKey: string | undefined;
    publicKey: string | undefined;
    apiUrl: string;
    apiVersion: string;
    timeoutMs: number;
    /** Attempts for a safe-to-retry call, the first one included. */
    maxAttempts: number;
  };
  /** base64; set → webhook signatures are required. */
  webhookSecret: string | undefined;
  redisUrl: string | undefined;
  /** Prefix of every Redis key and channel (REDIS_KEY_PREFIX): instances sharing state use the same. */
  redisKeyPrefix: string | undefined;
  apiKeys: ApiKeyConfig[];
  /** Unset → generated per process (test and simulator modes only). */
  tokenSecret: string | undefined;
  simulatorPort: number;
  rateLimitPerMinute: number;
  /**
   * Budget of client tokens (RATE_LIMIT_CLIENT_PER_MINUTE), counted per client IP rather than per token:
   * anyone can open checkouts and get more tokens, but not more addresses so easily.
   */
  rateLimitClientPerMinute: number;
  /** Bearer token `GET /metrics` wants (METRICS_TOKEN); unset → see docs/operations.md. */
  metricsToken: string | undefined;
  /**
   * Peers whose `X-Forwarded-For` is believed (TRUSTED_PROXIES): IPs, CIDRs, or proxy-addr's names
   * `loopback`, `linklocal`, `uniquelocal`. Empty → the client IP is the socket address.
   */
  trustedProxies: string[];
  /** Seconds between reconciliation polls of a pending charge that has subscribers. */
  reconcileIntervalSeconds: number;
  /** Most charges one instance keeps in its charge cache (LRU). */
  chargeCacheSize: number;
  /** How long a PENDING charge is served from the cache (a lost webhook costs at most this). */
  chargeCachePendingTtlMs: number;
  idempotencyTtlSeconds: number;
  /**
   * SIGTERM/SIGINT: how long in-flight requests and webhooks may take to finish before their
   * connections are cut; the process exits at the latest a few seconds after.
   */
  shutdownGraceSeconds: number;
  /** PostgreSQL: the durable idempotency records and the ledger of money-moving calls. */
  database: {
    /** DATABASE_URL; unset → in memory (test and simulator modes only). Never logged. */
    url: string | undefined;
    /** DATABASE_POOL_SIZE: connections per instance; each running idempotent money call holds one. */
    poolSize: number;
    /** DATABASE_STATEMENT_TIMEOUT_MS: the server cancels a statement running longer. */
    statementTimeoutMs: number;
  };
  corsOrigins: string[];
  introspection: boolean;
  /** The reference checkout page at /demo and the index at / (DEMO_ENABLED; default on except in production). */
  demoPage: boolean;
}

/** Default of RATE_LIMIT_CLIENT_PER_MINUTE: a checkout page reads its charge a few times a minute. */
export const DEFAULT_CLIENT_RATE_LIMIT_PER_MINUTE = 120;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const nonNegativeInt = z.coerce.number().int().min(0);
const emptyToUndefined = (v: unknown) => (v === '' ? undefined : v);
const optionalString = z.preprocess(emptyToUndefined, z.string().optional());
const booleanFlag = z.preprocess(
  emptyToUndefined,
  z
    .enum(['true', 'false', '1', '0'])
    .optional()
    .transform((v) => (v === undefined ? undefined : v === 'true' || v === '1')),
);
const base64 = z.preprocess(
  emptyToUndefined,
  z
    .string()
    .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be base64')
    .optional(),
);

const apiKeysSchema = z.array(
  z.object({
    name: z.string().min(1),
    key: z.string().min(16, 'a key must be at least 16 characters'),
    scopes: z.array(z.enum(API_KEY_SCOPES)).min(1),
  }),
);

const envSchema = z.object({
  PORT: port.default(4000),
  HOST: optionalString,
  NODE_ENV: optionalString,
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  OMISE_SECRET_KEY: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^skey_(test_)?[0-9a-z]+$/, 'must look like skey_test_… or skey_…')
      .optional(),
  ),
  OMISE_PUBLIC_KEY: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^pkey_(test_)?[0-9a-z]+$/, 'must look like pkey_test_… or pkey_…')
      .optional(),
  ),
  OMISE_API_URL: z.preprocess(emptyToUndefined, z.url({ protocol: /^https?$/ }).optional()),
  OMISE_API_VERSION: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date like 2019-05-29')
    .default('2019-05-29'),
  OMISE_TIMEOUT_MS: positiveInt.default(10_000),
  OMISE_MAX_ATTEMPTS: positiveInt.max(10).default(3),
  OMISE_WEBHOOK_SECRET: base64,
  REDIS_URL: z.preprocess(emptyToUndefined, z.url({ protocol: /^rediss?$/ }).optional()),
  REDIS_KEY_PREFIX: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^[A-Za-z0-9:._-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 : . _ -')
      .optional(),
  ),
  GATEWAY_API_KEYS: optionalString,
  GATEWAY_TOKEN_SECRET: z.preprocess(
    emptyToUndefined,
    z.string().min(32, 'must be at least 32 characters').optional(),
  ),
  SIMULATOR_PORT: port.default(4010),
  RATE_LIMIT_PER_MINUTE: nonNegativeInt.default(600),
  RATE_LIMIT_CLIENT_PER_MINUTE: positiveInt.default(DEFAULT_CLIENT_RATE_LIMIT_PER_MINUTE),
  METRICS_TOKEN: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .min(16, 'must be at least 16 characters')
      .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')
      .optional(),
  ),
  TRUSTED_PROXIES: optionalString,
  RECONCILE_INTERVAL_SECONDS: positiveInt.default(15),
  CHARGE_CACHE_SIZE: positiveInt.default(10_000),
  CHARGE_CACHE_PENDING_TTL_MS: nonNegativeInt.default(1_000),
  IDEMPOTENCY_TTL_SECONDS: positiveInt.default(24 * 60 * 60),
  SHUTDOWN_GRACE_SECONDS: positiveInt.max(600).default(10),
  DATABASE_URL: z.preprocess(
    emptyToUndefined,
    z
      .string()
      // Not z.url(): its error would echo nothing, but it refuses valid libpq forms; never echo the value.
      .regex(/^postgres(ql)?:\/\/\S+$/, 'must be a postgres:// or postgresql:// URL')
      .optional(),
  ),
  DATABASE_POOL_SIZE: positiveInt.max(1000).default(10),
  DATABASE_STATEMENT_TIMEOUT_MS: positiveInt.default(5_000),
  CORS_ORIGINS: optionalString,
  GRAPHQL_INTROSPECTION: booleanFlag,
  DEMO_ENABLED: booleanFlag,
});

/** Formats zod issues as `VARIABLE: message` lines so that start-up names what is wrong. */
function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.join('.') || '(environment)'}: ${issue.message}`)
    .join('\n');
}

function parseApiKeys(raw: string | undefined): ApiKeyConfig[] {
  if (raw === undefined) return [];
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    // Never echo the value: it holds secrets.
    throw new ConfigError('GATEWAY_API_KEYS: is not valid JSON');
  }
  const parsed = apiKeysSchema.safeParse(json);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues
        .map((issue) => `GATEWAY_API_KEYS[${issue.path.join('].')}: ${issue.message}`)
        .join('\n'),
    );
  }
  const names = new Set<string>();
  for (const { name } of parsed.data) {
    if (names.has(name)) throw new ConfigError(`GATEWAY_API_KEYS: duplicate key name "${name}"`);
    names.add(name);
  }
  return parsed.data;
}

/** TRUSTED_PROXIES as a list, refused when proxy-addr cannot read an entry. */
function parseTrustedProxies(raw: string | undefined): string[] {
  const entries = (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const entry of entries) {
    try {
      proxyaddr.compile(entry);
    } catch {
      throw new ConfigError(
        `TRUSTED_PROXIES: "${entry}" is not an IP address, a CIDR range, loopback, linklocal or uniquelocal`,
      );
    }
  }
  return entries;
}

/**
 * The API keys live in config.apiKeys until startGateway hashes them; nothing else needs the variable,
 * so the process forgets it (a child process or a heap dump then cannot show it).
 */
export function dropApiKeysFromEnvironment(): void {
  delete process.env['GATEWAY_API_KEYS'];
}

/**
 * Reads and validates the environment once. Throws {@link ConfigError} naming the variable at fault;
 * values of secrets are never part of the message.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError(describeIssues(parsed.error));
  const e = parsed.data;

  const secretKey = e.OMISE_SECRET_KEY;
  const mode: OmiseMode =
    secretKey === undefined ? 'simulator' : secretKey.startsWith('skey_test_') ? 'test' : 'live';
  if (mode === 'simulator' && e.OMISE_PUBLIC_KEY !== undefined) {
    throw new ConfigError(
      'OMISE_PUBLIC_KEY: set without OMISE_SECRET_KEY; set both, or neither for the simulator',
    );
  }
  if (mode !== 'simulator' && e.OMISE_PUBLIC_KEY !== undefined) {
    const publicIsTest = e.OMISE_PUBLIC_KEY.startsWith('pkey_test_');
    if (publicIsTest !== (mode === 'test')) {
      throw new ConfigError('OMISE_PUBLIC_KEY: test and live keys are mixed with OMISE_SECRET_KEY');
    }
  }

  // The demo page creates charges from a browser: a test-mode tool, never a way to move real money.
  if (mode === 'live' && e.DEMO_ENABLED === true) {
    throw new ConfigError('DEMO_ENABLED: the demo page works with test keys or the simulator only');
  }

  const apiKeys = parseApiKeys(e.GATEWAY_API_KEYS);
  if (mode === 'live') {
    const missing = [
      apiKeys.length === 0 ? 'GATEWAY_API_KEYS' : undefined,
      e.OMISE_WEBHOOK_SECRET === undefined ? 'OMISE_WEBHOOK_SECRET' : undefined,
      e.GATEWAY_TOKEN_SECRET === undefined ? 'GATEWAY_TOKEN_SECRET' : undefined,
    ].filter((v): v is string => v !== undefined);
    if (missing.length > 0) {
      throw new ConfigError(
        `${missing.join(', ')}: required with live Omise keys, so that nobody on the network can move real money ` +
          'and webhooks cannot be forged',
      );
    }
    if (e.DATABASE_URL === undefined) {
      throw new ConfigError(
        'DATABASE_URL: required with live Omise keys: idempotency records must survive restarts, or a ' +
          'retried request can charge or refund twice',
      );
    }
  }

  const production = e.NODE_ENV === 'production';
  return {
    port: e.PORT,
    host: e.HOST,
    production,
    logLevel: e.LOG_LEVEL,
    omise: {
      mode,
      secretKey,
      publicKey: e.OMISE_PUBLIC_KEY,
      apiUrl: e.OMISE_API_URL ?? 'https://api.omise.co',
      apiVersion: e.OMISE_API_VERSION,
      timeoutMs: e.OMISE_TIMEOUT_MS,
      maxAttempts: e.OMISE_MAX_ATTEMPTS,
    },
    webhookSecret: e.OMISE_WEBHOOK_SECRET,
    redisUrl: e.REDIS_URL,
    redisKeyPrefix: e.REDIS_KEY_PREFIX,
    apiKeys,
    tokenSecret: e.GATEWAY_TOKEN_SECRET,
    simulatorPort: e.SIMULATOR_PORT,
    rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
    rateLimitClientPerMinute: e.RATE_LIMIT_CLIENT_PER_MINUTE,
    metricsToken: e.METRICS_TOKEN,
    trustedProxies: parseTrustedProxies(e.TRUSTED_PROXIES),
    reconcileIntervalSeconds: e.RECONCILE_INTERVAL_SECONDS,
    chargeCacheSize: e.CHARGE_CACHE_SIZE,
    chargeCachePendingTtlMs: e.CHARGE_CACHE_PENDING_TTL_MS,
    idempotencyTtlSeconds: e.IDEMPOTENCY_TTL_SECONDS,
    shutdownGraceSeconds: e.SHUTDOWN_GRACE_SECONDS,
    database: {
      url: e.DATABASE_URL,
      poolSize: e.DATABASE_POOL_SIZE,
      statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
    },
    corsOrigins: (e.CORS_ORIGINS ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    introspection: e.GRAPHQL_INTROSPECTION ?? !production,
    demoPage: e.DEMO_ENABLED ?? (!production && mode !== 'live'),
  };
}
