import 'reflect-metadata';
import type { IncomingMessage, Server } from 'node:http';
import type { Logger } from 'pino';
import { ConfigError, type Config } from '../config/config.js';
import type { ApolloServerPlugin } from '@apollo/server';
import type { ValidationRule } from 'graphql';
import type { GraphQLContext } from '../graphql/context.js';
import type { DocumentCache } from '../graphql/document-cache.js';
import type { JitExecution } from '../graphql/jit-execution.js';
import { buildGatewaySchema, type BuildGatewaySchemaOptions } from '../graphql/schema.js';
import type { OmiseApi } from '../omise/api.js';
import { createOmiseClient, DEFAULT_MAX_RETRY_AFTER_MS } from '../omise/client.js';
import { idempotencyTimingsFor } from '../payments/idempotency.js';
import { createPaymentsService } from '../payments/omise-payments-service.js';
import type { PaymentsService } from '../payments/payments-service.js';
import { createPersistence, type Persistence } from '../persistence/index.js';
import {
  createStatusFeed,
  type ChargeStatusFeed,
  type ReconciliationPoller,
  type Scheduler,
} from '../payments/status-feed/index.js';
import { createRealtime, type Realtime } from '../realtime/index.js';
import { createOmiseWebhookHandler, type WebhookHandler } from '../webhooks/index.js';
import { createAuthChecker, createAuthGroupOf } from '../auth/authorization.js';
import { createAuth, type AuthSetup } from '../auth/setup.js';
import {
  createHttpGuard,
  createRateLimiter,
  createWebSocketGuards,
  DEFAULT_WEBSOCKET_LIMITS,
  resolveLimits,
  type QueryLimits,
  type RequestRateLimiter,
  type WebSocketLimits,
} from '../limits/index.js';
import { graphqlRoutes } from './apollo.js';
import { CorsPolicy } from './cors.js';
import { createClientIpOf } from './client-ip.js';
import { demoRoutes } from './demo-routes.js';
import { startGraphQLExecution } from './graphql-execution.js';
import type { GraphQLFastPath } from './graphql-fast-path.js';
import { healthRoutes, metricsAccessFor, type MetricsAccess } from './health.js';
import type { SubscriberGroupOf } from './shared-subscription-events.js';
import { attachGraphQLWebSocket, type GraphQLWebSocketOptions } from './graphql-ws.js';
import { createHttpServer, type Route } from './http-server.js';
import { configSecrets, createLogger } from './logger.js';
import { GatewayMetrics } from './metrics.js';
import { instrumentOmiseApi } from './omise-metrics.js';
import { createRequestContextFactory, type ContextExtension } from './request-context.js';
import { webhookRoute } from './webhook-route.js';

/**
 * Parts a caller may supply instead of the ones startGateway builds from the config (tests, several
 * instances in one process, the next features). What the caller supplies, the caller closes.
 */
