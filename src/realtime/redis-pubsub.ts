import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { RealtimeUnavailableError } from './errors.js';
import type { PubSub, TopicSubscription } from './ports.js';
import { DEFAULT_MAX_QUEUED_MESSAGES, QueuedSubscription } from './queued-subscription.js';
import { toJson } from './validation.js';

export interface RedisPubSubOptions {
  /** Connection for PUBLISH and PING; may be shared with a RedisKeyValueStore. */
  publisher: Redis;
  /**
   * Connection used only for SUBSCRIBE/UNSUBSCRIBE; must be created with `autoResubscribe: false`
   * (as `createRedisConnection` does): this adapter resubscribes after a reconnect itself.
   */
  subscriber: Redis;
  /** Prepended to every topic to form the Redis channel, e.g. `tmgw:`. */
  keyPrefix?: string;
  /** See {@link MemoryPubSubOptions.maxQueuedMessages}. */
  maxQueuedMessages?: number;
  logger?: Logger;
}

/** What this instance knows and wants for one Redis channel. */
interface Channel<T> {
  readonly topic: string;
  readonly locals: Set<QueuedSubscription<T>>;
  /** A SUBSCRIBE was acknowledged on the current connection and not undone since. */
  subscribed: boolean;
  /** Tail of the SUBSCRIBE/UNSUBSCRIBE steps for this channel: they run one after another. */
  tail: Promise<void>;
  pending: number;
}

/**
 * {@link PubSub} over Redis pub/sub, so that a message published on one gateway instance reaches the
 * subscribers of every instance. Messages are JSON: subscribers get plain data (a `Date` arrives as
 * its ISO string; reviving types is the caller's concern).
 *
 * One SUBSCRIBE per channel per instance, however many local subscribers: local subscriptions are
 * counted, the first one subscribes, the last one to leave unsubscribes. SUBSCRIBE/UNSUBSCRIBE steps of
 * a channel run in sequence and each decides from the *current* count, so a subscribe racing an
 * unsubscribe of the same topic always ends subscribed exactly when someone listens.
 *
 * Failure semantics (with connections from `createRedisConnection`):
 * - `publish`, `ping` and `subscribe` reject with {@link RealtimeUnavailableError} at once while Redis
 *   is unreachable (nothing is queued for later);
 * - existing subscriptions stay open through an outage; when the subscriber connection is ready again,
 *   every topic with local subscribers is subscribed again and messages flow again. Messages published
 *   while this instance's subscription was down are not replayed (Redis pub/sub keeps nothing): a
 *   publisher that could not publish got a rejection; one on a healthy instance during a partition of
 *   this one is lost for these subscribers.
 */
export class RedisPubSub<T = unknown> implements PubSub<T> {
  private readonly channels = new Map<string, Channel<T>>();
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly prefix: string;
  private readonly maxQueued: number;
  private readonly logger: Logger | undefined;
  /** Incremented whenever the subscriber connection closes: its subscriptions are gone. */
  private epoch = 0;
  private closed = false;
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private readonly onMessage = (channel: string, message: string) => this.dispatch(channel, message);
  private readonly onClose = () => this.connectionLost();
  private readonly onReady = () => this.resubscribeAll();

  constructor(options: RedisPubSubOptions) {
    this.publisher = options.publisher;
    this.subscriber = options.subscriber;
    this.prefix = options.keyPrefix ?? '';
    this.maxQueued = options.maxQueuedMessages ?? DEFAULT_MAX_QUEUED_MESSAGES;
    this.logger = options.logger;
    this.subscriber.on('message', this.onMessage);
    this.subscriber.on('close', this.onClose);
    this.subscriber.on('ready', this.onReady);
  }

  async publish(topic: string, message: T): Promise<void> {
    this.assertOpen();
    const json = toJson(message);
    try {
      await this.publisher.publish(this.prefix + topic, json);
    } catch (error) {
      throw new RealtimeUnavailableError('publish', { cause: error });
    }
  }

  /**
   * Resolves once Redis has acknowledged the channel's SUBSCRIBE (now or earlier, for another local
   * subscriber on the same connection), so everything published after it resolves is delivered.
   * Nothing published before the call is delivered: when the channel was already subscribed, a PING
   * on the subscriber connection marks where this subscriber's messages start (the PING reply follows
   * every message Redis had sent before it).
   */
  async subscribe(topic: string): Promise<TopicSubscription<T>> {
    this.assertOpen();
    const name = this.prefix + topic;
    let channel = this.channels.get(name);
    if (!channel) {
      channel = { topic, locals: new Set(), subscribed: false, tail: Promise.resolve(), pending: 0 };
      this.channels.set(name, channel);
    }
    // Counted at once (so a concurrent unsubscribe of the last other subscriber keeps the channel),
    // accepting messages only once the subscription is confirmed.
    const subscription = new QueuedSubscription<T>(topic, this.maxQueued, (s) => this.leave(name, s), false);
    channel.locals.add(subscription);
    try {
      const sentSubscribe = await this.reconcile(name);
      if (!sentSubscribe) await this.subscriber.ping();
      subscription.activate();
    } catch (error) {
      await subscription.close();
      throw new RealtimeUnavailableError('subscribe', { cause: error });
    }
    return subscription;
  }

