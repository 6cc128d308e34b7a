import type { Logger } from 'pino';
import type { KeyValueStore, PubSub } from '../../realtime/ports.js';
import type { Charge } from '../model.js';
import { ChargeStatusFeed } from './charge-status-feed.js';
import { ChargeStatusPublisher } from './charge-status-publisher.js';
import { ReconciliationPoller, type Scheduler } from './reconciliation-poller.js';

/** Where gauges read at each scrape are registered (the gateway's metrics registry fits). */
export interface GaugeRegistry {
  gauge(name: string, help: string, read: () => number): void;
}

export interface StatusFeedOptions {
  /** Shared by every instance: a state published by one reaches the subscribers of all. */
  pubsub: PubSub<unknown>;
  kv: KeyValueStore;
  /** A subscription's first state; null when Omise does not know the charge. */
  loadCharge: (chargeId: string) => Promise<Charge | null>;
  /** A poll's read: fresh from Omise, never from a cache; null when Omise does not know the charge. */
  pollCharge: (chargeId: string) => Promise<Charge | null>;
  /** Mean time between polls of a pending charge that has subscribers here. */
  pollIntervalMs: number;
  /**
   * Timers of the reconciliation poll (tests).
   * @default real, unref'd timers
   */
  pollScheduler?: Scheduler;
  logger: Logger;
  /** Open subscriptions and polled charges are exposed as gauges here. */
  gauges?: GaugeRegistry;
}

/** The parts of `chargeStatus` of one process. */
export interface StatusFeed {
  /** Takes a charge's state to the subscribers of every instance (webhooks, polls). */
  publisher: ChargeStatusPublisher;
  /** Polls pending charges that have subscribers here (`watchedCount`). */
  poller: ReconciliationPoller;
  /** The `chargeStatus` subscription (`openCount`). */
  feed: ChargeStatusFeed;
  /** Ends the open subscriptions, then the poll loops. */
  close(): Promise<void>;
}

/** One publisher, one poller and one feed per process, on the shared pub/sub and key-value store. */
export function createStatusFeed(options: StatusFeedOptions): StatusFeed {
  const { pubsub, kv, loadCharge, logger } = options;
  const publisher = new ChargeStatusPublisher({
    pubsub,
    kv,
    logger: logger.child({ component: 'charge-status' }),
  });
  const poller = new ReconciliationPoller({
    loadCharge: options.pollCharge,
    publisher,
    intervalMs: options.pollIntervalMs,
    logger: logger.child({ component: 'reconciliation' }),
    ...(options.pollScheduler && { scheduler: options.pollScheduler }),
  });
  const feed = new ChargeStatusFeed({
    pubsub,
    loadCharge,
    poller,
    logger: logger.child({ component: 'charge-status' }),
  });
  options.gauges?.gauge(
    'charge_status_subscriptions',
    'Open chargeStatus subscriptions on this instance.',
    () => feed.openCount,
  );
  options.gauges?.gauge(
    'reconciliation_polled_charges',
    'Pending charges polled from Omise because they have subscribers here.',
    () => poller.watchedCount,
  );
  return {
    publisher,
    poller,
    feed,
    async close() {
      await feed.close();
      poller.close();
    },
  };
}
