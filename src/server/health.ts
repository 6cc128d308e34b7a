import { createHash, timingSafeEqual } from 'node:crypto';
import { sendJson, type Route, type RouteHandler } from './http-server.js';
import type { GatewayMetrics } from './metrics.js';

/** A dependency readiness depends on: resolves when it answers. */
export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

export const DEFAULT_READINESS_TIMEOUT_MS = 2_000;

/** `GET /healthz`, `GET /readyz` and `GET /metrics`. */
export function healthRoutes(options: {
  checks: ReadinessCheck[];
  /**
   * How long each readiness check may take.
   * @default 2 s
   */
  readinessTimeoutMs?: number | undefined;
  metrics: GatewayMetrics;
  /** Who may read /metrics. */
  metricsAccess: MetricsAccess;
  /** True while the server shuts down: /readyz then answers 503 `draining`. */
  draining?: () => boolean;
}): Route[] {
  const timeoutMs = options.readinessTimeoutMs ?? DEFAULT_READINESS_TIMEOUT_MS;
  return [
    { method: 'GET', path: '/healthz', handler: livenessRoute() },
    {
      method: 'GET',
      path: '/readyz',
      handler: readinessRoute(options.checks, timeoutMs, options.draining),
    },
    { method: 'GET', path: '/metrics', handler: metricsRoute(options.metrics, options.metricsAccess) },
  ];
}

/** `GET /healthz`: liveness, 200 while the process serves requests. */
export function livenessRoute(): RouteHandler {
  return (_req, res) => sendJson(res, 200, { status: 'ok' });
}

/**
 * `GET /readyz`: 200 when every dependency answers within `timeoutMs`, 503 otherwise. The body names
 * each check's state (`ok`, `failed`, `timeout`), never the error text; the log has that.
 */
export function readinessRoute(
  checks: ReadinessCheck[],
  timeoutMs: number,
  draining: () => boolean = () => false,
): RouteHandler {
  return async (_req, res, { logger }) => {
    // Shutting down: in-flight work finishes, but no new traffic should be routed here.
    if (draining()) {
      sendJson(res, 503, { status: 'draining', checks: {} });
      return;
    }
    const results = await Promise.all(
      checks.map(async ({ name, check }) => {
        const state = await withTimeout(check(), timeoutMs).then(
          (timedOut) => (timedOut ? 'timeout' : 'ok'),
          (error: unknown) => {
            logger.warn({ err: error, check: name }, 'readiness check failed');
            return 'failed';
          },
        );
        if (state === 'timeout') logger.warn({ check: name, timeoutMs }, 'readiness check timed out');
        return [name, state] as const;
      }),
    );
    const ready = results.every(([, state]) => state === 'ok');
    sendJson(res, ready ? 200 : 503, {
      status: ready ? 'ready' : 'not ready',
      checks: Object.fromEntries(results),
    });
  };
}

/**
 * Who may read `/metrics`:
 * - `token`: METRICS_TOKEN is set; `Authorization: Bearer <token>` is required (401 otherwise).
 * - `loopback`: production without a token; only a scraper on the same host (or in the same pod) may
 *   read, and only directly: a request that came through a proxy (it carries `X-Forwarded-For` or
 *   `Forwarded`) is refused even from 127.0.0.1, since a local reverse proxy would make every
 *   Internet caller look local.
 * - `open`: test mode without a token, as before.
 */
export type MetricsAccess = { kind: 'token'; token: string } | { kind: 'loopback' } | { kind: 'open' };

export function metricsAccessFor(config: {
  metricsToken: string | undefined;
  production: boolean;
}): MetricsAccess {
  if (config.metricsToken !== undefined) return { kind: 'token', token: config.metricsToken };
  return config.production ? { kind: 'loopback' } : { kind: 'open' };
}

/** For the start-up banner. */
export function describeMetricsAccess(access: MetricsAccess): string {
  switch (access.kind) {
    case 'token':
      return 'Bearer METRICS_TOKEN required';
    case 'loopback':
      return 'loopback only, not through a proxy (production without METRICS_TOKEN)';
    case 'open':
      return 'open to anyone who reaches the port (set METRICS_TOKEN)';
  }
}

const digest = (value: string) => createHash('sha256').update(value).digest();
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

/** `GET /metrics`: Prometheus text format, behind {@link MetricsAccess}. */
export function metricsRoute(
  metrics: GatewayMetrics,
  access: MetricsAccess = { kind: 'open' },
): RouteHandler {
  const expected = access.kind === 'token' ? digest(`Bearer ${access.token}`) : undefined;
  return async (req, res) => {
    if (expected !== undefined) {
      // Digests compared in constant time: neither the length nor a prefix of the token leaks.
      const given = digest(req.headers.authorization ?? '');
      if (!timingSafeEqual(given, expected)) {
        sendJson(res, 401, { error: 'unauthorized' }, { 'www-authenticate': 'Bearer realm="metrics"' });
        return;
      }
    } else if (access.kind === 'loopback') {
      const proxied = req.headers['x-forwarded-for'] !== undefined || req.headers.forwarded !== undefined;
      if (proxied || !LOOPBACK.test(req.socket.remoteAddress ?? '')) {
        sendJson(res, 403, { error: 'forbidden: set METRICS_TOKEN to scrape from another host' });
        return;
      }
    }
    const { contentType, body } = await metrics.render();
    res.writeHead(200, { 'content-type': contentType });
    res.end(body);
  };
}

/** Resolves true when `promise` did not settle within `ms` (its later rejection is then ignored). */
async function withTimeout(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), ms);
  });
  promise.catch(() => {});
  try {
    return await Promise.race([promise.then(() => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
