import { print, type DocumentNode } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { ChargeStatusDocument, type ChargeStatusSubscription } from '../../generated/operations.js';

export type ChargeStatusEventData = ChargeStatusSubscription['chargeStatus'];

export interface GraphQLErrorJson {
  message: string;
  extensions?: Record<string, unknown>;
}

/** One subscription's whole story as a client sees it. */
export interface Subscription<T> {
  events: T[];
  /** Errors in `next` payloads (resolver errors) and the `error` message (refused operation). */
  errors: GraphQLErrorJson[];
  /** Resolves when the server completed the subscription or refused it; rejects on a socket failure. */
  ended: Promise<'complete' | 'error'>;
  /** Resolves once `count` events arrived. */
  received(count: number): Promise<void>;
  client: Client;
  close(): Promise<void>;
}

/** A graphql-ws client (real WebSocket, `ws`) on the gateway's /graphql, no retries. */
export function wsClient(graphqlUrl: string): Client {
  return createClient({
    url: graphqlUrl.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: true,
    lazyCloseTimeout: 0,
  });
}

export function subscribe<T>(
  graphqlUrl: string,
  document: DocumentNode | string,
  variables: Record<string, unknown>,
  pick: (data: Record<string, unknown>) => T,
  client: Client = wsClient(graphqlUrl),
): Subscription<T> {
  const events: T[] = [];
  const errors: GraphQLErrorJson[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const wake = () => {
    for (const waiter of [...waiters]) {
      if (events.length >= waiter.count) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  };
  let unsubscribe: () => void = () => {};
  const ended = new Promise<'complete' | 'error'>((resolve, reject) => {
    unsubscribe = client.subscribe(
      { query: typeof document === 'string' ? document : print(document), variables },
      {
        next: (result) => {
          if (result.errors) errors.push(...(result.errors as unknown as GraphQLErrorJson[]));
          if (result.data) events.push(pick(result.data as Record<string, unknown>));
          wake();
        },
        error: (error) => {
          if (Array.isArray(error)) {
            errors.push(...(error as GraphQLErrorJson[]));
            resolve('error');
          } else {
            reject(error instanceof Error ? error : new Error(`socket closed: ${describeClose(error)}`));
          }
        },
        complete: () => resolve('complete'),
      },
    );
  });
  ended.catch(() => undefined);
  return {
    events,
    errors,
    ended,
    client,
    received: (count) =>
      new Promise<void>((resolve, reject) => {
        waiters.push({ count, resolve });
        wake();
        ended.then(() => {
          if (events.length < count) reject(new Error(`ended after ${events.length} events`));
        }, reject);
      }),
    async close() {
      unsubscribe();
      await client.dispose();
    },
  };
}

export function subscribeToChargeStatus(
  graphqlUrl: string,
  chargeId: string,
  client?: Client,
): Subscription<ChargeStatusEventData> {
  return subscribe(
    graphqlUrl,
    ChargeStatusDocument,
    { chargeId },
    (data) => data.chargeStatus as ChargeStatusEventData,
    client,
  );
}

function describeClose(event: unknown): string {
  if (event && typeof event === 'object' && 'code' in event) {
    return `code ${String((event as { code: unknown }).code)}`;
  }
  return String(event);
}
