/**
 * An Omise-compatible HTTP server (test mode) for TrueMoney QR: the gateway's embedded default and the
 * target of the integration tests. See docs/simulator.md.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { adminRoutes } from './admin-routes.js';
import { apiRoutes } from './api-routes.js';
import { ControllableClock, type SimulatorClock } from './clock.js';
import { SimulatorEngine } from './engine.js';
import { FaultInjector, type FaultKind, type FaultSettings } from './faults.js';
import { newApiKey } from './ids.js';
import { createSimulatorServer } from './server.js';
import { Store } from './store.js';
import { WebhookDispatcher, type DeliveryAttempt, type WebhookRetryOptions } from './webhook-delivery.js';

export type { FaultKind, FaultSettings } from './faults.js';
export { DEFAULT_FAULTS } from './faults.js';
export type { SimulatorClock } from './clock.js';
export type { DeliveryAttempt, WebhookRetryOptions } from './webhook-delivery.js';

export interface SimulatorOptions {
  /**
   * @default 0 (a random free port)
   */
  port?: number;
  /**
   * @default '127.0.0.1'
   */
  host?: string;
  /** Where events are POSTed (plus each charge's `webhook_endpoints`). */
  webhookUrls?: string[];
  /** base64; random 32 bytes when unset. */
  webhookSecret?: string;
  /** Set → only this public key is accepted; unset → any `pkey_test_…`. */
  publicKey?: string;
  /** Set → only this secret key is accepted; unset → any `skey_test_…`. */
  secretKey?: string;
  /** Initial fault settings (all off by default). */
  faults?: Partial<FaultSettings>;
  /** Silent when unset. */
  logger?: Logger;
  /** Source clock the simulated clock starts from (default Date.now); advance()/set() move it on. */
  now?: () => number;
  /** Webhook retry policy; defaults: 100 ms base delay doubling, 8 attempts, 10 s timeout. */
  webhookRetry?: WebhookRetryOptions;
  /** Request body limit in bytes (default 1 MiB). */
  bodyLimitBytes?: number;
}

export interface RunningSimulator {
  /** e.g. `http://127.0.0.1:43123` (no trailing slash). */
  url: string;
  /** Keys a client can use (the configured ones, or generated `pkey_test_…`/`skey_test_…`). */
  publicKey: string;
  secretKey: string;
  /** base64. */
  webhookSecret: string;
  clock: SimulatorClock;
  faults: {
    set(p: Partial<FaultSettings>): void;
    reset(): void;
    get(): FaultSettings;
    /** How many faults of each kind were injected so far. */
    stats(): Partial<Record<FaultKind, number>>;
  };
  setWebhookUrls(urls: string[]): void;
  webhookUrls(): string[];
  /** Every webhook attempt so far (and lost deliveries), oldest first. */
  deliveries(): DeliveryAttempt[];
  /** Resolves when nothing is queued, held, in flight or waiting for a retry; rejects after timeoutMs (default 30 s). */
  waitForIdle(timeoutMs?: number): Promise<void>;
  /** Stops the server (keep-alive sockets included), timers and pending deliveries. */
  close(): Promise<void>;
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const logger = options.logger;
  const host = options.host ?? '127.0.0.1';
  const webhookSecret = options.webhookSecret ?? randomBytes(32).toString('base64');
  const publicKey = options.publicKey ?? newApiKey('pkey');
  const secretKey = options.secretKey ?? newApiKey('skey');
  let webhookUrls = [...(options.webhookUrls ?? [])];
  let baseUrl = '';

  const store = new Store();
  const clock = new ControllableClock(options.now ?? Date.now, logger);
  const faults = new FaultInjector(options.faults);
  const dispatcher = new WebhookDispatcher({
    secret: webhookSecret,
    faults,
    retry: options.webhookRetry,
    getUrls: () => webhookUrls,
    onAttempt: (attempt) => engine.recordDelivery(attempt),
    logger,
  });
  const engine = new SimulatorEngine({
    store,
    clock,
    baseUrl: () => baseUrl,
    dispatcher: () => dispatcher,
    logger,
  });
  const setWebhookUrls = (urls: string[]) => {
    webhookUrls = [...urls];
  };
  const { server, dispose } = createSimulatorServer({
    apiRoutes: apiRoutes(engine, store, () => baseUrl),
    adminRoutes: adminRoutes({
      engine,
      faults,
      clock,
      dispatcher,
      getWebhookUrls: () => [...webhookUrls],
      setWebhookUrls,
    }),
    keys: { publicKey: options.publicKey, secretKey: options.secretKey },
    faults,
    logger,
    bodyLimitBytes: options.bodyLimitBytes,
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  baseUrl = `http://${urlHost === '0.0.0.0' ? '127.0.0.1' : urlHost === '[::]' ? '[::1]' : urlHost}:${address.port}`;
  logger?.info({ url: baseUrl }, 'simulator: listening');

  let closing: Promise<void> | undefined;
  return {
    url: baseUrl,
    publicKey,
    secretKey,
    webhookSecret,
    clock,
    faults: {
      set: (p) => faults.set(p),
      reset: () => faults.reset(),
      get: () => faults.get(),
      stats: () => faults.stats(),
    },
    setWebhookUrls,
    webhookUrls: () => [...webhookUrls],
    deliveries: () => dispatcher.deliveries(),
    waitForIdle: (timeoutMs) => dispatcher.waitForIdle(timeoutMs),
    close() {
      closing ??= new Promise<void>((resolve) => {
        clock.close();
        dispatcher.close();
        dispose();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
