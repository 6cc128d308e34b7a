import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { ClientIpOf } from './client-ip.js';
import type { GatewayMetrics } from './metrics.js';
import { PayloadTooLargeError } from './read-body.js';

export interface RequestInfo {
  /** From a well-formed `x-request-id` request header, else generated; echoed as a response header. */
  requestId: string;
  /** Parsed when first read. */
  readonly url: URL;
  /** The caller's address (TRUSTED_PROXIES decides whether X-Forwarded-For counts); rate limits use it. */
  clientIp: string | undefined;
  logger: Logger;
}

export type RouteHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  info: RequestInfo,
) => Promise<void> | void;

/** One entry of the route table: exact method and path (the query string is not part of the match). */
export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'OPTIONS';
  path: string;
  handler: RouteHandler;
}

export interface HttpServerOptions {
  routes: Route[];
  logger: Logger;
  metrics: GatewayMetrics;
  /**
   * @default the socket's address
   */
  clientIpOf?: ClientIpOf;
  /**
   * How long close() lets in-flight requests finish before cutting their connections.
   * @default 10 s
   */
  shutdownGraceMs?: number;
}

export interface HttpServer {
  /** The node:http server (WebSocket upgrades attach here). */
  readonly server: Server;
  listen(port: number, host?: string): Promise<AddressInfo>;
  /** True once close() was called: /readyz fails so that load balancers stop routing here. */
  readonly draining: boolean;
  /**
   * Stops accepting connections, closes idle keep-alive sockets, lets in-flight requests finish (their
   * connections then close) and, after the grace period, cuts what is left. Idempotent.
   */
  close(): Promise<void>;
}

/**
 * Connections the kernel queues before they are accepted (capped by net.core.somaxconn). Node's 511
 * overflowed when thousands of phones opened their sockets at once while the event loop was busy: the
 * excess saw ECONNRESET at connect (issue 10's burst, 10,000 sockets at 2,500/s).
 */
const LISTEN_BACKLOG = 4096;

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/**
 * A request target that `new URL` would leave as it is: segments of letters, digits, `_` and `-`, no
 * query, no dot segments, no `//`. Most requests (`POST /graphql`) are routed without parsing a URL.
 */
const PLAIN_PATH = /^(?:\/[A-Za-z0-9_-]+)+\/?$|^\/$/;
const URL_BASE = 'http://gateway.invalid';

/** The pathname of a plain request target (see PLAIN_PATH) without parsing it; undefined for others. */
export function plainPathname(target: string): string | undefined {
  return PLAIN_PATH.test(target) ? target : undefined;
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** The gateway's one HTTP server: a small exact-match route table, request ids, metrics and draining. */
export function createHttpServer(options: HttpServerOptions): HttpServer {
  const { logger, metrics } = options;
  const clientIpOf: ClientIpOf = options.clientIpOf ?? ((req) => req.socket.remoteAddress);
  const table = new Map<string, Map<string, RouteHandler>>();
  for (const route of options.routes) {
    const byMethod = table.get(route.path) ?? new Map<string, RouteHandler>();
    if (byMethod.has(route.method)) throw new Error(`duplicate route ${route.method} ${route.path}`);
    byMethod.set(route.method, route.handler);
    table.set(route.path, byMethod);
  }

  let closing: Promise<void> | undefined;

  const server = createServer((req, res) => {
    const started = process.hrtime.bigint();
    const header = req.headers['x-request-id'];
    const requestId = typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
    res.setHeader('x-request-id', requestId);
    // A hostile request target (`GET http://[ HTTP/1.1`) is not a URL: a throw here, in an event
    // handler, would take the whole process down.
    // (URL.canParse, not URL.parse: the latter needs Node 20.18 and the engines field allows 20.11.)
    const target = req.url ?? '/';
    let parsed: URL | undefined;
    const plain = plainPathname(target);
    if (plain === undefined) {
      if (!URL.canParse(target, URL_BASE)) {
        sendJson(res, 400, { error: 'bad request target' }, { connection: 'close' });
        return;
      }
      parsed = new URL(target, URL_BASE);
    }
    const pathname = plain ?? parsed!.pathname;
    const byMethod = table.get(pathname);
    const method = req.method ?? 'GET';
    const handler = byMethod?.get(method) ?? (method === 'HEAD' ? byMethod?.get('GET') : undefined);
    const route = handler ? pathname : 'unmatched';
    const clientIp = clientIpOf(req);
    // Made when first used: a pino child costs more than the rest of a cached read's bookkeeping.
    let requestLogger: Logger | undefined;
    const log = (): Logger => (requestLogger ??= logger.child({ requestId, clientIp }));

    // While shutting down, a finished response closes its connection instead of keeping it alive.
    if (closing) res.shouldKeepAlive = false;
    res.once('close', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.httpRequestDuration.observe({ method, route, status_code: String(res.statusCode) }, seconds);
      if (logger.isLevelEnabled('debug')) {
        log().debug({ method, path: pathname, status: res.statusCode, seconds }, 'http request');
      }
      if (closing) server.closeIdleConnections();
    });

    if (!handler) {
      if (byMethod) {
        sendJson(res, 405, { error: 'method not allowed' }, { allow: [...byMethod.keys()].join(', ') });
      } else {
        sendJson(res, 404, { error: 'not found' });
      }
      return;
    }
    Promise.resolve()
      .then(() =>
        handler(req, res, {
          requestId,
          get url() {
            return (parsed ??= new URL(target, URL_BASE));
          },
          clientIp,
          get logger() {
            return log();
          },
        }),
      )
      .catch((error: unknown) => {
        if (error instanceof PayloadTooLargeError) {
          if (!res.headersSent) {
            sendJson(res, 413, { error: error.message }, { connection: 'close' });
          }
          return;
        }
        log().error({ err: error, method, path: pathname }, 'unhandled error in HTTP handler');
        if (res.headersSent) res.destroy();
        else sendJson(res, 500, { error: 'Internal server error', requestId });
      });
  });
  // Slow or silent clients must not hold sockets forever.
  server.headersTimeout = 20_000;
  server.requestTimeout = 60_000;
  server.keepAliveTimeout = 5_000;

  return {
    server,
    get draining() {
      return closing !== undefined;
    },
    listen(port, host) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
          server.off('error', reject);
          resolve(server.address() as AddressInfo);
        });
      });
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        if (!server.listening) {
          resolve();
          return;
        }
        const grace = setTimeout(() => {
          logger.warn('shutdown grace period over: closing the connections still open');
          server.closeAllConnections();
        }, options.shutdownGraceMs ?? 10_000);
        grace.unref();
        server.close(() => {
          clearTimeout(grace);
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
