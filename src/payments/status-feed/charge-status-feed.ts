import type { Logger } from 'pino';
import { LISTEN, type ListenableStream, type PubSub, type StreamListener } from '../../realtime/ports.js';
import type { Charge } from '../model.js';
import {
  chargeStatusEventOf,
  chargeStatusTopic,
  fromChargeStatusMessage,
  statusRank,
  type ChargeStatusEvent,
} from './charge-status-event.js';
import { ChargeNotFoundError } from './errors.js';
import { FreshReads } from './fresh-reads.js';
import { SharedTopics, type TopicListener, type TopicMember } from './shared-topics.js';
import type { ReconciliationPoller } from './reconciliation-poller.js';

export interface ChargeStatusFeedOptions {
  pubsub: PubSub<unknown>;
  /** The charge's current state from Omise; null when Omise does not know it. */
  loadCharge: (chargeId: string) => Promise<Charge | null>;
  /** Polls pending charges while they have subscribers here; omit to rely on webhooks alone. */
  poller?: ReconciliationPoller;
  logger: Logger;
  now?: () => number;
  /**
   * Backoff of the retried first read when Omise fails (5xx, 429, timeout): the first retry after
   * initialDelayMs, doubling up to maxDelayMs, each ±20%.
   * @default { initialDelayMs: 250, maxDelayMs: 10_000 }
   */
  readRetry?: { initialDelayMs: number; maxDelayMs: number };
}

export const DEFAULT_READ_RETRY = Object.freeze({ initialDelayMs: 250, maxDelayMs: 10_000 });

/**
 * The `chargeStatus` subscription. A subscriber gets the charge's current state first, then every
 * change of status, and the iteration completes right after a terminal status. Because the current
 * state always comes first, a message missed while disconnected does no harm: subscribing again
 * yields the outcome.
 */
export class ChargeStatusFeed {
  private readonly now: () => number;
  private readonly open = new Set<ChargeStatusIterator>();
  /** Concurrent subscribers of one charge share a read of its state (N subscribers, not N Omise calls). */
  private readonly reads: FreshReads<Charge | null>;
  /** ...and one topic subscription, each message decoded once for all of them. */
  private readonly topics: SharedTopics;
  /**
   * The event of each charge state read, by the read's object: subscribers that shared a read (or a poll)
   * get the same event object, so that its execution and serialisation are shared too (src/server).
   * Not for a status whose time is when it was observed (Omise gives none): that stays per subscriber.
   */
  private readonly events = new WeakMap<Charge, ChargeStatusEvent>();

  constructor(private readonly options: ChargeStatusFeedOptions) {
    this.now = options.now ?? Date.now;
    this.reads = new FreshReads((chargeId) => options.loadCharge(chargeId));
    this.topics = new SharedTopics(options.pubsub);
  }

  /**
   * Subscribes to the topic FIRST, then reads the current state, so that a change published in
   * between is not lost (it arrives on the topic; the rank filter drops it if the read already had it).
   * The read may be shared with concurrent subscribers of the same charge, but only a read that started
   * after this subscription was in place: an earlier one could predate a change this subscriber missed.
   *
   * Rejects with ChargeNotFoundError for an unknown charge (nothing stays subscribed). When Omise fails
   * instead (5xx, 429, timeout), the subscription stays open: the read is retried with backoff until it
   * succeeds, while the topic keeps delivering whatever is published meanwhile, so a phone does not have
   * to notice the failure and subscribe again. Should a retried read find no such charge, the stream
   * completes (a client subscribing again then gets the not-found error).
   */
  async subscribe(chargeId: string): Promise<ListenableStream<ChargeStatusEvent>> {
    const subscription = await this.topics.join(chargeStatusTopic(chargeId));
    let charge: Charge | null | undefined;
    let firstError: unknown;
    try {
      charge = await this.reads.read(chargeId, this.reads.mark());
    } catch (error) {
      firstError = error;
    }
    if (charge === null) {
      subscription.close();
      throw new ChargeNotFoundError(chargeId);
    }
    const iterator = new ChargeStatusIterator(subscription, this.options.logger, () =>
      this.open.delete(iterator),
    );
    this.open.add(iterator);
    if (charge !== undefined) {
      this.begin(iterator, chargeId, charge);
    } else {
      this.options.logger.warn(
        { err: firstError, chargeId },
        'chargeStatus: reading the current state failed; retrying with backoff, subscription kept open',
      );
      void this.retryFirstRead(iterator, chargeId);
    }
    iterator.start();
    return iterator;
  }