  /** Resolves when both connections answer. */
  async ping(): Promise<void> {
    try {
      await Promise.all([this.publisher.ping(), this.subscriber.ping()]);
    } catch (error) {
      throw new RealtimeUnavailableError('ping', { cause: error });
    }
  }

  /**
   * Ends every local subscription and unsubscribes (best effort); later calls reject. The connections
   * stay open: they belong to whoever created them (`createRealtime` closes its own).
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const all = [...this.channels.values()].flatMap((c) => [...c.locals]);
    await Promise.all(all.map((s) => s.close()));
    await Promise.all([...this.channels.values()].map((c) => c.tail));
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.subscriber.off('message', this.onMessage);
    this.subscriber.off('close', this.onClose);
    this.subscriber.off('ready', this.onReady);
  }

  /** Local subscriptions to a topic on this instance (for tests and metrics). */
  subscriberCount(topic: string): number {
    return this.channels.get(this.prefix + topic)?.locals.size ?? 0;
  }

  private async leave(name: string, subscription: QueuedSubscription<T>): Promise<void> {
    const channel = this.channels.get(name);
    if (!channel?.locals.delete(subscription)) return;
    try {
      await this.reconcile(name);
    } catch (error) {
      // The channel was marked unsubscribed anyway; a lingering Redis subscription only costs traffic.
      this.logger?.warn({ topic: channel.topic, err: (error as Error).message }, 'redis unsubscribe failed');
    }
  }

  /**
   * Queues one step that brings the Redis subscription of a channel in line with its local
   * subscribers, and settles with that step: true when the step sent (and Redis acknowledged) SUBSCRIBE.
   */
  private reconcile(name: string): Promise<boolean> {
    const channel = this.channels.get(name);
    if (!channel) return Promise.resolve(false);
    channel.pending += 1;
    const step = channel.tail.then(async () => {
      try {
        if (channel.locals.size > 0 && !channel.subscribed) {
          const epoch = this.epoch;
          await this.subscriber.subscribe(name);
          // If the connection dropped in between, the 'ready' handler subscribes again.
          if (epoch === this.epoch) channel.subscribed = true;
          return true;
        } else if (channel.locals.size === 0 && channel.subscribed) {
          channel.subscribed = false;
          await this.subscriber.unsubscribe(name);
        }
        return false;
      } finally {
        channel.pending -= 1;
        // Per-charge topics come and go: forget idle channels so the map does not grow.
        if (channel.pending === 0 && channel.locals.size === 0 && !channel.subscribed) {
          if (this.channels.get(name) === channel) this.channels.delete(name);
        }
      }
    });
    channel.tail = step.then(
      () => undefined,
      () => undefined,
    );
    return step;
  }

  private dispatch(name: string, message: string): void {
    const channel = this.channels.get(name);
    if (!channel || channel.locals.size === 0) return;
    let parsed: T;
    try {
      parsed = JSON.parse(message) as T;
    } catch {
      this.logger?.warn({ topic: channel.topic }, 'dropped a pub/sub message that is not JSON');
      return;
    }
    let first = true;
    for (const subscription of [...channel.locals]) {
      // Each subscriber gets its own copy, as with the memory adapter.
      subscription.push(first ? parsed : (JSON.parse(message) as T));
      first = false;
    }
  }

  private connectionLost(): void {
    this.epoch += 1;
    for (const channel of this.channels.values()) channel.subscribed = false;
  }

  private resubscribeAll(): void {
    if (this.closed) return;
    for (const [name, channel] of this.channels) {
      if (channel.locals.size > 0) this.resubscribe(name, channel);
    }
  }

  private resubscribe(name: string, channel: Channel<T>): void {
    this.reconcile(name).catch((error: Error) => {
      this.logger?.warn({ topic: channel.topic, err: error.message }, 'redis resubscribe failed');
      // Connection down: the next 'ready' retries. Up but the command failed (timeout): retry soon.
      if (this.closed || this.subscriber.status !== 'ready') return;
      const timer = setTimeout(() => {
        this.retryTimers.delete(timer);
        if (!this.closed && this.channels.get(name) === channel) this.resubscribe(name, channel);
      }, 1000);
      this.retryTimers.add(timer);
    });
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('pubsub is closed');
  }
}
