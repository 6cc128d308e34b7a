import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { GatewayInstance } from './cluster.js';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Resolves true when `promise` settles within `ms`, false otherwise; leaves no timer behind. */
export async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** What the clients of a run saw, for the report and the assertions. */
export interface ClientStats {
  requests: number;
  /** Answers with status ≥ 500, by status; a 503 carrying Retry-After is counted apart (allowed while draining). */
  serverErrors: Record<string, number>;
  retryAfter503: number;
  /** Connection refused / reset / timed out: retried on another instance. */
  networkErrors: number;
  /** GraphQL errors or userErrors a client retries on (UPSTREAM_UNAVAILABLE...), by code. */
  retriedCodes: Record<string, number>;
}

export function newClientStats(): ClientStats {
  return { requests: 0, serverErrors: {}, retryAfter503: 0, networkErrors: 0, retriedCodes: {} };
}

const RETRYABLE_CODES = new Set([
  'UPSTREAM_UNAVAILABLE',
  'RATE_LIMITED',
  'IDEMPOTENCY_REQUEST_IN_PROGRESS',
  'INTERNAL_SERVER_ERROR',
]);

export interface GraphQLAnswer<T> {
  data: T;
  instance: string;
}

/**
 * A service client as a careful integrator writes one: every request has a timeout; on a network
 * error, a timeout, a 5xx or a retryable error code it tries again (another instance, same
 * idempotency key) with capped backoff, until `deadline`.
 */
export class RetryingGraphQLClient {
  private next = 0;

  constructor(
    private readonly gateways: () => GatewayInstance[],
    readonly stats: ClientStats,
    private readonly options: { timeoutMs: number; deadline: () => number },
  ) {}

  async request<T>(
    query: string,
    variables: Record<string, unknown>,
    /** For mutations: the payload's userErrors to retry on are looked up here. */
    payloadOf?: (data: T) => { userErrors: { code: string; message: string }[] },
    avoid?: () => Set<string>,
  ): Promise<GraphQLAnswer<T>> {
    for (let attempt = 0; ; attempt++) {
      if (Date.now() > this.options.deadline()) {
        throw new Error(`gave up after ${attempt} attempts: ${query.slice(0, 60)}`);
      }
      const candidates = this.gateways().filter((g) => !avoid?.().has(g.name));
      const gateway = candidates[this.next++ % candidates.length]!;
      const backoff = () => sleep(Math.min(100 * 2 ** Math.min(attempt, 5), 2_000) * (0.5 + Math.random()));
      let response: Response;
      let text: string;
      this.stats.requests++;
      try {
        response = await fetch(gateway.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query, variables }),
          signal: AbortSignal.timeout(this.options.timeoutMs),
        });
        text = await response.text();
      } catch {
        this.stats.networkErrors++;
        await backoff();
        continue;
      }
      if (response.status >= 500) {
        const retryAfter = response.headers.get('retry-after');
        if (response.status === 503 && retryAfter !== null) {
          this.stats.retryAfter503++;
          await sleep(Math.min(Number(retryAfter) * 1000, 2_000));
        } else {
          this.stats.serverErrors[response.status] = (this.stats.serverErrors[response.status] ?? 0) + 1;
          await backoff();
        }
        continue;
      }
      const body = JSON.parse(text) as {
        data?: T;
        errors?: { message: string; extensions?: { code?: string } }[];
      };
      const code = body.errors?.[0]?.extensions?.code;
      if (body.errors?.length) {
        if (code !== undefined && RETRYABLE_CODES.has(code)) {
          this.stats.retriedCodes[code] = (this.stats.retriedCodes[code] ?? 0) + 1;
          await backoff();
          continue;
        }
        throw new Error(`${gateway.name}: ${response.status} ${text.slice(0, 500)}`);
      }
      const data = body.data as T;
      const userError = payloadOf?.(data).userErrors[0];
      if (userError && RETRYABLE_CODES.has(userError.code)) {
        this.stats.retriedCodes[userError.code] = (this.stats.retriedCodes[userError.code] ?? 0) + 1;
        await backoff();
        continue;
      }
      return { data, instance: gateway.name };
    }
  }
}

export interface PhoneEvent {
  status: string;
  terminal: boolean;
  at: number;
}

/**
 * A phone waiting for its payment's outcome: a graphql-ws client that reconnects (to whichever
 * instance comes next) whenever its socket closes, and subscribes again whenever the stream ends
 * without a terminal status or with an error.
 */
export class Phone {
  readonly events: PhoneEvent[] = [];
  readonly errors: string[] = [];
  readonly closeCodes: number[] = [];
  reconnects = 0;
  resubscribes = 0;
  private readonly client: Client;
  private unsubscribe: (() => void) | undefined;
  private stopped = false;
  private resolveDone!: () => void;
  readonly done = new Promise<void>((resolve) => (this.resolveDone = resolve));

  constructor(
    readonly chargeId: string,
    gateways: () => GatewayInstance[],
    start: number,
  ) {
    let next = start;
    this.client = createClient({
      url: () => {
        const all = gateways();
        return all[next++ % all.length]!.url.replace(/^http/, 'ws');
      },
      webSocketImpl: WebSocket,
      lazy: true,
      lazyCloseTimeout: 0,
      retryAttempts: Number.MAX_SAFE_INTEGER,
      shouldRetry: () => !this.stopped,
      retryWait: async (retries) => {
        this.reconnects++;
        await sleep(Math.min(100 * 2 ** Math.min(retries, 4), 1_000) * (0.5 + Math.random()));
      },
      on: {
        closed: (event) => {
          const code = (event as { code?: number }).code;
          if (typeof code === 'number') this.closeCodes.push(code);
        },
      },
    });
    this.subscribe();
  }

  get final(): PhoneEvent | undefined {
    return this.events.at(-1);
  }

  get finished(): boolean {
    return this.final?.terminal === true;
  }

  private subscribe(): void {
    if (this.stopped) return;
    this.unsubscribe = this.client.subscribe(
      {
        query:
          'subscription ($chargeId: ID!) { chargeStatus(chargeId: $chargeId) { chargeId status terminal } }',
        variables: { chargeId: this.chargeId },
      },
      {
        next: (result) => {
          if (result.errors) this.errors.push(...result.errors.map((e) => e.message));
          const event = (result.data as { chargeStatus?: { status: string; terminal: boolean } } | undefined)
            ?.chargeStatus;
          if (event) this.events.push({ status: event.status, terminal: event.terminal, at: Date.now() });
          if (this.finished) this.resolveDone();
        },
        error: (error) => {
          this.errors.push(Array.isArray(error) ? JSON.stringify(error) : String(error));
          this.again();
        },
        complete: () => {
          if (this.finished) this.resolveDone();
          else this.again();
        },
      },
    );
  }

  private again(): void {
    if (this.stopped || this.finished) return;
    this.resubscribes++;
    setTimeout(() => this.subscribe(), 200 + Math.random() * 300);
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    await this.client.dispose();
    this.resolveDone();
  }
}
