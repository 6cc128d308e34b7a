/**
 * Errors of the shared-state adapters. Messages name the operation and the topic or key only: never a
 * Redis URL (it may carry a password) nor a message body.
 */

/**
 * The shared store (Redis) could not carry out an operation: it is unreachable, the connection dropped
 * while the command was in flight, or it did not answer in time. The original error is the `cause`.
 * Callers treat it as "temporarily unavailable" (GraphQL error / HTTP 503; a webhook answers 5xx so
 * that Omise retries). For a write the outcome is unknown: it may have been applied just before the
 * connection dropped.
 */
export class RealtimeUnavailableError extends Error {
  override name = 'RealtimeUnavailableError';
  constructor(
    /** What was attempted, e.g. `publish`, `setIfAbsent`, `subscribe`. */
    readonly operation: string,
    options?: ErrorOptions,
  ) {
    super(`shared state unavailable: ${operation} failed${describeCause(options?.cause)}`, options);
  }
}

/**
 * A subscriber did not keep up: more than `limit` messages were waiting for it. The subscription has
 * been closed; its iteration yields the messages that were queued, then throws this error. Nothing is
 * dropped silently: the consumer learns that it must re-read the current state.
 */
export class SubscriptionOverflowError extends Error {
  override name = 'SubscriptionOverflowError';
  constructor(
    readonly topic: string,
    readonly limit: number,
  ) {
    super(`subscription to ${topic} closed: more than ${limit} undelivered messages`);
  }
}

function describeCause(cause: unknown): string {
  return cause instanceof Error ? `: ${cause.message}` : '';
}
