import type { PubSub, TopicSubscription } from './ports.js';
import { DEFAULT_MAX_QUEUED_MESSAGES, QueuedSubscription } from './queued-subscription.js';
import { toJson } from './validation.js';

export interface MemoryPubSubOptions {
  /**
   * Messages that may wait for one slow subscriber before its subscription fails with
   * `SubscriptionOverflowError`.
   * @default {@link DEFAULT_MAX_QUEUED_MESSAGES}
   */
  maxQueuedMessages?: number;
}

/**
 * In-process {@link PubSub} for a single gateway instance. `publish` hands the message to every live
 * subscription of the topic, in publish order, and returns without waiting for any consumer. Messages
 * travel as JSON exactly as through Redis, so code tested against memory behaves the same in
 * production: subscribers get plain data (dates as strings) and each gets its own copy.
 * A subscription exists as soon as `subscribe()` resolves; nothing published earlier is replayed.
 */
export class MemoryPubSub<T = unknown> implements PubSub<T> {
  private readonly topics = new Map<string, Set<QueuedSubscription<T>>>();
  private readonly maxQueued: number;
  private closed = false;

  constructor(options: MemoryPubSubOptions = {}) {
    this.maxQueued = options.maxQueuedMessages ?? DEFAULT_MAX_QUEUED_MESSAGES;
  }

  /** Rejects (TypeError) for a value JSON cannot carry, and once closed. */
  async publish(topic: string, message: T): Promise<void> {
    this.assertOpen();
    const json = toJson(message);
    const subscriptions = this.topics.get(topic);
    if (!subscriptions) return;
    // Copy: a subscription that overflows leaves the set while we iterate.
    for (const subscription of [...subscriptions]) subscription.push(JSON.parse(json) as T);
  }

  async subscribe(topic: string): Promise<TopicSubscription<T>> {
    this.assertOpen();
    const subscription = new QueuedSubscription<T>(topic, this.maxQueued, async (s) => this.remove(s));
    let subscriptions = this.topics.get(topic);
    if (!subscriptions) this.topics.set(topic, (subscriptions = new Set()));
    subscriptions.add(subscription);
    return subscription;
  }

  async ping(): Promise<void> {
    this.assertOpen();
  }

  /** Ends every subscription; later calls reject. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.topics.values()].flatMap((set) => [...set]);
    await Promise.all(all.map((s) => s.close()));
  }

  /** Number of live subscriptions to a topic (for tests and metrics). */
  subscriberCount(topic: string): number {
    return this.topics.get(topic)?.size ?? 0;
  }

  private remove(subscription: QueuedSubscription<T>): void {
    const subscriptions = this.topics.get(subscription.topic);
    if (!subscriptions) return;
    subscriptions.delete(subscription);
    if (subscriptions.size === 0) this.topics.delete(subscription.topic);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('pubsub is closed');
  }
}
