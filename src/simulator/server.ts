/**
 * HTTP plumbing: body reading (size limit), JSON/form/query parsing, key checks, Omise-Version echo,
 * fault injection and error answers. Built on node:http so that faults can act on the socket itself.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import qs from 'qs';
import { authenticationFailure, badRequest, errorBody, OmiseApiError } from './errors.js';
import type { FaultInjector } from './faults.js';
import type { Params } from './params.js';
import { matchRoute, type Access, type Reply, type Route } from './router.js';

export const DEFAULT_OMISE_VERSION = '2019-05-29';
export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;

export interface KeyPolicy {
  /** Set → only this public key; unset → any `pkey_test_…`. */
  publicKey: string | undefined;
  /** Set → only this secret key; unset → any `skey_test_…`. */
  secretKey: string | undefined;
}

interface ServerOptions {
  apiRoutes: Route[];
  adminRoutes: Route[];
  keys: KeyPolicy;
  faults: FaultInjector;
  logger?: Logger;
  bodyLimitBytes?: number;
}

const QS_OPTIONS: qs.IParseOptions = { depth: 5, parameterLimit: 1000, arrayLimit: 100 };

/** Which kind of key the request carries: HTTP Basic, key as the user name (password ignored). */
export function keyKind(authorization: string | undefined, keys: KeyPolicy): 'public' | 'secret' | null {
  if (!authorization) return null;
  const match = /^Basic\s+(\S+)\s*$/i.exec(authorization);
  if (!match?.[1]) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const user = decoded.includes(':') ? decoded.slice(0, decoded.indexOf(':')) : decoded;
  if (keys.publicKey !== undefined ? user === keys.publicKey : /^pkey_test_[0-9a-z]+$/.test(user))
    return 'public';
  if (keys.secretKey !== undefined ? user === keys.secretKey : /^skey_test_[0-9a-z]+$/.test(user))
    return 'secret';
  return null;
}

function allowed(access: Access, kind: 'public' | 'secret' | null): boolean {
  if (access === 'none') return true;
  if (access === 'public-or-secret') return kind !== null;
  return kind === 'secret';
}

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      reject(new BodyTooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
    req.on('error', (err) => {
      if (!failed) reject(err);
    });
  });
}

/** JSON (also on GET), form with brackets (qs), or guessed from the first character when untyped. */
export function parseBody(raw: Buffer, contentType: string | undefined): Params {
  if (raw.length === 0) return {};
  const text = raw.toString('utf8');
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const looksJson = /^\s*[[{]/.test(text);
  const isJson =
    type === 'application/json' ||
    type.endsWith('+json') ||
    (type !== 'application/x-www-form-urlencoded' && looksJson);
  if (isJson) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw badRequest('request body is not valid JSON');
    }
    if (value === null) return {};
    if (typeof value !== 'object' || Array.isArray(value))
      throw badRequest('request body must be a JSON object');
    return value as Params;
  }
  return qs.parse(text, QS_OPTIONS) as Params;
}

function clientIp(req: IncomingMessage): string | null {
  const address = req.socket.remoteAddress;
  if (!address) return null;
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

function sleep(ms: number, timers: Set<NodeJS.Timeout>): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      resolve();
    }, ms);
    timers.add(timer);
  });
}

export interface SimulatorServer {
  server: Server;
  /** Clears fault timers; the caller closes the server. */
  dispose(): void;
}

export function createSimulatorServer(options: ServerOptions): SimulatorServer {
  const timers = new Set<NodeJS.Timeout>();
  const limit = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;

  function send(res: ServerResponse, reply: Reply): void {
    if (res.headersSent || res.destroyed) return;
    for (const [k, v] of Object.entries(reply.headers ?? {})) res.setHeader(k, v);
    res.statusCode = reply.status ?? 200;
    if (reply.raw) {
      res.setHeader('content-type', reply.raw.contentType);
      res.end(reply.raw.body);
      return;
    }
    if (reply.json === undefined) {
      res.end();
      return;
    }
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.setHeader('cache-control', 'no-cache, no-store');
    res.end(`${JSON.stringify(reply.json, null, 2)}\n`);
  }

  function sendError(res: ServerResponse, error: OmiseApiError): void {
    send(res, { status: error.status, json: error.toBody(), headers: error.headers });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://simulator.invalid');
    } catch {
      sendError(res, badRequest('invalid request target'));
      return;
    }
    const path = url.pathname;
    res.setHeader(
      'omise-version',
      (req.headers['omise-version'] as string | undefined) ?? DEFAULT_OMISE_VERSION,
    );
    const isAdmin = path === '/_simulator' || path.startsWith('/_simulator/');

    let raw: Buffer;
    try {
      raw = await readBody(req, limit);
    } catch (error) {
      if (error instanceof BodyTooLarge) {
        res.setHeader('connection', 'close');
        send(res, {
          status: 413,
          json: errorBody('bad_request', `request body is larger than ${limit} bytes`),
        });
        return;
      }
      return; // the client went away
    }

    const faults = options.faults.get();
    let dropAfter = false;
    if (!isAdmin) {
      if (faults.latencyMs > 0) {
        options.faults.count('latency');
        await sleep(faults.latencyMs, timers);
      }
      if (options.faults.apiChance(faults.dropRate)) {
        if (!faults.dropAfterProcessing) {
          options.faults.count('dropBeforeProcessing');
          req.socket.destroy();
          return;
        }
        dropAfter = true;
      }
      if (options.faults.apiChance(faults.rateLimitRate)) {
        options.faults.count('rateLimited');
        sendError(
          res,
          new OmiseApiError(429, 'too_many_requests', 'too many requests, please retry later', {
            'retry-after': String(faults.retryAfterSeconds),
          }),
        );
        return;
      }
      if (options.faults.apiChance(faults.errorRate)) {
        const internal = options.faults.apiDraw() < 0.5;
        options.faults.count(internal ? 'error500' : 'error503');
        sendError(
          res,
          internal
            ? new OmiseApiError(500, 'internal_error', 'an internal error occurred (simulated)')
            : new OmiseApiError(503, 'service_unavailable', 'service temporarily unavailable (simulated)'),
        );
        return;
      }
    }

    let reply: Reply;
    try {
      const found = matchRoute(isAdmin ? options.adminRoutes : options.apiRoutes, method, path);
      if (!found)
        throw new OmiseApiError(404, 'not_found', `the requested resource ${method} ${path} was not found`);
      const kind = keyKind(req.headers.authorization, options.keys);
      if (!allowed(found.route.access, kind)) throw authenticationFailure();
      const params: Params = {
        ...(qs.parse(url.search.slice(1), QS_OPTIONS) as Params),
        ...parseBody(raw, req.headers['content-type']),
      };
      reply = await found.route.handler({
        method,
        path,
        pathParams: found.pathParams,
        params,
        ip: clientIp(req),
      });
    } catch (error) {
      if (error instanceof OmiseApiError) {
        reply = { status: error.status, json: error.toBody(), headers: error.headers };
      } else {
        options.logger?.error({ err: error, method, path }, 'simulator: request failed');
        reply = { status: 500, json: errorBody('internal_error', 'an internal error occurred') };
      }
    }
    if (dropAfter) {
      // Processed, but the answer is lost: exactly what a client's no-blind-retry rule must survive.
      options.faults.count('dropAfterProcessing');
      req.socket.destroy();
      return;
    }
    send(res, reply);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      options.logger?.error({ err: error }, 'simulator: unexpected failure');
      if (!res.headersSent) {
        res.statusCode = 500;
        res.end();
      }
    });
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  return {
    server,
    dispose() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
}
