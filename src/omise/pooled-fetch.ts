import { Agent, type Dispatcher } from 'undici';

/**
 * A `fetch` for ky built on undici's connection pools (`Agent` = one `Pool` per origin, keep-alive)
 * and its `request` API, instead of the WHATWG fetch of Node. Node's fetch pays for the spec on every
 * call (Request/Response streams, header guards, CORS-mode bookkeeping); a profile put one Omise call
 * through it at several hundred µs of CPU more than a plain keep-alive request. ky keeps doing what it
 * does (prefix URL, JSON bodies, query strings, hooks), and the caller gets a standard `Response`.
 *
 * Failures look like the global fetch's, so that the error mapping of omise-http.ts (and with it what
 * `mayHaveBeenProcessed` decides) does not depend on which fetch ran: an abort rejects with the signal's
 * reason, any other failure with `TypeError('fetch failed', { cause })` whose cause carries undici's
 * code (`ECONNREFUSED`, `UND_ERR_SOCKET`, ...), exactly as Node's fetch reports it.
 *
 * Differences, on purpose: redirects are never followed (Omise does not redirect API calls; the API
 * client asks for `redirect: 'manual'` anyway), and no `accept-encoding` is sent, so bodies come
 * uncompressed and are not decoded.
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

/** Statuses whose Response may not have a body (the Response constructor throws otherwise). */
const NULL_BODY_STATUSES: ReadonlySet<number> = new Set([101, 103, 204, 205, 304]);

export function createPooledFetch(options: PooledFetchOptions = {}): PooledFetch {
  const dispatcher =
    options.dispatcher ??
    new Agent({
      keepAliveTimeout: options.keepAliveTimeoutMs ?? 4_000,
      ...(options.connections !== undefined ? { connections: options.connections } : {}),
    });

  const pooledFetch = async (input: Request | string | URL, init?: RequestInit): Promise<Response> => {
    // ky always passes a Request (with its init already applied); a URL or string is accepted too.
    const request = input instanceof Request && init === undefined ? input : new Request(input, init);
    const { signal } = request;
    signal.throwIfAborted();
    const url = new URL(request.url);
    const headers: Record<string, string> = {};
    request.headers.forEach((value, name) => {
      headers[name] = value;
    });
    const body = request.body === null ? null : Buffer.from(await request.arrayBuffer());
    let answer: Dispatcher.ResponseData;
    try {
      answer = await dispatcher.request({
        origin: url.origin,
        path: url.pathname + url.search,
        method: request.method as Dispatcher.HttpMethod,
        headers,
        body,
        signal,
      });
    } catch (error) {
      throw failure(error, signal);
    }
    let bytes: ArrayBuffer;
    try {
      // Read whole before returning: bodies are small JSON, and the caller's deadline (the signal)
      // covers the read, so a stalled body is aborted like a stalled connect.
      bytes = await answer.body.arrayBuffer();
    } catch (error) {
      throw failure(error, signal);
    }
    return new Response(NULL_BODY_STATUSES.has(answer.statusCode) ? null : bytes, {
      status: answer.statusCode,
      headers: responseHeaders(answer.headers),
    });
  };
  return Object.assign(pooledFetch, { close: () => dispatcher.close() });
}

/** What Node's fetch would have rejected with. */
function failure(error: unknown, signal: AbortSignal): unknown {
  if (signal.aborted) return signal.reason;
  return new TypeError('fetch failed', { cause: error });
}

function responseHeaders(raw: Dispatcher.ResponseData['headers']): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else headers.append(name, value);
  }
  return headers;
}
