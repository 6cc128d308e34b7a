import { SubscriptionOverflowError } from './errors.js';
import type { TopicSubscription } from './ports.js';

/** Default bound of a subscription's queue: far above what a charge topic ever carries. */
export const DEFAULT_MAX_QUEUED_MESSAGES = 1000;

interface Waiter<T> {
  resolve(result: IteratorResult<T, undefined>): void;
  reject(error: Error): void;
}

/**
 * One local subscription with its own queue, shared by the memory and Redis adapters. The adapter
 * calls `push` in publish order; publishing never waits for the consumer. When more than `maxQueued`
 * messages wait, the subscription fails with {@link SubscriptionOverflowError} (after yielding what was
 * queued) instead of dropping a payment outcome silently.
 *
 * The subscription is its own iterator: iterate it once. `close()` or leaving a `for await` loop
 * (`return()`) ends the iteration; a pending `next()` then resolves `done`.
 */
export class QueuedSubscription<T> implements TopicSubscription<T>, AsyncIterator<T, undefined> {
  private readonly queue: T[] = [];
  private readonly waiters: Waiter<T>[] = [];
  private state: 'open' | 'failed' | 'done' = 'open';
  private failure: Error | undefined;
  private released: Promise<void> | undefined;

  /**
   * @param accepting false to ignore pushes until {@link activate} (used by Redis to drop what arrives
   * before its subscription is confirmed, i.e. what was published before `subscribe()` resolved)
   */
  constructor(
    readonly topic: string,
    private readonly maxQueued: number,
    /** Detaches the subscription from its adapter; called once. */
    private readonly release: (subscription: QueuedSubscription<T>) => Promise<void>,
    private accepting = true,
  ) {}

  /** Starts accepting pushes (adapter side). */
  activate(): void {
    this.accepting = true;
  }

  /** True until the subscription is closed or has failed. */
  get isOpen(): boolean {
    return this.state === 'open';
  }

  /** Hands over one message (adapter side). Ignored once closed. */
  push(message: T): void {
    if (this.state !== 'open' || !this.accepting) return;
    const waiter = this.waiters.shift();
    if (waiter) {
      waiter.resolve({ value: message, done: false });
    } else if (this.queue.length >= this.maxQueued) {
      this.fail(new SubscriptionOverflowError(this.topic, this.maxQueued));
    } else {
      this.queue.push(message);
    }
  }

  /** Ends the subscription with an error, delivered after the queued messages (adapter side). */
  fail(error: Error): void {
    if (this.state !== 'open') return;
    // Waiters exist only while the queue is empty: they get the error now, else it follows the queue.
    const waiters = this.waiters.splice(0);
    if (waiters.length > 0) {
      this.state = 'done';
      for (const waiter of waiters) waiter.reject(error);
    } else {
      this.state = 'failed';
      this.failure = error;
    }
    void this.detach();
  }

  next(): Promise<IteratorResult<T, undefined>> {
    if (this.queue.length > 0) return Promise.resolve({ value: this.queue.shift() as T, done: false });
    if (this.state === 'failed') {
      const error = this.failure as Error;
      this.state = 'done';
      return Promise.reject(error);
    }
    if (this.state === 'done') return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Called by `for await` on `break`/`return`/`throw`: closes the subscription. */
  async return(): Promise<IteratorResult<T, undefined>> {
    await this.close();
    return { value: undefined, done: true };
  }

  /** Closes the subscription, then rejects with `error` (async-generator semantics). */
  async throw(error?: unknown): Promise<IteratorResult<T, undefined>> {
    await this.close();
    throw error;
  }

  /** Ends the iteration (queued messages are discarded) and detaches from the topic. Idempotent. */
  close(): Promise<void> {
    if (this.state !== 'done') {
      this.state = 'done';
      this.failure = undefined;
      this.queue.length = 0;
      for (const waiter of this.waiters.splice(0)) waiter.resolve({ value: undefined, done: true });
    }
    return this.detach();
  }

  [Symbol.asyncIterator](): AsyncIterator<T, undefined> {
    return this;
  }

  private detach(): Promise<void> {
    // Adapters log their own failures; closing a subscription never rejects.
    this.released ??= this.release(this).catch(() => undefined);
    return this.released;
  }
}