  /** Queues the current state and, while it is not terminal, joins the poll loop. */
  private begin(iterator: ChargeStatusIterator, chargeId: string, charge: Charge): void {
    const current = this.eventOf(charge);
    iterator.offer(current);
    if (!current.terminal && !iterator.isEnded && this.options.poller) {
      iterator.setUnwatch(
        this.options.poller.watch(chargeId, (polled) => iterator.offer(this.eventOf(polled))),
      );
    }
  }

  private eventOf(charge: Charge): ChargeStatusEvent {
    let event = this.events.get(charge);
    if (event === undefined) {
      const observedAt = new Date(this.now());
      event = chargeStatusEventOf(charge, observedAt);
      // Only when the time comes from the charge: an event stamped "when observed" is each subscriber's.
      if (event.occurredAt !== observedAt) this.events.set(charge, event);
    }
    return event;
  }

  private async retryFirstRead(iterator: ChargeStatusIterator, chargeId: string): Promise<void> {
    const { initialDelayMs, maxDelayMs } = this.options.readRetry ?? DEFAULT_READ_RETRY;
    let delayMs = initialDelayMs;
    for (let attempt = 2; ; attempt++) {
      await iterator.sleep(delayMs * (0.8 + Math.random() * 0.4));
      // The client left, or the outcome arrived on the topic meanwhile: nothing more to read.
      if (iterator.isEnded) return;
      let charge: Charge | null;
      try {
        // Not started at all if the client leaves before its turn (ReadNotWantedError).
        charge = await this.reads.read(chargeId, this.reads.mark(), () => !iterator.isEnded);
      } catch (error) {
        if (iterator.isEnded) return;
        this.options.logger.debug({ err: error, chargeId, attempt }, 'chargeStatus: read failed again');
        delayMs = Math.min(delayMs * 2, maxDelayMs);
        continue;
      }
      if (iterator.isEnded) return;
      if (charge === null) {
        this.options.logger.warn({ chargeId }, 'chargeStatus: no such charge; completing the stream');
        iterator.end();
        return;
      }
      this.options.logger.info({ chargeId, attempt }, 'chargeStatus: current state read after retries');
      this.begin(iterator, chargeId, charge);
      return;
    }
  }

  /** Subscriptions currently open on this instance. */
  get openCount(): number {
    return this.open.size;
  }

  /** Ends every open subscription (shutdown): each completes, as if the client had left. */
  async close(): Promise<void> {
    await Promise.all([...this.open].map((iterator) => iterator.return()));
  }
}

/**
 * Merges the topic and the poller into one ordered, forward-only stream for one subscriber. Written by
 * hand rather than as an async generator: a generator's return() waits for a pending next() (i.e. for
 * the next message, possibly never), whereas this one's return() unsubscribes at once. The topic hands
 * its messages over synchronously (a listener, not an async loop of its own): one event reaches a
 * subscriber's next() with one promise, however many subscribers share the topic.
 */
class ChargeStatusIterator implements ListenableStream<ChargeStatusEvent>, TopicListener {
  private readonly queue: ChargeStatusEvent[] = [];
  /** Pending next() calls, oldest first (only while the queue is empty). */
  private readonly waiting: Array<(result: IteratorResult<ChargeStatusEvent>) => void> = [];
  /** Rank of the last status queued; -1 until the current state is known. */
  private lastRank = -1;
  /** No more events will be queued (terminal status queued, topic ended, or closed). */
  private ended = false;
  /** Wakes a pending sleep() early when the iterator ends. */
  private wakeSleeper: (() => void) | undefined;
  private finished = false;
  private unwatch: (() => void) | undefined;
  private released = false;
  /** Takes every event instead of next() once set (LISTEN). */
  private listener: StreamListener<ChargeStatusEvent> | undefined;

  constructor(
    private readonly subscription: TopicMember,
    private readonly logger: Logger,
    private readonly onFinish: () => void,
  ) {}

  get isEnded(): boolean {
    return this.ended;
  }

