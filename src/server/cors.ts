import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RouteHandler } from './http-server.js';

const ALLOWED_METHODS = 'GET, POST, OPTIONS';
const ALLOWED_HEADERS =
  'authorization, content-type, apollo-require-preflight, x-apollo-operation-name, x-request-id';
const EXPOSED_HEADERS = 'x-request-id, retry-after';
const PREFLIGHT_MAX_AGE_SECONDS = '600';

/**
 * CORS for browser apps on the origins listed in CORS_ORIGINS (`*` allows any). Credentials are bearer
 * headers, never cookies, so no `allow-credentials`. An origin not listed gets no CORS headers: the
 * browser then keeps the response from the page.
 */
export class CorsPolicy {
  private readonly origins: ReadonlySet<string>;

  constructor(origins: readonly string[]) {
    this.origins = new Set(origins.map((o) => o.replace(/\/+$/, '')));
  }

  /** Whether a browser page of `origin` may call: listed in CORS_ORIGINS (or `*` is). */
  allows(origin: string): boolean {
    return this.origins.has('*') || this.origins.has(origin);
  }

  /**
   * For the WebSocket upgrade, where no CORS applies: an allowed origin, or the gateway's own (the page
   * was served by this host, as a same-origin HTTP request would be).
   */
  allowsWebSocket(origin: string, host: string | undefined): boolean {
    if (this.allows(origin)) return true;
    if (host === undefined || !URL.canParse(origin)) return false;
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.host === host.toLowerCase();
  }

  /** Adds the CORS response headers when the request's origin is allowed; true when it is. */
  apply(req: IncomingMessage, res: ServerResponse): boolean {
    const origin = req.headers.origin;
    res.appendHeader('vary', 'origin');
    if (!origin || !this.allows(origin)) return false;
    res.setHeader('access-control-allow-origin', origin);
    res.setHeader('access-control-expose-headers', EXPOSED_HEADERS);
    return true;
  }

  /** Wraps a route so that its responses carry the CORS headers. */
  wrap(handler: RouteHandler): RouteHandler {
    return (req, res, info) => {
      this.apply(req, res);
      return handler(req, res, info);
    };
  }

  /** `OPTIONS` (preflight): 204, with the allowed methods and headers when the origin is allowed. */
  preflight(): RouteHandler {
    return (req, res) => {
      if (this.apply(req, res)) {
        res.setHeader('access-control-allow-methods', ALLOWED_METHODS);
        res.setHeader('access-control-allow-headers', ALLOWED_HEADERS);
        res.setHeader('access-control-max-age', PREFLIGHT_MAX_AGE_SECONDS);
      }
      res.writeHead(204);
      res.end();
    };
  }
}
