/**
 * `npm start`: the gateway, with the embedded Omise simulator when no Omise keys are configured.
 * Start-up problems print one clear message (no stack) and exit 1; SIGINT/SIGTERM shut down cleanly.
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { ConfigError, dropApiKeysFromEnvironment, loadConfig, type Config } from './config/config.js';
import { configSecrets, createLogger } from './server/logger.js';
import { startGateway, type RunningGateway } from './server/gateway.js';
import { describeMetricsAccess } from './server/health.js';
import { startSimulator, type RunningSimulator } from './simulator/index.js';

/** How long past SHUTDOWN_GRACE_SECONDS the rest of the shutdown may take before the process just exits. */
const SHUTDOWN_OVERRUN_MS = 5_000;

async function main(): Promise<void> {
  let config = loadConfig();
  dropApiKeysFromEnvironment();
  // In simulator mode the webhook secret is made here rather than by the simulator, so that the logger
  // knows every secret value from its first line.
  const simulatorWebhookSecret =
    config.omise.mode === 'simulator'
      ? (config.webhookSecret ?? randomBytes(32).toString('base64'))
      : undefined;
  const logger = createLogger({
    level: config.logLevel,
    secrets: [...configSecrets(config), simulatorWebhookSecret],
  });

  let simulator: RunningSimulator | undefined;
  let gateway: RunningGateway | undefined;
  const shutdown = async (signal: string) => {
    logger.info({ signal, graceSeconds: config.shutdownGraceSeconds }, 'shutting down');
    // The drain cuts what is left after the grace period; should anything still hang (a stuck store
    // connection), the process goes anyway, a little later, so that a deploy never waits forever.
    const deadlineMs = config.shutdownGraceSeconds * 1000 + SHUTDOWN_OVERRUN_MS;
    setTimeout(() => {
      logger.error({ deadlineMs }, 'shutdown did not finish in time: exiting');
      process.exit(1);
    }, deadlineMs).unref();
    await gateway?.close();
    await simulator?.close();
    process.exit(0);
  };
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      shutdown(signal).catch((error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      });
    });
  }

  try {
    if (config.omise.mode === 'simulator') {
      simulator = await startSimulator({
        port: config.simulatorPort,
        ...(simulatorWebhookSecret !== undefined && { webhookSecret: simulatorWebhookSecret }),
        logger: logger.child({ component: 'simulator' }),
      });
      config = withSimulator(config, simulator);
    }
    gateway = await startGateway(config, { logger });
    // Now that the port is known (PORT=0 picks one), point the simulator's webhooks at it.
    simulator?.setWebhookUrls([`${reachableOrigin(config, gateway)}/webhooks/omise`]);
  } catch (error) {
    await simulator?.close();
    throw error;
  }
  printBanner(config, gateway, simulator);
}

/** Where a local process reaches the gateway: loopback when it listens on every interface. */
function reachableOrigin(config: Config, gateway: RunningGateway): string {
  const wildcard = config.host === undefined || config.host === '0.0.0.0' || config.host === '::';
  return wildcard ? `http://127.0.0.1:${gateway.port}` : gateway.origin;
}

function withSimulator(config: Config, simulator: RunningSimulator): Config {
  return {
    ...config,
    omise: {
      ...config.omise,
      apiUrl: simulator.url,
      secretKey: simulator.secretKey,
      publicKey: simulator.publicKey,
    },
    webhookSecret: simulator.webhookSecret,
  };
}

function printBanner(config: Config, gateway: RunningGateway, simulator: RunningSimulator | undefined): void {
  const lines = ['', `GraphQL gateway:   ${gateway.url}`];
  if (simulator) {
    lines.push(
      `Omise simulator:   ${simulator.url}  (embedded; no OMISE_SECRET_KEY set)`,
      `  test keys:       ${simulator.publicKey}  ${simulator.secretKey}`,
      `  webhooks to:     ${simulator.webhookUrls().join(', ')}`,
    );
  } else {
    lines.push(`Omise API:         ${config.omise.apiUrl}  (${config.omise.mode} keys)`);
  }
  if (gateway.auth.enabled) {
    lines.push(
      `Auth:              ON: Authorization: Bearer <API key or clientToken>; ${gateway.auth.apiKeys.length} API key(s):`,
      ...gateway.auth.apiKeys.map((k) => `                     ${k.name}  (${k.scopes.join(', ')})`),
    );
  } else {
    lines.push(
      'Auth:              OFF (test mode, no GATEWAY_API_KEYS): anyone who reaches this port can use it',
    );
  }
  lines.push(
    `Rate limit:        ${gateway.rateLimiter.enabled ? `${config.rateLimitPerMinute}/min per API key or IP, ${config.rateLimitClientPerMinute}/min per IP for client tokens (${gateway.rateLimiter.store})` : 'off (RATE_LIMIT_PER_MINUTE=0)'}`,
    `Client IP:         ${config.trustedProxies.length > 0 ? `X-Forwarded-For from TRUSTED_PROXIES (${config.trustedProxies.join(', ')})` : 'the socket address (TRUSTED_PROXIES unset)'}`,
    `Metrics:           ${gateway.origin}/metrics: ${describeMetricsAccess(gateway.metricsAccess)}`,
    `Introspection:     ${config.introspection ? 'on' : 'off'}${config.production ? '  (NODE_ENV=production)' : ''}`,
  );
  // Loudly: these are the things an operator must not miss.
  for (const warning of gateway.auth.warnings) {
    lines.push('', `!!! WARNING: ${warning}`);
  }
  const wsUrl = gateway.url.replace(/^http/, 'ws');
  lines.push(
    `Subscriptions:     ${wsUrl}  (graphql-transport-ws; try: npm run watch-charge -- <chargeId> ${gateway.url})`,
    `Webhooks:          POST ${gateway.origin}/webhooks/omise  (signatures ${config.webhookSecret === undefined ? 'NOT verified: OMISE_WEBHOOK_SECRET unset' : 'verified'})`,
    `Shared state:      ${config.redisUrl === undefined ? 'in memory (one instance)' : 'Redis (REDIS_URL)'}`,
    `Idempotency, ledger: ${gateway.persistence.kind === 'postgres' ? 'PostgreSQL (DATABASE_URL)' : 'in memory: lost on restart (set DATABASE_URL to keep them)'}`,
    `Health:            ${gateway.origin}/healthz  ${gateway.origin}/readyz`,
    '',
    'Create a charge:',
    `  curl -s ${gateway.url} -H 'content-type: application/json' \\`,
    ...(gateway.auth.enabled ? [`    -H 'authorization: Bearer <an API key with charges:create>' \\`] : []),
    `    -d '{"query":"mutation { createTrueMoneyCharge(input: {amount: 10000}) { charge { id status qrCode { imageUrl } } userErrors { code message } } }"}'`,
    '',
  );
  console.log(lines.join('\n'));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(`Configuration error:\n${error.message}`);
  } else if (error instanceof Error && 'code' in error && error.code === 'EADDRINUSE') {
    console.error(`Cannot start: ${error.message} (set PORT or SIMULATOR_PORT to a free port)`);
  } else {
    console.error('Cannot start:', error instanceof Error ? error.message : error);
  }
  process.exit(1);
});