  /** Resolves after `ms`, or at once when the iterator ends meanwhile. */
  sleep(ms: number): Promise<void> {
    if (this.ended) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref();
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeSleeper = done;
    });
  }

  /**
   * No more events: whatever is queued is still delivered, then the stream completes. Also when the
   * topic ends (TopicListener; broker shutdown): a client that sees completion without a terminal status
   * subscribes again and gets the current state first.
   */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.release();
    this.wakeIfDone();
  }

  setUnwatch(unwatch: () => void): void {
    this.unwatch = unwatch;
  }

  /** Starts reading the topic (or releases it at once when the current state is already terminal). */
  start(): void {
    if (this.ended) {
      this.release();
      return;
    }
    this.subscription.listen(this);
  }

  /** Queues an event if it moves this subscriber forward; anything else is stale or a duplicate. */
  offer(event: ChargeStatusEvent): void {
    if (this.ended) return;
    const rank = statusRank(event.status);
    if (rank <= this.lastRank) return;
    this.lastRank = rank;
    if (event.terminal) {
      this.ended = true;
      // The terminal event is queued; the topic and the poller are no longer needed.
      this.release();
    }
    this.deliver(event);
  }

  next(): Promise<IteratorResult<ChargeStatusEvent>> {
    const event = this.queue.shift();
    if (event) return Promise.resolve({ value: event, done: false });
    if (this.ended) {
      this.finish();
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Hands what is queued, then every later event and the end, to `listener` synchronously. */
  [LISTEN](listener: StreamListener<ChargeStatusEvent>): void {
    if (this.listener !== undefined || this.waiting.length > 0 || this.finished) return;
    this.listener = listener;
    for (const event of this.queue.splice(0)) {
      // The listener may leave on any event (return()).
      if (this.listener !== listener) return;
      listener.item(event);
    }
    this.endListenerIfDone();
  }

  async return(): Promise<IteratorResult<ChargeStatusEvent>> {
    this.ended = true;
    this.listener = undefined;
    this.queue.length = 0;
    this.finish();
    return { value: undefined, done: true };
  }

  async throw(error?: unknown): Promise<IteratorResult<ChargeStatusEvent>> {
    await this.return();
    throw error;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<ChargeStatusEvent> {
    return this;
  }

  private deliver(event: ChargeStatusEvent): void {
    const listener = this.listener;
    if (listener !== undefined) {
      listener.item(event);
      this.endListenerIfDone();
      return;
    }
    const waiting = this.waiting.shift();
    if (waiting) {
      waiting({ value: event, done: false });
    } else {
      this.queue.push(event);
    }
  }

  /** A message of the topic (TopicListener): decoded once per message object, then offered. */
  message(message: unknown): void {
    if (this.ended) return;
    let event: ChargeStatusEvent;
    try {
      event = decoded(message);
    } catch (error) {
      this.logger.warn({ err: error }, 'dropped an unreadable charge status message');
      return;
    }
    this.offer(event);
  }

  /** The topic failed: complete, as when it ends. */
  fail(error: unknown): void {
    this.logger.warn({ err: error }, 'charge status topic failed');
    this.end();
  }

  /** Once ended, the listener is told so (once) and the stream is finished. */
  private endListenerIfDone(): void {
    const listener = this.listener;
    if (!this.ended || listener === undefined) return;
    this.listener = undefined;
    this.finish();
    listener.end();
  }

  private wakeIfDone(): void {
    this.endListenerIfDone();
    if (this.ended && this.queue.length === 0 && this.waiting.length > 0) {
      const waiting = this.waiting.splice(0);
      this.finish();
      for (const resolve of waiting) resolve({ value: undefined, done: true });
    }
  }

  /** Unsubscribes from the topic and leaves the poll loop; safe to call more than once. */
  private release(): void {
    if (this.released) return;
    this.released = true;
    this.wakeSleeper?.();
    this.unwatch?.();
    this.unwatch = undefined;
    try {
      this.subscription.close();
    } catch (error) {
      this.logger.warn({ err: error }, 'could not close a charge status subscription');
    }
  }

  private finish(): void {
    this.release();
    if (!this.finished) {
      this.finished = true;
      this.onFinish();
    }
    this.wakeIfDone();
  }
}

/** Decoded messages by message object: the members of a shared topic receive the same object. */
const decodedMessages = new WeakMap<object, ChargeStatusEvent>();

function decoded(message: unknown): ChargeStatusEvent {
  if (typeof message !== 'object' || message === null) return fromChargeStatusMessage(message);
  let event = decodedMessages.get(message);
  if (event === undefined) {
    event = fromChargeStatusMessage(message);
    decodedMessages.set(message, event);
  }
  return event;
}
