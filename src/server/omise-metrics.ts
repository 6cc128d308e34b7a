import type { OmiseApi } from '../omise/api.js';
import { OmiseError, OmiseNetworkError, OmiseTimeoutError } from '../omise/errors.js';
import type { GatewayMetrics } from './metrics.js';

/** The `outcome` label of an Omise call. */
export function omiseOutcome(error: unknown): string {
  if (error instanceof OmiseError) {
    if (error.status === 429) return 'rate_limited';
    return error.status >= 500 ? 'server_error' : 'rejected';
  }
  if (error instanceof OmiseTimeoutError) return 'timeout';
  if (error instanceof OmiseNetworkError) return 'network_error';
  return 'error';
}

/**
 * Wraps an OmiseApi so that every call is counted and timed (`omise_requests_total`,
 * `omise_request_duration_seconds`), whatever the implementation. Methods added to the interface later
 * are measured too.
 */
export function instrumentOmiseApi(api: OmiseApi, metrics: GatewayMetrics): OmiseApi {
  return new Proxy(api, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      return async (...args: unknown[]) => {
        const stopTimer = metrics.omiseRequestDuration.startTimer({ operation: property });
        try {
          const result: unknown = await (value as (...a: unknown[]) => unknown).apply(target, args);
          metrics.omiseRequests.inc({ operation: property, outcome: 'ok' });
          return result;
        } catch (error) {
          metrics.omiseRequests.inc({ operation: property, outcome: omiseOutcome(error) });
          throw error;
        } finally {
          stopTimer();
        }
      };
    },
  });
}
