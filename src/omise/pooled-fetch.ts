import { Agent, type Dispatcher } from 'undici';
import { BufferedResponse } from './buffered-response.js';

/**
 * A `fetch` for ky built on undici's connection pools (`Agent` = one `Pool` per origin, keep-alive)
 * and its `dispatch` API, instead of the WHATWG fetch of Node. Node's fetch pays for the spec on every
 * call (Request/Response streams, header guards, CORS-mode bookkeeping); a profile put one Omise call
 * through it at several hundred µs of CPU more than a plain keep-alive request. ky keeps doing what it
 * does (prefix URL, JSON bodies, query strings, hooks), and the caller gets a `Response`.
 *
 * Made cheap per call, as profiles of the Omise client showed:
 * - ky's `Request` is sent as it is: no second `Request` is built for an `init` that only carries a
 *   `signal` and a text `body` (how the client hands over its deadline and JSON) or nothing (ky passes
 *   `{}`).
 * - The answer is collected by a small dispatch handler (no Node stream per response) and returned as a
 *   {@link BufferedResponse}: the bytes in memory, no `ReadableStream` unless someone asks for `body`.
 *
 * Failures look like the global fetch's, so that the error mapping of omise-http.ts (and with it what
 * `mayHaveBeenProcessed` decides) does not depend on which fetch ran: an abort rejects with the signal's
 * reason (at once, even while the request still waits for a connection), any other failure with
 * `TypeError('fetch failed', { cause })` whose cause carries undici's code (`ECONNREFUSED`,
 * `UND_ERR_SOCKET`, ...), exactly as Node's fetch reports it.
 *
 * Differences, on purpose: redirects are never followed (Omise does not redirect API calls; the API
 * client asks for `redirect: 'manual'` anyway), and no `accept-encoding` is sent, so bodies come
 * uncompressed and are not decoded. The body is read whole before the promise resolves, so the
 * caller's deadline (the signal) covers the body as well as the headers.
 */

export interface PooledFetchOptions {
  /** Idle keep-alive sockets are closed after this long (the server's own keep-alive may be shorter). */
  keepAliveTimeoutMs?: number;
  /** Connections per origin; unlimited by default, like Node's fetch. */
  connections?: number;
  /** The dispatcher to use instead of a new Agent (tests). */
  dispatcher?: Dispatcher;
}

export type PooledFetch = typeof globalThis.fetch & {
  /** Closes the pooled connections; pending requests finish first. */
  close(): Promise<void>;
};

/** Statuses whose Response may not have a body. */
const NULL_BODY_STATUSES: ReadonlySet<number> = new Set([101, 103, 204, 205, 304]);

export function createPooledFetch(options: PooledFetchOptions = {}): PooledFetch {
  const dispatcher =
    options.dispatcher ??
    new Agent({
      keepAliveTimeout: options.keepAliveTimeoutMs ?? 4_000,
      ...(options.connections !== undefined ? { connections: options.connections } : {}),
    });

  const pooledFetch = async (input: Request | string | URL, init?: RequestInit): Promise<Response> => {
    const { url, method, headers, body, signal } = await outgoing(input, init);
    signal?.throwIfAborted();
    return new Promise<Response>((resolve, reject) => {
      const handler = new BufferingHandler(method, signal, resolve, reject);
      try {
        dispatcher.dispatch(
          {
            origin: url.origin,
            path: url.pathname + url.search,
            method: method as Dispatcher.HttpMethod,
            headers,
            body,
          },
          handler,
        );
      } catch (error) {
        handler.onResponseError(undefined, error as Error);
      }
    });
  };
  return Object.assign(pooledFetch, { close: () => dispatcher.close() });
}

interface Outgoing {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body: Buffer | null;
  signal: AbortSignal | undefined;
}

/**
 * What to send. `fetch(request, init)` sends `new Request(request, init)`; when `init` holds nothing but
 * a `signal` and a text `body` (how the Omise client hands over its deadline and its JSON, past ky) or
 * nothing at all (ky passes `{}`), that Request would be `request` with that signal and body, so they
 * are taken as they are instead of building it (and a stream for the body, read back at once).
 */