export interface GatewayOverrides {
  /**
   * @default pino at config.logLevel on stdout, with the config's secrets redacted
   */
  logger?: Logger;
  /**
   * `createAuth` hashes the API keys and drops their plaintext from the config.
   * @default createAuth(config)
   * Tests pass their own to control the client tokens' clock.
   */
  auth?: AuthSetup;
  /**
   * @default createRateLimiter from RATE_LIMIT_PER_MINUTE, on realtime's Redis when REDIS_URL is set
   */
  rateLimiter?: RequestRateLimiter;
  /**
   * Depth, complexity, aliases...
   * @default DEFAULT_QUERY_LIMITS
   */
  queryLimits?: Partial<QueryLimits>;
  /**
   * @default a new registry with the default process metrics
   */
  metrics?: GatewayMetrics;
  /**
   * Always wrapped for metrics.
   * @default createOmiseClient(config)
   */
  omise?: OmiseApi;
  /**
   * @default createRealtime({ redisUrl: config.redisUrl })
   */
  realtime?: Omit<Realtime, 'close'>;
  /**
   * @default createPersistence from config.database (PostgreSQL with DATABASE_URL, else memory)
   */
  persistence?: Persistence;
  /**
   * @default createPaymentsService over the (instrumented) Omise client and the persistence
   */
  payments?: PaymentsService;
  /**
   * Business clock of the payments rules (refund window, void day) and of client tokens (issue,
   * expiry, the checks on open WebSockets). Tests pass the simulator's.
   * @default the system clock
   */
  now?: () => Date;
  /**
   * Receives `POST /webhooks/omise`.
   * @default the Omise webhook handler (src/webhooks) on this gateway's feed
   */
  webhookReceiver?: WebhookHandler;
  /** GraphQL over WebSocket tunables and hooks (auth, limits); defaults in src/server/graphql-ws.ts. */
  websocket?: Pick<
    GraphQLWebSocketOptions,
    | 'keepAliveMs'
    | 'connectionInitWaitTimeoutMs'
    | 'maxPayloadBytes'
    | 'closeGraceMs'
    | 'extendContext'
    | 'checkOperation'
  > &
    Partial<Pick<WebSocketLimits, 'maxSubscriptionsPerConnection'>> & { documentCacheSize?: number };
  /**
   * Timers of the reconciliation poll (tests).
   * @default real, unref'd timers
   */
  pollScheduler?: Scheduler;
  /** Options of the schema (type-graphql pubSub for subscriptions, authChecker). */
  schema?: BuildGatewaySchemaOptions;
  /** More Apollo plugins, after the gateway's own. */
  apolloPlugins?: ApolloServerPlugin<GraphQLContext>[];
  /** More GraphQL validation rules, after the query limits; must depend on the document only (cached). */
  validationRules?: ValidationRule[];
  /**
   * Who executes HTTP queries and mutations (tests compare the two).
   * @default 'jit' (src/graphql/jit-execution.ts)
   */
  graphqlExecutor?: 'jit' | 'graphql-js';
  /**
   * Plain POSTs answered without Apollo's per-request pipeline (src/server/graphql-fast-path.ts; tests
   * compare with and without).
   * @default true with the jit executor
   */
  httpFastPath?: boolean;
  /** Extends each operation's context from its HTTP request, after authentication; may throw a GraphQLError. */
  extendContext?: ContextExtension<IncomingMessage>;
  /** Extra routes; one with the method and path of a built-in route replaces it. */
  routes?: Route[];
  /**
   * Largest GraphQL request body.
   * @default 1 MiB (413 above)
   */
  maxBodyBytes?: number;
  /**
   * @default 2 s
   */
  readinessTimeoutMs?: number;
  /**
   * @default config.shutdownGraceSeconds
   */
  shutdownGraceMs?: number;
}

export interface RunningGateway {
  /** The GraphQL endpoint, e.g. `http://localhost:4000/graphql`. */
  url: string;
  /** e.g. `http://localhost:4000` (for /healthz, /readyz, /metrics, /webhooks/omise). */
  origin: string;
  port: number;
  /** The node:http server (for WebSocket upgrades). */
  server: Server;
  logger: Logger;
  metrics: GatewayMetrics;
  payments: PaymentsService;
  /** The `chargeStatus` feed of this instance (open subscriptions: `openCount`). */
  chargeStatusFeed: ChargeStatusFeed;
  /** Polls pending charges that have subscribers here (`watchedCount`). */
  poller: ReconciliationPoller;
  /** Parsed and validated WebSocket documents (`parses`, `hits`). */
  documentCache: DocumentCache;
  /** graphql-jit behind Apollo (`jitRuns`, `graphqlJsRuns`); undefined with the graphql-js executor. */
  jitExecution: JitExecution | undefined;
  /** Plain POSTs answered without Apollo's pipeline (`answered`); undefined when off. */
  httpFastPath: GraphQLFastPath | undefined;
  /** Whether credentials are checked, and the warnings the start-up banner must print. */
  auth: {
    enabled: boolean;
    warnings: readonly string[];
    apiKeys: { name: string; scopes: readonly string[] }[];
  };
  /** Where rate-limit budgets are counted. */
  rateLimiter: RequestRateLimiter;
  /** Who may read /metrics (METRICS_TOKEN, or loopback only in production), for the banner. */
  metricsAccess: MetricsAccess;
  /** Idempotency records and the ledger of money-moving calls (memory or PostgreSQL). */
  persistence: Persistence;
  /** Drains HTTP (in-flight requests finish), stops Apollo, closes what startGateway opened. Idempotent. */
  close(): Promise<void>;
}

