/**
 * Outcomes of the payment use cases. Expected business failures are values (`UserError` in a failed
 * `Result`); system failures are thrown as the classes below and become GraphQL errors upstream.
 */

export type UserErrorCode =
  | 'AMOUNT_OUT_OF_RANGE'
  | 'INVALID_AMOUNT'
  | 'UNSUPPORTED_CURRENCY'
  | 'INVALID_RETURN_URI'
  | 'METADATA_TOO_LARGE'
  | 'INVALID_DESCRIPTION'
  | 'INVALID_IDEMPOTENCY_KEY'
  | 'IDEMPOTENCY_KEY_REUSED'
  /** An earlier request with this key is still running; retry shortly. */
  | 'IDEMPOTENCY_REQUEST_IN_PROGRESS'
  /** Metadata that is not a JSON object, or that uses a key reserved by the gateway. */
  | 'INVALID_METADATA'
  /** `first` outside 1..100, or an `after` cursor this gateway did not issue. */
  | 'INVALID_PAGINATION'
  | 'SOURCE_NOT_FOUND'
  | 'SOURCE_TYPE_MISMATCH'
  | 'SOURCE_AMOUNT_MISMATCH'
  | 'SOURCE_ALREADY_USED'
  | 'CHARGE_NOT_FOUND'
  | 'CHARGE_NOT_PENDING'
  | 'CHARGE_NOT_REFUNDABLE'
  | 'REFUND_EXCEEDS_REMAINING'
  | 'REFUND_WINDOW_EXPIRED'
  | 'TOO_MANY_REFUNDS'
  | 'CHARGE_NOT_VOIDABLE'
  | 'NOT_TEST_MODE'
  /** Omise refused the request with a 4xx this gateway did not foresee; the message says why. */
  | 'OMISE_REJECTED';

export interface UserError {
  code: UserErrorCode;
  message: string;
  /** Path of the input field at fault, e.g. ['input', 'amount']. */
  field?: string[];
}

export type Result<T> = { ok: true; value: T } | { ok: false; errors: UserError[] };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = <T = never>(...errors: UserError[]): Result<T> => ({ ok: false, errors });

/** Omise could not be reached, timed out, or answered 5xx after the retries that were safe. */
export class UpstreamUnavailableError extends Error {
  override name = 'UpstreamUnavailableError';
  readonly code = 'UPSTREAM_UNAVAILABLE';
}

/** Omise answered 429 (after safe retries). */
export class UpstreamRateLimitedError extends Error {
  override name = 'UpstreamRateLimitedError';
  readonly code = 'RATE_LIMITED';
  constructor(
    message: string,
    readonly retryAfterSeconds: number | undefined,
  ) {
    super(message);
  }
}
