import { sendJson, type RouteHandler } from './http-server.js';
import type { GatewayMetrics } from './metrics.js';

/** A dependency readiness depends on: resolves when it answers. */
export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

/** `GET /healthz`: liveness, 200 while the process serves requests. */
export function livenessRoute(): RouteHandler {
  return (_req, res) => sendJson(res, 200, { status: 'ok' });
}

/**
 * `GET /readyz`: 200 when every dependency answers within `timeoutMs`, 503 otherwise. The body names
 * each check's state (`ok`, `failed`, `timeout`), never the error text; the log has that.
 */
export function readinessRoute(checks: ReadinessCheck[], timeoutMs: number): RouteHandler {
  return async (_req, res, { logger }) => {
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

/** `GET /metrics`: Prometheus text format. */
export function metricsRoute(metrics: GatewayMetrics): RouteHandler {
  return async (_req, res) => {
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