/**
 * Composes and starts one gateway: Omise client → stores → payments → schema → Apollo → HTTP server.
 * The config must point at a reachable Omise: in simulator mode, start the simulator first and put its
 * URL and keys into config.omise (src/main.ts does).
 */
export async function startGateway(
  config: Config,
  overrides: GatewayOverrides = {},
): Promise<RunningGateway> {
  refuseUnsafeLiveConfig(config);
  const logger = overrides.logger ?? createLogger({ level: config.logLevel, secrets: configSecrets(config) });
  // Hashes the API keys; from here on only their digests are in memory.
  const auth = overrides.auth ?? createAuth(config, overrides.now ? { now: overrides.now } : {});
  for (const warning of auth.warnings) logger.warn(warning);
  const limits = resolveLimits(overrides.queryLimits);
  const metrics = overrides.metrics ?? new GatewayMetrics();
  const closers: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    for (const close of closers.splice(0).reverse()) {
      await close().catch((error: unknown) => logger.error({ err: error }, 'error while shutting down'));
    }
  };

  try {
    const realtime = overrides.realtime ?? (await startRealtime(config, logger, closers));
    const rateLimiter =
      overrides.rateLimiter ??
      createRateLimiter({
        pointsPerMinute: config.rateLimitPerMinute,
        clientPointsPerMinute: config.rateLimitClientPerMinute,
        ...(realtime.rateLimitRedis && { redis: realtime.rateLimitRedis }),
        keyPrefix: `${realtime.keyPrefix}ratelimit`,
        logger: logger.child({ component: 'rate-limit' }),
      });

    const omise = instrumentOmiseApi(overrides.omise ?? createOmiseClient(config.omise, { logger }), metrics);
    const idempotencyTimings = idempotencyTimingsFor({
      timeoutMs: config.omise.timeoutMs,
      maxAttempts: config.omise.maxAttempts,
      maxRetryDelayMs: DEFAULT_MAX_RETRY_AFTER_MS,
    });
    refuseShortIdempotencyTtl(config, idempotencyTimings.staleAfterMs);
    const persistence =
      overrides.persistence ?? (await startPersistence(config, logger, closers, overrides.now));
    const payments =
      overrides.payments ??
      createPaymentsService({
        omise,
        kv: realtime.kv,
        chargeReader: {
          // Charge states are shared with the other instances; in memory (no REDIS_URL) there are none,
          // and publishing to itself cost a create ~35 µs (three JSON copies of the charge, a wake-up).
          ...(realtime.kind === 'redis' && { pubsub: realtime.pubsub }),
          cache: { maxEntries: config.chargeCacheSize, pendingTtlMs: config.chargeCachePendingTtlMs },
          logger: logger.child({ component: 'charge-cache' }),
          onLookup: (outcome) => metrics.chargeCacheLookups.inc({ outcome }),
          gauges: metrics,
        },
        idempotencyStore: persistence.idempotency,
        ledger: persistence.ledger,
        mode: config.omise.mode,
        idempotencyTtlMs: config.idempotencyTtlSeconds * 1000,
        idempotency: idempotencyTimings,
        logger: logger.child({ component: 'payments' }),
        ...(overrides.now && { now: overrides.now }),
      });

    // One charge reader (and cache) per process, on the shared pub/sub and key-value store: a webhook
    // received by any instance reaches the subscribers and caches of all.
    const charges = payments.charges;
    await charges.start();
    closers.push(() => charges.close());
    const statusFeed = createStatusFeed({
      pubsub: realtime.pubsub,
      kv: realtime.kv,
      loadCharge: (chargeId) => payments.getCharge(chargeId),
      pollCharge: (chargeId) => charges.readFresh(chargeId),
      pollIntervalMs: config.reconcileIntervalSeconds * 1000,
      ...(overrides.pollScheduler && { pollScheduler: overrides.pollScheduler }),
      logger,
      gauges: metrics,
    });
    const receiveWebhook =
      overrides.webhookReceiver ??
      createOmiseWebhookHandler({
        charges,
        kv: realtime.kv,
        publisher: statusFeed.publisher,
        ...(config.webhookSecret !== undefined && { webhookSecret: config.webhookSecret }),
        logger,
      });

    const schema = await buildGatewaySchema({
      // The default checker, on the same clock as the client tokens.
      ...(overrides.now && {
        authChecker: createAuthChecker<GraphQLContext>({
          principalOf: (context) => context.principal,
          now: overrides.now,
        }),
      }),
      ...overrides.schema,
    });
    const { apollo, documentCache, jit, fastPath } = await startGraphQLExecution({
      schema,
      limits,
      logger,
      metrics,
      introspection: config.introspection,
      apolloPlugins: overrides.apolloPlugins,
      validationRules: overrides.validationRules,
      documentCacheSize: overrides.websocket?.documentCacheSize,
      executor: overrides.graphqlExecutor,
      fastPath: overrides.httpFastPath,
    });
    closers.push(() => apollo.stop());

    const contextFor = createRequestContextFactory({ payments, clientTokens: auth.clientTokens });
    const cors = new CorsPolicy(config.corsOrigins);
    const clientIpOf = createClientIpOf(config.trustedProxies);
    const metricsAccess = metricsAccessFor(config);
    const routes = mergeRoutes(
      [
        ...graphqlRoutes({
          apollo,
          contextFor,
          guard: createHttpGuard({ authenticator: auth.authenticator, rateLimiter }),
          maxBodyBytes: overrides.maxBodyBytes,
          extendContext: overrides.extendContext,
          fastPath,
          cors,
        }),
        ...healthRoutes({
          checks: [
            { name: 'omise', check: () => omise.ping() },
            ...realtime.readinessChecks,
            ...persistence.readinessChecks,
          ],
          readinessTimeoutMs: overrides.readinessTimeoutMs,
          metrics,
          metricsAccess,
          draining: () => http.draining,
        }),
        { method: 'POST', path: '/webhooks/omise', handler: webhookRoute(receiveWebhook, metrics) },
        ...(config.demoPage
          ? demoRoutes({ testMode: config.omise.mode !== 'live', authRequired: auth.authEnabled })
          : []),
      ],
      overrides.routes ?? [],
    );
    const http = createHttpServer({
      routes,
      logger,
      metrics,
      clientIpOf,
      shutdownGraceMs: overrides.shutdownGraceMs ?? config.shutdownGraceSeconds * 1000,
    });

    const {
      documentCacheSize: _size,
      maxSubscriptionsPerConnection,
      ...websocketOptions
    } = overrides.websocket ?? {};
    const websocket = attachGraphQLWebSocket({
      server: http.server,
      path: '/graphql',
      schema,
      guards: createWebSocketGuards({
        authenticator: auth.authenticator,
        rateLimiter,
        schema,
        queryLimits: limits,
        webSocketLimits: {
          maxSubscriptionsPerConnection:
            maxSubscriptionsPerConnection ?? DEFAULT_WEBSOCKET_LIMITS.maxSubscriptionsPerConnection,
        },
        documents: documentCache,
        ...(overrides.now && { now: overrides.now }),
      }),
      contextFor,
      chargeStatus: statusFeed.feed,
      // Subscribers whom the authChecker treats alike share each event's execution. Only with the
      // default checker: the groups are its rules (OPERATION_RULES on the principal, same clock).
      ...(!overrides.schema?.authChecker && {
        subscriberGroupOf: createAuthGroupOf<GraphQLContext>({
          principalOf: (context) => context.principal,
          ...(overrides.now && { now: overrides.now }),
        }) as SubscriberGroupOf,
      }),
      logger,
      metrics,
      allowsOrigin: (origin, host) => cors.allowsWebSocket(origin, host),
      clientIpOf,
      ...websocketOptions,
    });
    // Closed in reverse: WebSocket clients first (their subscriptions end), then the feed and the
    // poll loops, then HTTP drains (in-flight webhooks still publish), then Apollo, then the realtime
    // connections (pushed first above).
    closers.push(() => http.close());
    closers.push(() => statusFeed.close());
    closers.push(() => websocket.close());
    // Runs first: stop accepting connections and fail /readyz before anything else closes, so that
    // WebSocket clients told to go away reconnect elsewhere; the drain itself is awaited further down.
    closers.push(async () => void http.close());
    const address = await http.listen(config.port, config.host);

    const host = urlHost(address.address);
    const origin = `http://${host}:${address.port}`;
    logger.info({ url: `${origin}/graphql`, omiseMode: config.omise.mode }, 'gateway listening');

    let closing: Promise<void> | undefined;
    return {
      url: `${origin}/graphql`,
      origin,
      port: address.port,
      server: http.server,
      logger,
      metrics,
      payments,
      chargeStatusFeed: statusFeed.feed,
      poller: statusFeed.poller,
      documentCache,
      jitExecution: jit,
      httpFastPath: fastPath,
      auth: { enabled: auth.authEnabled, warnings: auth.warnings, apiKeys: auth.apiKeys.describe() },
      rateLimiter,
      metricsAccess,
      persistence,
      close() {
        closing ??= closeAll().then(() => logger.info('gateway stopped'));
        return closing;
      },
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/** The durable state of config.database (memory without DATABASE_URL); closed after HTTP and Apollo. */
async function startPersistence(
  config: Config,
  logger: Logger,
  closers: (() => Promise<void>)[],
  now: (() => Date) | undefined,
): Promise<Persistence> {
  const persistence = await createPersistence({
    databaseUrl: config.database.url,
    poolSize: config.database.poolSize,
    statementTimeoutMs: config.database.statementTimeoutMs,
    logger: logger.child({ component: 'persistence' }),
    ...(now && { now }),
  });
  closers.push(() => persistence.close());
  return persistence;
}

/** The shared state of config.redisUrl (memory without it); closed last. */
async function startRealtime(
  config: Config,
  logger: Logger,
  closers: (() => Promise<void>)[],
): Promise<Realtime> {
  const realtime = await createRealtime({
    redisUrl: config.redisUrl,
    ...(config.redisKeyPrefix !== undefined && { keyPrefix: config.redisKeyPrefix }),
    logger: logger.child({ component: 'realtime' }),
  });
  closers.push(() => realtime.close());
  return realtime;
}

/**
 * Real money never sits behind an open endpoint or an unsigned webhook receiver. loadConfig already
 * refuses such an environment; this also covers configs built by hand.
 */
function refuseUnsafeLiveConfig(config: Config): void {
  if (config.omise.mode !== 'live') return;
  const missing = [
    config.apiKeys.length === 0 ? 'GATEWAY_API_KEYS' : undefined,
    config.webhookSecret === undefined ? 'OMISE_WEBHOOK_SECRET' : undefined,
    config.tokenSecret === undefined ? 'GATEWAY_TOKEN_SECRET' : undefined,
    config.database.url === undefined ? 'DATABASE_URL' : undefined,
  ].filter((name): name is string => name !== undefined);
  if (missing.length > 0) {
    throw new Error(
      `live Omise keys need ${missing.join(', ')}: without them anyone who reaches the gateway could ` +
        'move real money, or forge webhooks, or a retry after a restart could charge twice',
    );
  }
}

/**
 * A key forgotten while its attempt may still run would let a retry execute it again (a second charge):
 * the retention must outlast the attempt stale time derived from the Omise client's timings.
 */
function refuseShortIdempotencyTtl(config: Config, staleAfterMs: number): void {
  const minimum = Math.ceil(staleAfterMs / 1000);
  if (config.idempotencyTtlSeconds < minimum) {
    throw new ConfigError(
      `IDEMPOTENCY_TTL_SECONDS: ${config.idempotencyTtlSeconds} is below the attempt stale time ` +
        `(${minimum} s with OMISE_TIMEOUT_MS and OMISE_MAX_ATTEMPTS as set); use at least ${minimum}`,
    );
  }
}

function mergeRoutes(builtIn: Route[], extra: Route[]): Route[] {
  const key = (r: Route) => `${r.method} ${r.path}`;
  const replaced = new Set(extra.map(key));
  return [...builtIn.filter((r) => !replaced.has(key(r))), ...extra];
}

/** A URL host for the listening address; wildcard addresses are reachable as localhost. */
function urlHost(address: string): string {
  if (address === '0.0.0.0' || address === '::') return 'localhost';
  return address.includes(':') ? `[${address}]` : address;
}
