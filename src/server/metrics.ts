import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The gateway's Prometheus metrics, in a registry of their own so that several gateways in one process
 * (tests) do not collide. Label values come from fixed sets, never from client input.
 */
export class GatewayMetrics {
  readonly registry = new Registry();

  readonly httpRequestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP requests by route, method and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly graphqlOperations = new Counter({
    name: 'graphql_operations_total',
    help: 'GraphQL operations by type (query, mutation, subscription, unknown) and outcome (ok, error).',
    labelNames: ['operation_type', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly graphqlErrors = new Counter({
    name: 'graphql_errors_total',
    help: 'Errors in GraphQL responses by extensions.code.',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });

  readonly subscriptionExecutions = new Counter({
    name: 'graphql_subscription_executions_total',
    help:
      'Executions of subscription events: group (one execution for every subscriber of the same operation, ' +
      'variables and access) or alone (one subscriber).',
    labelNames: ['sharing'] as const,
    registers: [this.registry],
  });

  readonly omiseRequests = new Counter({
    name: 'omise_requests_total',
    help: 'Calls to the Omise API (retries included) by client method and outcome.',
    labelNames: ['operation', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly omiseRequestDuration = new Histogram({
    name: 'omise_request_duration_seconds',
    help: 'Duration of Omise API calls (retries included) by client method.',
    labelNames: ['operation'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly webhookResponses = new Counter({
    name: 'webhook_responses_total',
    help: 'Answers to Omise webhook deliveries by status code (401 forged/stale, 5xx retried by Omise).',
    labelNames: ['status_code'] as const,
    registers: [this.registry],
  });

  readonly chargeCacheLookups = new Counter({
    name: 'charge_cache_lookups_total',
    help: 'charge reads by outcome: hit (served from the charge cache) or miss (read from Omise).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** A gauge whose value is read at each scrape (open WebSockets, subscriptions...). Replaces one of the same name. */
  gauge(name: string, help: string, read: () => number): void {
    if (this.registry.getSingleMetric(name)) this.registry.removeSingleMetric(name);
    new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }

  /** The text exposition format: `{ contentType, body }`. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
