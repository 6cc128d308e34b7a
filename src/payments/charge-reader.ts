import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { OmiseApi } from '../omise/api.js';
import { isOmiseNotFound } from '../omise/errors.js';
import type { KeyValueStore, PubSub, TopicSubscription } from '../realtime/ports.js';
import { ChargeCache, type ChargeCacheOptions } from './charge-cache.js';
import type { Charge } from './model.js';
import { mapCharge } from './omise-mapper.js';
import { isChargeId } from './rules.js';
import {
  chargeStatusEventOf,
  fromChargeStatusMessage,
  toChargeStatusMessage,
} from './status-feed/charge-status-event.js';
import type { GaugeRegistry } from './status-feed/status-feed.js';
import { FreshReads } from './status-feed/fresh-reads.js';

/** The topic on which instances hand each other the charge states they learn. */
export const CHARGE_UPDATES_TOPIC = 'charge-updates';
/**
 * How long the shared version of a charge is kept after its last change. Longer than the refund window,
 * and than any instance keeps an unread charge in practice (its LRU evicts it first).
 */
export const DEFAULT_CHARGE_VERSION_TTL_MS = 90 * 24 * 60 * 60 * 1000;

export interface ChargeReaderOptions {
  omise: Pick<OmiseApi, 'retrieveCharge'>;
  /**
   * Holds each charge's latest progress (its version) for all instances: a read serves its memory only
   * when no instance has answered with a newer state, which is what makes a mutation's result the very
   * next read on any instance.
   */
  kv: KeyValueStore;
  /** Carries the states one instance learns to the others; omit for a lone instance. */
  pubsub?: PubSub<unknown>;
  cache?: ChargeCacheOptions;
  /**
   * Namespace of the KeyValueStore keys.
   * @default 'gateway'
   */
  keyPrefix?: string;
  /**
   * @default {@link DEFAULT_CHARGE_VERSION_TTL_MS}
   */
  versionTtlMs?: number;
  logger?: Logger;
  /** Told about each `read`: served from memory (`hit`) or from Omise (`miss`). For metrics. */
  onLookup?: (outcome: 'hit' | 'miss') => void;
  /** The cache's size is exposed as a gauge here. */
  gauges?: GaugeRegistry;
}

interface ChargeUpdateMessage {
  origin: string;
  update: unknown;
}

/**
 * The one way the gateway reads a charge: queries, the first state of a subscription, the webhook
 * receiver, the reconciliation poll and the mutations all come here, with one "not found" rule: an id
 * that is not a charge id, or that Omise answers 404 for, is `null`; any other failure throws.
 *
 * `read` serves from memory when it can (a webhook-fed cache, see ChargeCache); `readFresh` always asks
 * Omise, with a read that starts after the call (shared by concurrent callers). Every state obtained
 * from Omise goes through `remember`, which keeps it here, raises the charge's shared version and, when
 * that version rose, hands the state to the other instances — before the caller answers anyone.
 */
export class ChargeReader {
  readonly cache: ChargeCache;
  private readonly fresh: FreshReads<Charge | null>;
  private readonly keyPrefix: string;
  private readonly versionTtlMs: number;
  private readonly origin = randomUUID();
  private subscription: TopicSubscription<unknown> | undefined;
  private pumping: Promise<void> | undefined;

  constructor(private readonly options: ChargeReaderOptions) {
    this.cache = new ChargeCache(options.cache);
    this.fresh = new FreshReads((chargeId) => this.load(chargeId));
    this.keyPrefix = options.keyPrefix ?? 'gateway';
    this.versionTtlMs = options.versionTtlMs ?? DEFAULT_CHARGE_VERSION_TTL_MS;
    options.gauges?.gauge(
      'charge_cache_entries',
      'Charges held in the charge cache of this instance.',
      () => this.cache.size,
    );
  }

  /** Starts taking the states other instances publish. Idempotent; without `pubsub`, nothing to do. */
  async start(): Promise<void> {
    if (!this.options.pubsub || this.subscription) return;
    this.subscription = await this.options.pubsub.subscribe(CHARGE_UPDATES_TOPIC);
    this.pumping = this.pump(this.subscription);
  }

  async close(): Promise<void> {
    const subscription = this.subscription;
    this.subscription = undefined;
    await subscription?.close();
    await this.pumping;
  }

  /** The charge's current state; null when Omise does not know it. */
  async read(chargeId: string): Promise<Charge | null> {
    if (!isChargeId(chargeId)) return null;
    const entry = this.cache.fresh(chargeId);
    if (entry && (await this.isCurrent(chargeId, entry.progress))) {
      this.options.onLookup?.('hit');
      return entry.charge;
    }
    this.options.onLookup?.('miss');
    return this.readFresh(chargeId);
  }

  /** The charge as Omise says it is now (a read that started after this call); null when unknown. */
  readFresh(chargeId: string): Promise<Charge | null> {
    if (!isChargeId(chargeId)) return Promise.resolve(null);
    return this.fresh.read(chargeId, this.fresh.mark());
  }

  /**
   * Takes a state just obtained from Omise (a mutation's result, a page of a list). Never throws: a
   * store that is down is logged, and the state is still kept here.
   */
  async remember(charge: Charge): Promise<void> {
    const progress = this.cache.keep(charge);
    try {
      const raised = await this.options.kv.setIfGreater(
        this.versionKey(charge.id),
        progress,
        this.versionTtlMs,
      );
      if (raised && this.options.pubsub) {
        const update = toChargeStatusMessage(chargeStatusEventOf(charge, new Date()));
        const message: ChargeUpdateMessage = { origin: this.origin, update };
        await this.options.pubsub.publish(CHARGE_UPDATES_TOPIC, message);
      }
    } catch (error) {
      this.options.logger?.warn(
        { chargeId: charge.id, err: error },
        'charge cache: could not share a charge state with the other instances',
      );
    }
  }

  private async load(chargeId: string): Promise<Charge | null> {
    let charge: Charge;
    try {
      charge = mapCharge(await this.options.omise.retrieveCharge(chargeId));
    } catch (error) {
      if (isOmiseNotFound(error)) return null;
      throw error;
    }
    await this.remember(charge);
    return charge;
  }

  /** Whether no instance has answered with a newer state than `progress` (the store down → not sure → false). */
  private async isCurrent(chargeId: string, progress: number): Promise<boolean> {
    let shared: string | undefined;
    try {
      shared = await this.options.kv.get(this.versionKey(chargeId));
    } catch (error) {
      this.options.logger?.debug({ chargeId, err: error }, 'charge cache: version unreadable; asking Omise');
      return false;
    }
    return shared === undefined || Number(shared) <= progress;
  }

  private versionKey(chargeId: string): string {
    return `${this.keyPrefix}:charge-version:${chargeId}`;
  }

  private async pump(subscription: TopicSubscription<unknown>): Promise<void> {
    try {
      for await (const message of subscription) {
        const { origin, update } = (message ?? {}) as Partial<ChargeUpdateMessage>;
        if (origin === this.origin) continue;
        try {
          this.cache.keep(fromChargeStatusMessage(update).charge);
        } catch (error) {
          this.options.logger?.warn({ err: error }, 'charge cache: dropped an unreadable update');
        }
      }
    } catch (error) {
      // The broker failed or this instance fell behind: reads still check the shared version, so a
      // missed update costs an Omise read, never a stale answer.
      this.options.logger?.warn({ err: error }, 'charge cache: the updates topic ended');
    }
  }
}
