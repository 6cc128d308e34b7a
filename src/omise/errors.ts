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

/** Omise answered with an error object (`{"object":"error", ...}`) or a non-2xx status. */
export class OmiseError extends OmiseClientError {
  override name = 'OmiseError';
  constructor(
    readonly status: number,
    readonly code: string,
    readonly omiseMessage: string,
    readonly location: string | undefined,
    method: string,
    path: string,
    /** Seconds Omise asked to wait (`Retry-After`), when it said. */
    readonly retryAfterSeconds?: number,
  ) {
    super(`Omise ${method} ${path} failed: ${status} ${code}: ${omiseMessage}`, method, path);
  }

  /** 4xx other than 429: the request itself was refused; repeating it changes nothing. */
  get isClientError(): boolean {
    return this.status >= 400 && this.status < 500 && this.status !== 429;
  }
}

/** The request did not get an answer: connection refused or reset, DNS failure, TLS failure... */
export class OmiseNetworkError extends OmiseClientError {
  override name = 'OmiseNetworkError';
  constructor(
    method: string,
    path: string,
    /** Node's error code (`ECONNREFUSED`, `ECONNRESET`, ...) when known. */
    readonly causeCode: string | undefined,
    /** false only when the request provably never reached Omise (e.g. connection refused). */
    readonly mayHaveReachedServer: boolean,
    options?: ErrorOptions,
  ) {
    super(
      `Omise ${method} ${path} failed: network error${causeCode ? ` (${causeCode})` : ''}`,
      method,
      path,
      options,
    );
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
