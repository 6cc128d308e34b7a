/** One bounded autocannon run on loopback, reduced to the figures the report needs. */
import { performance } from 'node:perf_hooks';
import autocannon, { type AutocannonRequest } from 'autocannon';

export interface LoadOptions {
  url: string;
  connections: number;
  /** Seconds; with `amount`, the most the run may take (it is stopped then). */
  duration: number;
  /** Stop after this many requests instead of after `duration`. */
  amount?: number;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** Builds each request's body (unique idempotency keys...); replaces `body`. */
  nextBody?: () => string;
  /** Decides whether a 2xx response body is the answer expected (GraphQL errors are 200s too). */
  isGoodBody?: (body: string) => boolean;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** Connection errors, timeouts, non-2xx answers and 2xx answers with an unexpected body. */
  failures: number;
  failureDetail: string;
}

/** Never let a load run outlive this, whatever autocannon does. */
const HARD_STOP_MARGIN_S = 30;

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  let badBodies = 0;
  let firstBadBody: string | undefined;
  // autocannon's own duration is checked once a second: runs bounded by `amount` would look slower.
  let lastResponseAt = 0;
  const request: AutocannonRequest = {
    method: options.method ?? 'POST',
    ...(options.body !== undefined && { body: options.body }),
    onResponse: (status, body) => {
      lastResponseAt = performance.now();
      if (status >= 200 && status < 300 && options.isGoodBody && !options.isGoodBody(body)) {
        badBodies += 1;
        firstBadBody ??= body.slice(0, 200);
      }
    },
  };
  const nextBody = options.nextBody;
  if (nextBody) request.setupRequest = (req) => ({ ...req, body: nextBody() });

  const instance = autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.duration,
    ...(options.amount !== undefined && { amount: options.amount }),
    timeout: 10,
    headers: { 'content-type': 'application/json', ...options.headers },
    requests: [request],
  });
  const startedAt = performance.now();
  const hardStop = setTimeout(() => instance.stop(), (options.duration + HARD_STOP_MARGIN_S) * 1000);
  try {
    const result = await instance;
    const requests = result.requests.total;
    const seconds = lastResponseAt > startedAt ? (lastResponseAt - startedAt) / 1000 : result.duration;
    const failures = result.errors + result.timeouts + result.non2xx + badBodies;
    const detail = [
      result.errors && `${result.errors} errors`,
      result.timeouts && `${result.timeouts} timeouts`,
      result.non2xx && `${result.non2xx} non-2xx`,
      badBodies && `${badBodies} unexpected bodies (first: ${firstBadBody})`,
    ].filter(Boolean);
    return {
      requests,
      seconds,
      reqPerSec: seconds > 0 ? requests / seconds : 0,
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      failures,
      failureDetail: detail.join(', '),
    };
  } finally {
    clearTimeout(hardStop);
  }
}
