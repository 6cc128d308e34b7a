import ky, { type KyInstance, type Options as KyOptions } from 'ky';
import { inspect } from 'node:util';
import type { Logger } from 'pino';
import { OmiseError, OmiseNetworkError, OmiseTimeoutError, type OmiseClientError } from './errors.js';
import { createPooledFetch } from './pooled-fetch.js';
import { asErrorBody, ResponseShapeError } from './response-schemas.js';
import {
  decideRetry,
  parseRetryAfterMs,
  provablyNotSent,
  type AttemptFailure,
  type RetryPolicyOptions,
} from './retry-policy.js';

/**
 * One Omise HTTP exchange, with retries: auth, headers, the per-attempt timeout, error mapping and
 * debug logging. Resource methods live in client.ts. ky does the HTTP (prefix URL, query strings,
 * headers, hooks; the deadline and JSON bodies reach the fetch past ky, see PastKy); its own retry is
 * off (`retry: 0`) and `throwHttpErrors` is off, so that the retry rules live in retry-policy.ts and
 * no ky HTTPError (which holds the Request, Authorization included) is ever created. API calls go
 * through a pooled keep-alive fetch over undici (pooled-fetch.ts) unless a `fetch` is given.
 */

export type HttpMethod = 'GET' | 'POST' | 'PATCH';
/** Which key authenticates a call: the public key is for sources only; documents go without auth. */
export type AuthKind = 'secret' | 'public' | 'none';

export interface OmiseCall<T> {
  method: HttpMethod;
  /** Path below the base URL, starting with `/` (`/charges/chrg_x`); ids already URI-encoded. */
  path: string;
  /** Absolute URL instead of `path` (document downloads); `path` is then only used in logs and errors. */
  absoluteUrl?: string;
  query?: Record<string, string>;
  json?: unknown;
  auth: AuthKind;
  /** Turns the body into the result; throw ResponseShapeError when the body is not what was expected. */
  read: (body: ResponseBody) => T;
  /** Overrides the client's attempts (e.g. 1 for a readiness ping). */
  maxAttempts?: number;
}

export interface ResponseBody {
  status: number;
  contentType: string;
  bytes: Uint8Array;
  /** The body parsed as JSON; throws ResponseShapeError when it is not JSON. */
  json(): unknown;
}

export interface OmiseHttpOptions {
  baseUrl: string;
  secretKey: string;
  publicKey?: string;
  apiVersion: string;
  timeoutMs: number;
  userAgent: string;
  retry: RetryPolicyOptions;
  logger?: Logger;
  /** Replaces the pooled fetch of API calls and the global fetch of document downloads. */
  fetch?: typeof globalThis.fetch;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
}

type AttemptOutcome<T> =
  | { ok: true; value: T; status: number }
  | { ok: false; error: OmiseClientError; failure: AttemptFailure; status?: number };

const REDACTED = '[redacted]';

/** The Node error code behind a fetch failure: `TypeError('fetch failed', { cause: { code } })`. */
export function networkErrorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== null && typeof current === 'object'; depth++) {
    const candidate = current as { code?: unknown; errors?: unknown; cause?: unknown };
    if (typeof candidate.code === 'string') return candidate.code;
    // Happy-eyeballs connects fail with an AggregateError whose members carry the codes.
    if (Array.isArray(candidate.errors)) {
      const inner = candidate.errors.map(networkErrorCode).find((code) => code !== undefined);
      if (inner !== undefined) return inner;
    }
    current = candidate.cause;
  }
  return undefined;
}

/**
 * What a call hands its fetch past ky, as options ky does not know: ky passes such options to its
 * `fetch` as the second argument, where {@link sendingVia} turns them into the standard
 * `fetch(request, { signal, body })`, which a standard fetch reads as "this Request, with this signal
 * and this body". Profiles of the create path showed why not through ky:
 * - `deadline`: given to ky as `signal`, it would be merged with ky's own abort controller
 *   (`AbortSignal.any`) and followed by both Requests ky builds, more than the rest of ky's work on a POST.
 * - `jsonBody`: given to ky as `json`, the body becomes a stream in ky's Request, which ky tees to keep a
 *   clone for retries it never makes here (`retry: 0`), and the fetch reads it back from the stream; the
 *   JSON text goes to the fetch as it is instead. ky's Request then carries no body: a `beforeRequest`
 *   hook, were one added, would not see it.
 */
interface PastKy {
  deadline: AbortSignal;
  jsonBody?: string;
}

/** A fetch for ky that sends {@link PastKy}'s deadline and body: `fetch(request, { signal, body })`. */
function sendingVia(fetch: typeof globalThis.fetch): typeof globalThis.fetch {
  return (input, init) => {
    const { deadline, jsonBody, ...rest } = (init ?? {}) as RequestInit & Partial<PastKy>;
    return fetch(input, {
      ...rest,
      ...(deadline !== undefined && { signal: deadline }),
      ...(jsonBody !== undefined && { body: jsonBody }),
    });
  };
}