async function outgoing(input: Request | string | URL, init: RequestInit | undefined): Promise<Outgoing> {
  if (input instanceof Request && (init === undefined || isSignalAndText(init, input))) {
    const headers = headerRecord(input.headers);
    let body: Buffer | null;
    if (typeof init?.body === 'string') {
      body = Buffer.from(init.body, 'utf8');
      // As the Request constructor does for a string body.
      headers['content-type'] ??= 'text/plain;charset=UTF-8';
    } else {
      body = input.body === null ? null : await readWhole(input.body);
    }
    const signal = init !== undefined && 'signal' in init ? (init.signal ?? undefined) : input.signal;
    return { url: new URL(input.url), method: input.method, headers, body, signal };
  }
  const request = new Request(input, init);
  return {
    url: new URL(request.url),
    method: request.method,
    headers: headerRecord(request.headers),
    body: request.body === null ? null : await readWhole(request.body),
    signal: request.signal,
  };
}

/** An init that only replaces the signal and, for a bodiless Request that may have one, the body text. */
function isSignalAndText(init: RequestInit, request: Request): boolean {
  for (const key in init) {
    if (key === 'signal') continue;
    if (key !== 'body') return false;
    const body = init.body;
    if (body === undefined) continue;
    if (typeof body !== 'string' || request.body !== null) return false;
    if (request.method === 'GET' || request.method === 'HEAD') return false;
  }
  return true;
}

function headerRecord(headers: Headers): Record<string, string> {
  const record: Record<string, string> = {};
  headers.forEach((value, name) => {
    record[name] = value;
  });
  return record;
}

/**
 * The request body's bytes, with the stream left unlocked: ky cancels its Request's body once a call is
 * over, and cancelling a stream still locked by `arrayBuffer()`'s reader rejects with a TypeError whose
 * stack trace alone cost ~40 µs of CPU per POST in a profile.
 */
async function readWhole(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  const [only] = chunks;
  if (chunks.length === 1 && only) return Buffer.from(only.buffer, only.byteOffset, only.byteLength);
  return Buffer.concat(chunks);
}

/** Collects one answer in memory and settles the fetch's promise once. */
class BufferingHandler implements Dispatcher.DispatchHandler {
  readonly #method: string;
  readonly #signal: AbortSignal | undefined;
  readonly #resolve: (response: Response) => void;
  readonly #reject: (error: unknown) => void;
  #controller: Dispatcher.DispatchController | undefined;
  #settled = false;
  #status = 0;
  #statusText = '';
  #headers: Record<string, string | string[] | undefined> = {};
  readonly #chunks: Buffer[] = [];
  readonly #onAbort: (() => void) | undefined;

  constructor(
    method: string,
    signal: AbortSignal | undefined,
    resolve: (response: Response) => void,
    reject: (error: unknown) => void,
  ) {
    this.#method = method;
    this.#signal = signal;
    this.#resolve = resolve;
    this.#reject = reject;
    if (signal) {
      this.#onAbort = () => {
        // Before the request has a connection there is no controller yet: onRequestStart aborts it.
        this.#controller?.abort(signal.reason);
        this.#settle(() => this.#reject(signal.reason));
      };
      signal.addEventListener('abort', this.#onAbort, { once: true });
    }
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#signal?.aborted || this.#settled) controller.abort(this.#signal?.reason);
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
    statusMessage?: string,
  ): void {
    // 1xx informational answers come before the real one.
    if (statusCode < 200) return;
    this.#status = statusCode;
    this.#statusText = statusMessage ?? '';
    this.#headers = headers;
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#chunks.push(chunk);
  }

  onResponseEnd(): void {
    this.#settle(() => {
      try {
        const chunks = this.#chunks;
        const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
        const hasBody = !NULL_BODY_STATUSES.has(this.#status) && this.#method !== 'HEAD';
        this.#resolve(
          new BufferedResponse(hasBody ? bytes : null, {
            status: this.#status,
            statusText: this.#statusText,
            headers: responseHeaders(this.#headers),
          }),
        );
      } catch (error) {
        this.#reject(error);
      }
    });
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    this.#settle(() => {
      const signal = this.#signal;
      this.#reject(signal?.aborted ? signal.reason : new TypeError('fetch failed', { cause: error }));
    });
  }

  #settle(settle: () => void): void {
    if (this.#settled) return;
    this.#settled = true;
    if (this.#onAbort) this.#signal?.removeEventListener('abort', this.#onAbort);
    settle();
  }
}

function responseHeaders(raw: Record<string, string | string[] | undefined>): Headers {
  const headers = new Headers();
  for (const name in raw) {
    const value = raw[name];
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else headers.append(name, value);
  }
  return headers;
}
