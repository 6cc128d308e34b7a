/**
 * The shared-state ports. Each has a memory adapter (one instance) and a Redis adapter (several
 * instances behind a load balancer, REDIS_URL); both pass one shared test suite.
 */

/** A small key-value store with expiry; every method is atomic on its key. */
export interface KeyValueStore {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /** Stores the value only when the key is absent; true when it was stored. */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  /** Stores `n` when the key is absent or holds a smaller number; true when it was stored. */
  setIfGreater(key: string, n: number, ttlMs: number): Promise<boolean>;
  delete(key: string): Promise<void>;
  /** Resolves when the store answers (readiness). */
  ping(): Promise<void>;
}

/**
 * One live subscription to a topic. Iterate it (once) for messages, in publish order; `close()` or
 * leaving a `for await` loop ends the iteration (a pending `next()` resolves done). A subscriber that
 * falls too far behind (default 1000 queued messages) gets the queued messages, then the iteration
 * throws `SubscriptionOverflowError`: nothing is skipped silently.
 */
export interface TopicSubscription<T> extends AsyncIterable<T> {
  close(): Promise<void>;
}

/**
 * Topic-based publish/subscribe whose messages are JSON-serialisable values. Messages travel as JSON
 * in both adapters: subscribers receive plain data (a `Date` arrives as its ISO string) and each gets
 * its own copy.
 */
export interface PubSub<T = unknown> {
  /**
   * Rejects when the message could not be handed to the broker (the caller must not acknowledge), and
   * with TypeError for a value JSON cannot carry. Never waits for subscribers.
   */
  publish(topic: string, message: T): Promise<void>;
  /**
   * Resolves once the subscription is established, so that anything published after that resolves is
   * delivered to it: callers subscribe first, then read the current state, and miss nothing between.
   * Nothing published before the call is replayed.
   */
  subscribe(topic: string): Promise<TopicSubscription<T>>;
  ping(): Promise<void>;
  /** Ends every subscription; later calls reject. */
  close(): Promise<void>;
}

/**
 * A stream that can hand its items over synchronously instead of through `next()`: one call per item,
 * no promise (the WebSocket server reads chargeStatus streams so; 10,000 subscribers of one event are
 * then 10,000 calls, not 10,000 promise resolutions). Called at most once, before any `next()`; from
 * then on every item, and the end, go to the listener, until `return()`.
 */
export const LISTEN = Symbol('listen');

export interface StreamListener<T> {
  item(value: T): void;
  /** Nothing more will come. */
  end(): void;
  fail(error: unknown): void;
}

export interface ListenableStream<T> extends AsyncIterableIterator<T> {
  [LISTEN](listener: StreamListener<T>): void;
  /** Stops the stream at once: nothing more reaches the listener. */
  return(): Promise<IteratorResult<T>>;
}