function isTimeoutError(error: unknown): boolean {
  return error instanceof Error && error.name === 'TimeoutError';
}

export class OmiseHttp {
  readonly #options: OmiseHttpOptions;
  readonly #api: KyInstance;
  readonly #documents: KyInstance;
  /** Built once; held privately so that neither inspect() nor JSON.stringify() can reach it. */
  readonly #authorization: Record<'secret' | 'public', string>;
  readonly #secretForms: string[];

  constructor(options: OmiseHttpOptions) {
    this.#options = options;
    const common = {
      retry: 0,
      timeout: false as const,
      throwHttpErrors: false,
      headers: { 'user-agent': options.userAgent, accept: 'application/json' },
    };
    this.#api = ky.create({
      ...common,
      // Omise does not redirect API calls: a 3xx (a proxy, a wrong base URL) is reported, not followed
      // with our credentials to wherever it points.
      redirect: 'manual',
      fetch: sendingVia(options.fetch ?? createPooledFetch()),
      prefixUrl: options.baseUrl,
      headers: { ...common.headers, 'omise-version': options.apiVersion },
    });
    // No prefix, no Omise headers: a document URL is absolute and may be on another host.
    // Node's own fetch: the host is not Omise's, and its redirects are followed.
    this.#documents = ky.create({
      ...common,
      headers: { 'user-agent': options.userAgent },
      fetch: sendingVia(options.fetch ?? ((input, init) => globalThis.fetch(input, init))),
    });
    const basic = (key: string) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
    this.#authorization = {
      secret: basic(options.secretKey),
      public: basic(options.publicKey ?? options.secretKey),
    };
    this.#secretForms = [options.secretKey, options.publicKey]
      .filter((key): key is string => Boolean(key))
      .flatMap((key) => {
        const bare = key.replace(/^[sp]key_(test_)?/, '');
        const base64 = Buffer.from(`${key}:`).toString('base64');
        // Longest first, so that a key is replaced whole before its bare part is looked for.
        return [base64, base64.replace(/=+$/, ''), key, ...(bare.length >= 8 ? [bare] : [])];
      });
  }

  /**
   * Removes the keys from text that came from elsewhere (an error message, a path) before it is kept:
   * the keys as they are, without their `skey_test_` prefix, and as the Basic credentials on the wire.
   */
  redact(text: string): string {
    let result = text;
    for (const secret of this.#secretForms) {
      if (result.includes(secret)) result = result.split(secret).join(REDACTED);
    }
    return result;
  }

  async call<T>(call: OmiseCall<T>): Promise<T> {
    const maxAttempts = call.maxAttempts ?? this.#options.retry.maxAttempts;
    const path = this.redact(call.path);
    for (let attempt = 1; ; attempt++) {
      const started = performance.now();
      const outcome = await this.#attempt(call, path);
      // Built only when debug is on: a log object per call costs allocations even when dropped.
      const logger = this.#options.logger;
      if (logger?.isLevelEnabled('debug')) {
        const durationMs = Math.round(performance.now() - started);
        logger.debug(
          {
            method: call.method,
            path,
            status: outcome.status,
            durationMs,
            attempt,
            ...(outcome.ok ? {} : { error: outcome.failure.kind, code: errorCodeOf(outcome.error) }),
          },
          'omise call',
        );
      }
      if (outcome.ok) return outcome.value;
      const decision = decideRetry(call.method, attempt, outcome.failure, {
        ...this.#options.retry,
        maxAttempts,
      });
      if (!decision.retry) throw outcome.error;
      this.#options.logger?.debug(
        { method: call.method, path, attempt, delayMs: decision.delayMs },
        'omise call retry scheduled',
      );
      await this.#options.sleep(decision.delayMs);
    }
  }

  async #attempt<T>(call: OmiseCall<T>, path: string): Promise<AttemptOutcome<T>> {
    const { method } = call;
    const { timeoutMs } = this.#options;
    // Our own deadline rather than ky's `timeout`: ky's covers only the wait for the headers, this one
    // also covers reading the body, so a stalled body cannot hang a call.
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), timeoutMs);
    let status: number | undefined;
    try {
      const headers: Record<string, string> = {};
      if (call.auth !== 'none') headers.authorization = this.#authorization[call.auth];
      if (call.json !== undefined) headers['content-type'] = 'application/json';
      const options: KyOptions & PastKy = {
        method,
        headers,
        deadline: deadline.signal,
        ...(call.query ? { searchParams: call.query } : {}),
        ...(call.json !== undefined ? { jsonBody: JSON.stringify(call.json) } : {}),
      };
      const response =
        call.absoluteUrl !== undefined
          ? await this.#documents(call.absoluteUrl, options)
          : await this.#api(call.path.slice(1), options);
      status = response.status;
      const bytes = new Uint8Array(await response.arrayBuffer());
      const body = makeBody(response.status, response.headers.get('content-type') ?? '', bytes);
      if (response.ok) return this.#readSuccess(call, path, body);
      const retryAfterMs = parseRetryAfterMs(response.headers.get('retry-after'), this.#options.now());
      return {
        ok: false,
        status,
        error: this.#errorFromBody(call, path, body, retryAfterMs),
        failure: { kind: 'status', status, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) },
      };
    } catch (error) {
      if (deadline.signal.aborted || isTimeoutError(error)) {
        return {
          ok: false,
          ...(status !== undefined ? { status } : {}),
          error: new OmiseTimeoutError(method, path, timeoutMs),
          failure: { kind: 'timeout' },
        };
      }
      const code = networkErrorCode(error);
      const mayHaveReachedServer = !provablyNotSent(code);
      // A fresh cause carrying only the low-level message: nothing of the request (headers) is attached.
      const detail =
        error instanceof Error ? (error.cause instanceof Error ? error.cause : error) : undefined;
      const cause = new Error(this.redact(detail ? `${detail.name}: ${detail.message}` : String(error)));
      return {
        ok: false,
        error: new OmiseNetworkError({ method, path, causeCode: code, mayHaveReachedServer, cause }),
        failure: { kind: 'network', code, mayHaveReachedServer },
      };
    } finally {
      clearTimeout(timer);
    }
  }

  #readSuccess<T>(call: OmiseCall<T>, path: string, body: ResponseBody): AttemptOutcome<T> {
    try {
      if (!body.contentType.startsWith('image/')) {
        // SDKs branch on `object == "error"` whatever the status: so does this client.
        const errorBody = asErrorBody(parsedOrUndefined(body));
        if (errorBody)
          return this.#statusFailure(this.#errorFromBody(call, path, body, undefined), body.status);
      }
      return { ok: true, status: body.status, value: call.read(body) };
    } catch (error) {
      if (!(error instanceof ResponseShapeError)) throw error;
      const omiseError = new OmiseError({
        status: body.status,
        code: 'unexpected_response',
        omiseMessage: this.redact(error.message),
        method: call.method,
        path,
      });
      return this.#statusFailure(omiseError, body.status);
    }
  }

  #statusFailure<T>(error: OmiseError, status: number): AttemptOutcome<T> {
    return { ok: false, status, error, failure: { kind: 'status', status } };
  }

  #errorFromBody(
    call: OmiseCall<unknown>,
    path: string,
    body: ResponseBody,
    retryAfterMs: number | undefined,
  ): OmiseError {
    const retryAfterSeconds = retryAfterMs === undefined ? undefined : Math.ceil(retryAfterMs / 1000);
    const errorBody = asErrorBody(parsedOrUndefined(body));
    if (errorBody) {
      return new OmiseError({
        status: body.status,
        code: errorBody.code,
        omiseMessage: this.redact(errorBody.message),
        location: errorBody.location ? this.redact(errorBody.location) : undefined,
        method: call.method,
        path,
        retryAfterSeconds,
      });
    }
    // A proxy's HTML page, an empty body...: say what came, never echo it.
    const kind = body.contentType.split(';')[0]?.trim() || 'no content type';
    return new OmiseError({
      status: body.status,
      code: 'unexpected_response',
      omiseMessage: `HTTP ${body.status} without an Omise error object (${kind}, ${body.bytes.length} bytes)`,
      method: call.method,
      path,
      retryAfterSeconds,
    });
  }

  toJSON(): Record<string, unknown> {
    return { baseUrl: this.#options.baseUrl, apiVersion: this.#options.apiVersion };
  }

  [inspect.custom](): string {
    return `OmiseHttp ${JSON.stringify(this.toJSON())}`;
  }
}

function errorCodeOf(error: OmiseClientError): string | undefined {
  if (error instanceof OmiseError) return error.code;
  if (error instanceof OmiseNetworkError) return error.causeCode;
  return undefined;
}

/** Stateless: one decoder serves every response. */
const utf8 = new TextDecoder();

/** The body's JSON, or undefined when it is not JSON. */
function parsedOrUndefined(body: ResponseBody): unknown {
  try {
    return body.json();
  } catch {
    return undefined;
  }
}

/**
 * The body is parsed at most once, however often json() is called: the success path looks at it for
 * `object: "error"` and then hands it to the call's reader. Callers get the same value each time; the
 * readers validate it and do not change it.
 */
function makeBody(status: number, contentType: string, bytes: Uint8Array): ResponseBody {
  let parsed: { ok: true; value: unknown } | { ok: false } | undefined;
  return {
    status,
    contentType,
    bytes,
    json() {
      if (parsed === undefined) {
        try {
          parsed = { ok: true, value: JSON.parse(utf8.decode(bytes)) };
        } catch {
          parsed = { ok: false };
        }
      }
      if (!parsed.ok) {
        throw new ResponseShapeError(`the body is not JSON (${contentType || 'no content type'})`);
      }
      return parsed.value;
    },
  };
}
