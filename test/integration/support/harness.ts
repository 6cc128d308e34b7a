import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import type { Logger } from 'pino';
import { loadConfig } from '../../../src/config/config.js';
import { OmiseClient } from '../../../src/omise/client.js';
import { createPaymentsService } from '../../../src/payments/omise-payments-service.js';
import type { PaymentsService } from '../../../src/payments/payments-service.js';
import { MemoryKeyValueStore } from '../../../src/realtime/memory-key-value-store.js';
import { createLogger } from '../../../src/server/logger.js';
import { startGateway, type GatewayOverrides, type RunningGateway } from '../../../src/server/gateway.js';
import {
  startSimulator,
  type RunningSimulator,
  type SimulatorOptions,
} from '../../../src/simulator/index.js';

/** One HTTP request to Omise made by the gateway's client, as seen on the wire. */
export interface OmiseRequest {
  method: string;
  path: string;
}

export interface GraphQLResponse<TData> {
  status: number;
  headers: Headers;
  body: {
    data?: TData | null;
    errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
  };
}

export interface Harness {
  sim: RunningSimulator;
  gateway: RunningGateway;
  /** Every request the gateway's Omise client sent, in order (counted at its fetch). */
  omiseRequests: OmiseRequest[];
  /** Log lines the gateway wrote, parsed. */
  logs: Record<string, unknown>[];
  gql<TData, TVars>(
    document: TypedDocumentNode<TData, TVars>,
    variables: TVars,
    headers?: Record<string, string>,
  ): Promise<GraphQLResponse<TData>>;
  /** A raw request to the gateway (`path` relative to its origin). */
  http(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** Wraps the payments service the gateway would use (fault injection in error tests). */
  wrapPayments?: (payments: PaymentsService) => PaymentsService;
  overrides?: GatewayOverrides;
  env?: Record<string, string>;
  /** Options of the simulator (e.g. a webhook secret the gateway is also given in `env`). */
  simulator?: SimulatorOptions;
  /** The simulator logs into `logs` too, through the gateway's (redacting) logger, as in `npm start`. */
  simulatorLogs?: boolean;
  /** Default 'debug'. */
  logLevel?: 'debug' | 'info' | 'trace';
}

/**
 * A real gateway (port 0) in front of a real simulator (port 0) through the real Omise client, whose
 * fetch is wrapped only to count the requests it sends. The payments rules use the simulator's clock.
 */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const omiseRequests: OmiseRequest[] = [];
  const logs: Record<string, unknown>[] = [];
  // The gateway's own logger (its redaction included), writing into memory. It knows the secret values
  // that have no recognisable shape, as src/main.ts's does.
  const logger: Logger = createLogger(
    {
      level: options.logLevel ?? 'debug',
      secrets: [
        options.env?.['OMISE_WEBHOOK_SECRET'],
        options.env?.['GATEWAY_TOKEN_SECRET'],
        options.simulator?.webhookSecret,
      ],
    },
    { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) },
  );
  const sim = await startSimulator({
    ...options.simulator,
    ...(options.simulatorLogs && { logger: logger.child({ component: 'simulator' }) }),
  });
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    OMISE_SECRET_KEY: sim.secretKey,
    OMISE_PUBLIC_KEY: sim.publicKey,
    OMISE_API_URL: sim.url,
    ...options.env,
  });
  const countingFetch: typeof fetch = (input, init) => {
    const request = new Request(input, init);
    omiseRequests.push({ method: request.method, path: new URL(request.url).pathname });
    return fetch(request);
  };
  const omise = new OmiseClient({
    baseUrl: sim.url,
    secretKey: sim.secretKey,
    publicKey: sim.publicKey,
    timeoutMs: 5000,
    maxAttempts: 1,
    fetch: countingFetch,
  });
  let gateway: RunningGateway;
  try {
    const now = () => new Date(sim.clock.now());
    if (options.wrapPayments) {
      const kv = new MemoryKeyValueStore();
      const real = createPaymentsService({ omise, kv, mode: 'test', idempotencyTtlMs: 24 * 3600_000, now });
      gateway = await startGateway(config, {
        logger,
        omise,
        now,
        payments: options.wrapPayments(real),
        ...options.overrides,
      });
      const close = gateway.close.bind(gateway);
      gateway.close = () => close().finally(() => kv.close());
    } else {
      gateway = await startGateway(config, { logger, omise, now, ...options.overrides });
    }
  } catch (error) {
    await sim.close();
    throw error;
  }

  return {
    sim,
    gateway,
    omiseRequests,
    logs,
    async gql<TData, TVars>(
      document: TypedDocumentNode<TData, TVars>,
      variables: TVars,
      headers: Record<string, string> = {},
    ): Promise<GraphQLResponse<TData>> {
      const response = await fetch(gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query: print(document), variables }),
      });
      const body = (await response.json()) as GraphQLResponse<TData>['body'];
      return { status: response.status, headers: response.headers, body };
    },
    http: (path, init) => fetch(`${gateway.origin}${path}`, init),
    async close() {
      await gateway.close();
      await sim.close();
    },
  };
}

/** The data of a response that must have succeeded without errors. */
export function dataOf<TData>(response: GraphQLResponse<TData>): TData {
  if (response.body.errors?.length || !response.body.data) {
    throw new Error(`expected data, got ${response.status} ${JSON.stringify(response.body)}`);
  }
  return response.body.data;
}
