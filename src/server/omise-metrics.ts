import type { OmiseApi } from '../omise/api.js';
import { omiseFailureKind } from '../omise/errors.js';
import type { GatewayMetrics } from './metrics.js';

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
          metrics.omiseRequests.inc({ operation: property, outcome: omiseFailureKind(error) });
          throw error;
        } finally {
          stopTimer();
        }
      };
    },
  });
}
