import type { Logger } from 'pino';
import type { KeyValueStore, PubSub } from '../../realtime/ports.js';
import type { Charge } from '../model.js';
import {
  chargeStatusEventOf,
  chargeStatusTopic,
  statusRank,
  toChargeStatusMessage,
} from './charge-status-event.js';

export interface ChargeStatusPublisherOptions {
  pubsub: PubSub<unknown>;
  kv: KeyValueStore;
  /**
   * Namespace of the KeyValueStore keys.
   * @default 'gateway'
   */
  keyPrefix?: string;
  /**
   * How long the "already published" mark of a charge is kept.
   * @default 48 h (a QR charge lives 24 h)
   */
  publishedTtlMs?: number;
  now?: () => number;
  logger?: Logger;
}

export const DEFAULT_PUBLISHED_TTL_MS = 48 * 60 * 60 * 1000;

/**
 * Publishes a charge's status to its topic, once per state across all instances (best effort).
 *
 * Order: check the mark, publish, THEN raise the mark (`setIfGreater`). Marking first would make a
 * failed publish look done, so Omise's redelivery (we answered 5xx) would be skipped and the event lost.
 * The price: two instances publishing the same state at the same moment may both get through. That is
 * harmless because every subscriber drops events whose rank is not above what it already has; the mark
 * only saves traffic and keeps stale states (PENDING after SUCCESSFUL) off the wire.
 */
export class ChargeStatusPublisher {
  private readonly keyPrefix: string;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(private readonly options: ChargeStatusPublisherOptions) {
    this.keyPrefix = options.keyPrefix ?? 'gateway';
    this.ttlMs = options.publishedTtlMs ?? DEFAULT_PUBLISHED_TTL_MS;
    this.now = options.now ?? Date.now;
  }

  /**
   * Resolves true when the state was published, false when a state of the same or a higher rank was
   * already published. Rejects (and marks nothing) when the store or the broker fails: the caller must
   * not acknowledge, and a retry publishes again.
   */
  async publish(charge: Charge): Promise<boolean> {
    const rank = statusRank(charge.status);
    const markKey = `${this.keyPrefix}:published:${charge.id}`;
    const published = await this.options.kv.get(markKey);
    if (published !== undefined && Number(published) >= rank) {
      this.options.logger?.debug(
        { chargeId: charge.id, status: charge.status },
        'charge status already published',
      );
      return false;
    }
    const event = chargeStatusEventOf(charge, new Date(this.now()));
    await this.options.pubsub.publish(chargeStatusTopic(charge.id), toChargeStatusMessage(event));
    await this.options.kv.setIfGreater(markKey, rank, this.ttlMs);
    this.options.logger?.info({ chargeId: charge.id, status: charge.status }, 'charge status published');
    return true;
  }
}
