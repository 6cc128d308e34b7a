import { inspect } from 'node:util';
import type { Logger } from 'pino';
import type { OmiseApi } from './api.js';
import { OmiseError } from './errors.js';
import { OmiseHttp, type AuthKind, type HttpMethod, type ResponseBody } from './omise-http.js';
import { MAX_PAGE_SIZE } from './paginate.js';
import {
  parseCharge,
  parseChargeList,
  parseEvent,
  parseEventList,
  parseRefund,
  parseRefundList,
  parseSource,
  ResponseShapeError,
} from './response-schemas.js';
import type {
  CreateChargeParams,
  CreateRefundParams,
  CreateSourceParams,
  ListParams,
  OmiseCharge,
  OmiseEvent,
  OmiseList,
  OmiseRefund,
  OmiseSource,
  UpdateChargeParams,
} from './types.js';
import { defaultUserAgent } from './user-agent.js';

export interface OmiseClientOptions {
  /** Omise's API root, e.g. `https://api.omise.co` or the simulator's URL. */
  baseUrl: string;
  /** `skey_…`: every call but sources when a public key is given. */
  secretKey: string;
  /** `pkey_…`: used for creating and reading sources when given (as Omise.js would). */
  publicKey?: string;
  /**
   * Sent as `Omise-Version`.
   * @default '2019-05-29'
   */
  apiVersion?: string;
  /**
   * Per attempt, headers and body included.
   * @default 10_000 ms
   */
  timeoutMs?: number;
  /**
   * Attempts for a call that may be retried, the first included.
   * @default 3
   */
  maxAttempts?: number;
  /** Each call is logged at debug level (method, path, status, duration, attempt; never headers). */
  logger?: Logger;
  /**
   * @default 'truemoney-graphql-gateway/<version> node/<version>'
   */
  userAgent?: string;
  /**
   * Backoff base before the first retry (full jitter, doubling).
   * @default 200 ms
   */
  retryBaseDelayMs?: number;
  /**
   * Largest backoff delay.
   * @default 5_000 ms
   */
  retryMaxDelayMs?: number;
  /**
   * Largest wait honoured from a `Retry-After` header.
   * @default 10_000 ms
   */
  maxRetryAfterMs?: number;
  /** Replaces the global fetch (tests, proxies). */
  fetch?: typeof globalThis.fetch;
  /** Replaces the wait between attempts (tests record the delays instead of sleeping). */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Clock for `Retry-After` HTTP dates.
   * @default Date.now
   */
  now?: () => number;
  /**
   * Randomness for the backoff jitter, in [0, 1).
   * @default Math.random
   */
  random?: () => number;
}

export const DEFAULT_API_VERSION = '2019-05-29';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A path segment from an id: encoded, so that an id can never climb to another resource. */
const seg = (id: string) => encodeURIComponent(id);

function listQuery(params: ListParams = {}): Record<string, string> {
  const query: Record<string, string> = {};
  if (params.limit !== undefined) {
    query.limit = String(Math.min(MAX_PAGE_SIZE, Math.max(1, Math.floor(params.limit))));
  }
  if (params.offset !== undefined) query.offset = String(Math.max(0, Math.floor(params.offset)));
  if (params.from !== undefined) query.from = toIso(params.from);
  if (params.to !== undefined) query.to = toIso(params.to);
  if (params.order !== undefined) query.order = params.order;
  return query;
}

function toIso(value: Date | string): string {
  return value instanceof Date ? value.toISOString() : value;
}

/** Longest wait the client honours between two attempts (a larger `Retry-After` is capped). */
export const DEFAULT_MAX_RETRY_AFTER_MS = 10_000;

/** The typed Omise REST client (see OmiseApi for what each call does and how it fails). */
export class OmiseClient implements OmiseApi {
  readonly #http: OmiseHttp;
  readonly #sourceAuth: AuthKind;
  readonly #baseUrl: string;
  readonly #apiVersion: string;

