/**
 * When the Omise client repeats a call, and how long it waits first. Pure functions, so that every rule
 * is unit-tested on its own (test/omise/retry-policy.test.ts).
 *
 * Omise has no idempotency keys (no official SDK sends one), so repeating a POST that Omise may have
 * processed can create a second charge or refund. The rules are therefore:
 * - GET (and other idempotent methods) are retried on network errors, timeouts, 429 and 5xx.
 * - POST/PATCH are retried only when the request provably did not reach Omise: the connection was refused,
 *   the host name did not resolve, the TCP connect timed out, or Omise answered 429 (rate limits are
 *   checked before a request is processed, so a 429 means nothing happened). A POST that timed out, whose
 *   connection was reset or closed after it was sent, or that got a 5xx is NOT retried: the caller must
 *   reconcile (re-read the charge) instead.
 */

/** How one attempt failed, as far as the retry decision is concerned. */
export type AttemptFailure =
  /** Omise (or something in front of it) answered with an error status. */
  | { kind: 'status'; status: number; retryAfterMs?: number }
  /** No answer: see `mayHaveReachedServer`. */
  | { kind: 'network'; code: string | undefined; mayHaveReachedServer: boolean }
  /** No complete answer within the timeout; the request may have been processed. */
  | { kind: 'timeout' };

export interface RetryPolicyOptions {
  /** Attempts in total, the first one included (1 = never retry). */
  maxAttempts: number;
  /** Backoff base: the first retry waits up to this long, then it doubles. */
  baseDelayMs: number;
  /** Upper bound of a backoff delay. */
  maxDelayMs: number;
  /** Upper bound of a wait asked for by `Retry-After`. */
  maxRetryAfterMs: number;
  /** Source of randomness for the jitter, in [0, 1). */
  random?: () => number;
}

export type RetryDecision = { retry: true; delayMs: number } | { retry: false };

/** Node error codes proving that no byte of the request reached the server. */
const NEVER_SENT_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  // undici's connect timeout: the TCP (or TLS) connection was never established.
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** true when a network error with this code proves the request was never sent. */
export function provablyNotSent(code: string | undefined): boolean {
  return code !== undefined && NEVER_SENT_CODES.has(code);
}

const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

export function isIdempotent(method: string): boolean {
  return IDEMPOTENT_METHODS.has(method.toUpperCase());
}

/** Statuses worth repeating an idempotent call for. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status <= 599);
}

/** Whether a call with this method that failed this way may be sent again (attempts aside). */
export function isRetryable(method: string, failure: AttemptFailure): boolean {
  if (isIdempotent(method)) {
    return failure.kind !== 'status' || isRetryableStatus(failure.status);
  }
  switch (failure.kind) {
    case 'network':
      return !failure.mayHaveReachedServer;
    case 'status':
      // Omise rate-limits before processing: a 429 POST changed nothing and is safe to send again.
      return failure.status === 429;
    case 'timeout':
      return false;
  }
}

/**
 * Exponential backoff with full jitter (a uniformly random wait in [0, min(max, base·2^(n-1))]) so
 * that many clients failing together do not retry together. `retryNumber` starts at 1.
 */
export function backoffDelayMs(retryNumber: number, options: RetryPolicyOptions): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, retryNumber - 1));
  const random = options.random ?? Math.random;
  return Math.floor(random() * ceiling);
}

/**
 * `Retry-After` as milliseconds from now: either delta-seconds (`120`) or an HTTP date. undefined when
 * absent or unreadable; never negative.
 */
export function parseRetryAfterMs(value: string | null | undefined, nowMs: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

/**
 * The decision after attempt number `attempt` (1-based) failed: retry after `delayMs`, or give up.
 * A server-given `Retry-After` replaces the backoff (capped by `maxRetryAfterMs`).
 */
export function decideRetry(
  method: string,
  attempt: number,
  failure: AttemptFailure,
  options: RetryPolicyOptions,
): RetryDecision {
  if (attempt >= options.maxAttempts || !isRetryable(method, failure)) return { retry: false };
  if (failure.kind === 'status' && failure.retryAfterMs !== undefined) {
    return { retry: true, delayMs: Math.min(failure.retryAfterMs, options.maxRetryAfterMs) };
  }
  return { retry: true, delayMs: backoffDelayMs(attempt, options) };
}
