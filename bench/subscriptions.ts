/**
 * chargeStatus fan-out: N graphql-ws clients (one socket each, like N browsers) subscribe to one pending
 * charge; simulateChargeOutcome makes it SUCCESSFUL (simulator → webhook → gateway → re-fetch → publish)
 * and the clock runs until every subscriber got SUCCESSFUL. The same with 1 subscriber is the baseline.
 */
import { performance } from 'node:perf_hooks';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import {
  CHARGE_STATUS_SUBSCRIPTION,
  createCharge,
  postGraphQL,
  SIMULATE_OUTCOME_MUTATION,
} from './operations.js';
import type { MemorySample } from './protocol.js';

export interface FanOutTrial {
  subscribers: number;
  /** From sending the subscribe messages until every subscriber had its first (current-state) event. */
  subscribeMs: number;
  /** Omise calls the gateway made meanwhile (each subscription reads the charge's current state). */
  omiseCallsToSubscribe: number;
  /** The simulateChargeOutcome HTTP round trip (retrieve + mark_as_paid at the simulator). */
  mutationMs: number;
  /** From sending simulateChargeOutcome until the first / the last subscriber received SUCCESSFUL. */
  firstMs: number;
  lastMs: number;
  /** Target process memory growth with the subscriptions open (after GC), per subscription. */
  rssPerSubscriptionBytes: number;
  heapPerSubscriptionBytes: number;
}

export interface SubscriptionMemory {
  subscribers: number;
  /** Target process after GC, before and with the subscriptions open. */
  before: MemorySample;
  during: MemorySample;
  rssPerSubscriptionBytes: number;
  heapPerSubscriptionBytes: number;
}

export interface FanOutDeps {
  gatewayUrl: string;
  memory(): Promise<MemorySample>;
  omiseCalls(): Promise<number>;
  /** Upper bound of every wait. */
  timeoutMs: number;
}

const SETTLE_MS = 500;

interface Subscriber {
  client: Client;
  first: Promise<void>;
  successful: Promise<number>;
}

function subscribe(wsUrl: string, chargeId: string): Subscriber {
  const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
  let resolveFirst!: () => void;
  let rejectFirst!: (error: Error) => void;
  let resolveSuccessful!: (at: number) => void;
  let rejectSuccessful!: (error: Error) => void;
  const first = new Promise<void>((resolve, reject) => {
    resolveFirst = resolve;
    rejectFirst = reject;
  });
  const successful = new Promise<number>((resolve, reject) => {
    resolveSuccessful = resolve;
    rejectSuccessful = reject;
  });
  // Settling an already settled promise is a no-op: after SUCCESSFUL, `complete` changes nothing.
  const reject = (error: Error) => {
    rejectFirst(error);
    rejectSuccessful(error);
  };
  // Either promise may be left unawaited when the other rejects first.
  first.catch(() => undefined);
  successful.catch(() => undefined);
  client.subscribe<{ chargeStatus: { status: string } }>(
    { query: CHARGE_STATUS_SUBSCRIPTION, variables: { chargeId } },
    {
      next: (value) => {
        if (value.errors?.length) {
          reject(new Error(`subscription error: ${JSON.stringify(value.errors).slice(0, 300)}`));
          return;
        }
        resolveFirst();
        if (value.data?.chargeStatus.status === 'SUCCESSFUL') resolveSuccessful(performance.now());
      },
      error: (error) =>
        reject(error instanceof Error ? error : new Error(`WebSocket closed: ${describeClose(error)}`)),
      complete: () => reject(new Error('subscription completed before SUCCESSFUL')),
    },
  );
  return { client, first, successful };
}

function describeClose(event: unknown): string {
  if (event && typeof event === 'object' && 'code' in event) {
    const { code, reason } = event as { code: unknown; reason?: unknown };
    return `code ${String(code)} ${String(reason ?? '')}`.trim();
  }
  return String(event);
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export async function fanOutTrial(deps: FanOutDeps, subscribers: number): Promise<FanOutTrial> {
  const wsUrl = deps.gatewayUrl.replace(/^http/, 'ws');
  const chargeId = await createCharge(deps.gatewayUrl);
  // Let the sockets of earlier work close before the reference measurement.
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  const before = await deps.memory();
  const opened: Subscriber[] = [];
  try {
    const callsBefore = await deps.omiseCalls();
    const subscribeStart = performance.now();
    for (let i = 0; i < subscribers; i++) opened.push(subscribe(wsUrl, chargeId));
    await withTimeout(
      Promise.all(opened.map((s) => s.first)),
      deps.timeoutMs,
      `${subscribers} subscriptions' first event`,
    );
    const subscribeMs = performance.now() - subscribeStart;
    const omiseCallsToSubscribe = (await deps.omiseCalls()) - callsBefore;
    const during = await deps.memory();

    const start = performance.now();
    const mutation = postGraphQL(deps.gatewayUrl, SIMULATE_OUTCOME_MUTATION, {
      input: { chargeId, outcome: 'SUCCESSFUL' },
    }).then(() => performance.now() - start);
    const arrivals = await withTimeout(
      Promise.all(opened.map((s) => s.successful)),
      deps.timeoutMs,
      `SUCCESSFUL at ${subscribers} subscribers`,
    );
    const mutationMs = await mutation;
    return {
      subscribers,
      subscribeMs,
      omiseCallsToSubscribe,
      mutationMs,
      firstMs: Math.min(...arrivals) - start,
      lastMs: Math.max(...arrivals) - start,
      rssPerSubscriptionBytes: (during.rss - before.rss) / subscribers,
      heapPerSubscriptionBytes: (during.heapUsed - before.heapUsed) / subscribers,
    };
  } finally {
    await Promise.all(opened.map((s) => s.client.dispose()));
  }
}

/**
 * Memory of the gateway's process per open chargeStatus subscription (one socket each): GC, measure,
 * open `subscribers` subscriptions and wait for their first event, GC, measure again, close them.
 */
export async function subscriptionMemory(deps: FanOutDeps, subscribers: number): Promise<SubscriptionMemory> {
  const wsUrl = deps.gatewayUrl.replace(/^http/, 'ws');
  const chargeId = await createCharge(deps.gatewayUrl);
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  const before = await deps.memory();
  const opened: Subscriber[] = [];
  try {
    for (let i = 0; i < subscribers; i++) opened.push(subscribe(wsUrl, chargeId));
    await withTimeout(
      Promise.all(opened.map((s) => s.first)),
      deps.timeoutMs,
      `${subscribers} subscriptions' first event`,
    );
    const during = await deps.memory();
    return {
      subscribers,
      before,
      during,
      rssPerSubscriptionBytes: (during.rss - before.rss) / subscribers,
      heapPerSubscriptionBytes: (during.heapUsed - before.heapUsed) / subscribers,
    };
  } finally {
    await Promise.all(opened.map((s) => s.client.dispose()));
  }
}
