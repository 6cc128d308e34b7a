/**
 * Errors thrown by the Omise client. Each says which call failed (method and path, never the key or
 * the body) so that a log line is useful on its own and safe to keep.
 */

/** What every Omise client error carries: the call that failed. */
export abstract class OmiseClientError extends Error {
  constructor(
    message: string,
    readonly method: string,
    readonly path: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** What {@link OmiseError} is made from. */
export interface OmiseErrorDetails {
  /** The HTTP status (0 for an answer that is unusable before any status applies, e.g. a bad URI). */
  status: number;
  /** Omise's `code` (`not_found`, `invalid_charge`...), or `unexpected_response`. */
  code: string;
  /** Omise's `message`, redacted. */
  omiseMessage: string;
  /** Omise's `location` (a documentation link), when given. */
  location?: string | undefined;
  method: string;
  path: string;
  /** Seconds Omise asked to wait (`Retry-After`), when it said. */
  retryAfterSeconds?: number | undefined;
}

/** Omise answered with an error object (`{"object":"error", ...}`) or a non-2xx status. */
export class OmiseError extends OmiseClientError {
  override name = 'OmiseError';
  readonly status: number;
  readonly code: string;
  readonly omiseMessage: string;
  readonly location: string | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(details: OmiseErrorDetails) {
    const { status, code, omiseMessage, method, path } = details;
    super(`Omise ${method} ${path} failed: ${status} ${code}: ${omiseMessage}`, method, path);
    this.status = status;
    this.code = code;
    this.omiseMessage = omiseMessage;
    this.location = details.location;
    this.retryAfterSeconds = details.retryAfterSeconds;
  }

  /** 4xx other than 429: the request itself was refused; repeating it changes nothing. */
  get isClientError(): boolean {
    return this.status >= 400 && this.status < 500 && this.status !== 429;
  }
}

/** The request did not get an answer: connection refused or reset, DNS failure, TLS failure... */
export class OmiseNetworkError extends OmiseClientError {
  override name = 'OmiseNetworkError';
  /** Node's error code (`ECONNREFUSED`, `ECONNRESET`, ...) when known. */
  readonly causeCode: string | undefined;
  /** false only when the request provably never reached Omise (e.g. connection refused). */
  readonly mayHaveReachedServer: boolean;

  constructor(details: {
    method: string;
    path: string;
    causeCode: string | undefined;
    mayHaveReachedServer: boolean;
    /** The low-level error, without anything of the request. */
    cause?: unknown;
  }) {
    const { method, path, causeCode } = details;
    super(
      `Omise ${method} ${path} failed: network error${causeCode ? ` (${causeCode})` : ''}`,
      method,
      path,
      'cause' in details ? { cause: details.cause } : undefined,
    );
    this.causeCode = causeCode;
    this.mayHaveReachedServer = details.mayHaveReachedServer;
  }
}

/** No answer within the client's timeout. The request may have been processed by Omise. */
export class OmiseTimeoutError extends OmiseClientError {
  override name = 'OmiseTimeoutError';
  constructor(
    method: string,
    path: string,
    readonly timeoutMs: number,
  ) {
    super(`Omise ${method} ${path} timed out after ${timeoutMs} ms`, method, path);
  }
}

// ---- classification: the one place that decides what a failure means (payments, metrics, webhooks) ----

/** How an Omise call failed; also the `outcome` label of the call metrics. */
export type OmiseFailureKind =
  /** Omise answered and refused (4xx but 429), or answered something unreadable. */
  | 'rejected'
  | 'rate_limited'
  | 'server_error'
  | 'timeout'
  | 'network_error'
  /** Not an Omise client error. */
  | 'error';

export function omiseFailureKind(err: unknown): OmiseFailureKind {
  if (err instanceof OmiseError) {
    if (err.status === 429) return 'rate_limited';
    return err.status >= 500 ? 'server_error' : 'rejected';
  }
  if (err instanceof OmiseTimeoutError) return 'timeout';
  if (err instanceof OmiseNetworkError) return 'network_error';
  return 'error';
}

/** True when Omise refused the gateway's own credentials (401/403): a deployment problem, not the caller's. */
export function isOmiseCredentialsRefusal(err: unknown): boolean {
  return err instanceof OmiseError && (err.status === 401 || err.status === 403);
}

/**
 * True when Omise refused the request itself (4xx other than 429, and other than 401/403, which refuse
 * the gateway's own credentials): repeating it changes nothing, and the caller is told why.
 */
export function isOmiseRejection(err: unknown): err is OmiseError {
  return err instanceof OmiseError && err.isClientError && !isOmiseCredentialsRefusal(err);
}

/** True when Omise says the object does not exist. */
export function isOmiseNotFound(err: unknown): boolean {
  return err instanceof OmiseError && (err.status === 404 || err.code === 'not_found');
}

/**
 * Whether Omise may have processed a write that failed with `err`: a timeout or a dropped connection
 * after sending (the request may be in flight or done), a 5xx (Omise answered; the outcome is visible by
 * listing), or a 2xx/3xx the client could not read (a 200 whose body is not the expected object: the
 * charge or refund WAS made). Only 4xx (429 included) and connection-refused provably changed nothing.
 */
export function mayHaveBeenProcessed(err: unknown): boolean {
  if (err instanceof OmiseTimeoutError) return true;
  if (err instanceof OmiseNetworkError) return err.mayHaveReachedServer;
  if (err instanceof OmiseError) return err.status < 400 || err.status >= 500;
  return true;
}

/** Whether a request that failed with `err` may still be running at Omise (no answer was received). */
export function mayStillBeInFlight(err: unknown): boolean {
  return err instanceof OmiseTimeoutError || (err instanceof OmiseNetworkError && err.mayHaveReachedServer);
}