  constructor(options: OmiseClientOptions) {
    if (!options.secretKey) throw new TypeError('OmiseClient: secretKey is required');
    this.#baseUrl = options.baseUrl;
    this.#apiVersion = options.apiVersion ?? DEFAULT_API_VERSION;
    this.#sourceAuth = options.publicKey ? 'public' : 'secret';
    this.#http = new OmiseHttp({
      baseUrl: options.baseUrl,
      secretKey: options.secretKey,
      ...(options.publicKey ? { publicKey: options.publicKey } : {}),
      apiVersion: this.#apiVersion,
      timeoutMs: options.timeoutMs ?? 10_000,
      userAgent: options.userAgent ?? defaultUserAgent(),
      retry: {
        maxAttempts: Math.max(1, Math.floor(options.maxAttempts ?? 3)),
        baseDelayMs: options.retryBaseDelayMs ?? 200,
        maxDelayMs: options.retryMaxDelayMs ?? 5_000,
        maxRetryAfterMs: options.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS,
        ...(options.random ? { random: options.random } : {}),
      },
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
      sleep: options.sleep ?? sleep,
      now: options.now ?? Date.now,
    });
  }

  #json<T>(
    method: HttpMethod,
    path: string,
    parse: (body: unknown) => T,
    extra: { json?: unknown; query?: Record<string, string>; auth?: AuthKind; maxAttempts?: number } = {},
  ): Promise<T> {
    return this.#http.call({
      method,
      path,
      auth: extra.auth ?? 'secret',
      read: (body: ResponseBody) => parse(body.json()),
      ...(extra.json !== undefined ? { json: extra.json } : {}),
      ...(extra.query ? { query: extra.query } : {}),
      ...(extra.maxAttempts !== undefined ? { maxAttempts: extra.maxAttempts } : {}),
    });
  }

  createSource(params: CreateSourceParams): Promise<OmiseSource> {
    return this.#json('POST', '/sources', parseSource, { json: params, auth: this.#sourceAuth });
  }

  retrieveSource(id: string): Promise<OmiseSource> {
    return this.#json('GET', `/sources/${seg(id)}`, parseSource, { auth: this.#sourceAuth });
  }

  createCharge(params: CreateChargeParams): Promise<OmiseCharge> {
    return this.#json('POST', '/charges', parseCharge, { json: params });
  }

  retrieveCharge(id: string): Promise<OmiseCharge> {
    return this.#json('GET', `/charges/${seg(id)}`, parseCharge);
  }

  listCharges(params?: ListParams): Promise<OmiseList<OmiseCharge>> {
    return this.#json('GET', '/charges', parseChargeList, { query: listQuery(params) });
  }

  updateCharge(id: string, params: UpdateChargeParams): Promise<OmiseCharge> {
    return this.#json('PATCH', `/charges/${seg(id)}`, parseCharge, { json: params });
  }

  expireCharge(id: string): Promise<OmiseCharge> {
    return this.#json('POST', `/charges/${seg(id)}/expire`, parseCharge);
  }

  markChargeAsPaid(id: string): Promise<OmiseCharge> {
    return this.#json('POST', `/charges/${seg(id)}/mark_as_paid`, parseCharge);
  }

  markChargeAsFailed(id: string): Promise<OmiseCharge> {
    return this.#json('POST', `/charges/${seg(id)}/mark_as_failed`, parseCharge);
  }

  createRefund(chargeId: string, params: CreateRefundParams): Promise<OmiseRefund> {
    return this.#json('POST', `/charges/${seg(chargeId)}/refunds`, parseRefund, { json: params });
  }

  listRefunds(chargeId: string, params?: ListParams): Promise<OmiseList<OmiseRefund>> {
    return this.#json('GET', `/charges/${seg(chargeId)}/refunds`, parseRefundList, {
      query: listQuery(params),
    });
  }

  listAllRefunds(params?: ListParams): Promise<OmiseList<OmiseRefund>> {
    return this.#json('GET', '/refunds', parseRefundList, { query: listQuery(params) });
  }

  retrieveRefund(chargeId: string, refundId: string): Promise<OmiseRefund> {
    return this.#json('GET', `/charges/${seg(chargeId)}/refunds/${seg(refundId)}`, parseRefund);
  }

  listEvents(params?: ListParams): Promise<OmiseList<OmiseEvent>> {
    return this.#json('GET', '/events', parseEventList, { query: listQuery(params) });
  }

  retrieveEvent(id: string): Promise<OmiseEvent> {
    return this.#json('GET', `/events/${seg(id)}`, parseEvent);
  }

  listChargeEvents(chargeId: string, params?: ListParams): Promise<OmiseList<OmiseEvent>> {
    return this.#json('GET', `/charges/${seg(chargeId)}/events`, parseEventList, {
      query: listQuery(params),
    });
  }

  /**
   * The bytes at a document's `download_uri` (the QR PNG). Sent without any key: the URI is a capability
   * of its own and may point at another host. Only http(s) URLs are followed.
   */
  downloadDocument(downloadUri: string): Promise<Uint8Array> {
    const url = URL.canParse(downloadUri) ? new URL(downloadUri) : undefined;
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
      // It came from an Omise answer, so it is a malformed answer, not a programming error.
      return Promise.reject(
        new OmiseError({
          status: 0,
          code: 'unexpected_response',
          omiseMessage: 'download_uri is not an http(s) URL',
          method: 'GET',
          path: '(document)',
        }),
      );
    }
    return this.#http.call({
      method: 'GET',
      path: url.pathname,
      absoluteUrl: url.href,
      auth: 'none',
      read: (body) => {
        if (body.bytes.length === 0) throw new ResponseShapeError('the document is empty');
        return body.bytes;
      },
    });
  }

  /**
   * One authenticated, cheap call (the first charge of the list), tried once: a readiness check wants a
   * prompt answer, not retries.
   */
  async ping(): Promise<void> {
    await this.#json('GET', '/charges', parseChargeList, { query: listQuery({ limit: 1 }), maxAttempts: 1 });
  }

  /** Never the keys: only where the client points. */
  toJSON(): Record<string, unknown> {
    return { baseUrl: this.#baseUrl, apiVersion: this.#apiVersion };
  }

  toString(): string {
    return `OmiseClient(${this.#baseUrl}, Omise-Version ${this.#apiVersion})`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/** How to reach Omise, as configured (config.omise fits). */
export interface OmiseConnectionSettings {
  /** Unset in simulator mode until the simulator has started and handed out its keys. */
  secretKey: string | undefined;
  publicKey: string | undefined;
  apiUrl: string;
  apiVersion: string;
  timeoutMs: number;
  maxAttempts: number;
}

/** The Omise client of these settings; `fetch` lets benchmarks count the requests it sends. */
export function createOmiseClient(
  settings: OmiseConnectionSettings,
  options: { logger?: Logger; fetch?: typeof fetch } = {},
): OmiseClient {
  const { secretKey, publicKey, apiUrl, apiVersion, timeoutMs, maxAttempts } = settings;
  if (secretKey === undefined) {
    throw new Error(
      'config.omise.secretKey is unset: in simulator mode start the simulator first and put its URL and keys into config.omise',
    );
  }
  return new OmiseClient({
    baseUrl: apiUrl,
    secretKey,
    ...(publicKey !== undefined && { publicKey }),
    apiVersion,
    timeoutMs,
    maxAttempts,
    ...(options.logger && { logger: options.logger.child({ component: 'omise' }) }),
    ...(options.fetch && { fetch: options.fetch }),
  });
}
