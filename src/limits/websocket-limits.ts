import { GraphQLError } from 'graphql';

/** Limits of GraphQL over WebSocket (graphql-ws on ws). */
export interface WebSocketLimits {
  /** ws `WebSocketServer({ maxPayload })`: a bigger message closes the socket (1009). */
  maxPayloadBytes: number;
  /** Operations (subscriptions, queries, mutations) running at once on one connection. */
  maxSubscriptionsPerConnection: number;
  /** graphql-ws `connectionInitWaitTimeout`: a socket that never sends `connection_init` is closed (4408). */
  connectionInitWaitTimeoutMs: number;
}

export const DEFAULT_WEBSOCKET_LIMITS: Readonly<WebSocketLimits> = Object.freeze({
  maxPayloadBytes: 64 * 1024,
  maxSubscriptionsPerConnection: 20,
  connectionInitWaitTimeoutMs: 5_000,
});

/** Close codes the gateway uses (graphql-ws's CloseCode for the standard ones). */
export const WS_CLOSE_CODES = Object.freeze({
  /** connection_init refused: bad or missing credential (`onConnect` returning false closes with it). */
  FORBIDDEN: 4403,
  /** graphql-ws: connection_init not received in time. */
  CONNECTION_INIT_TIMEOUT: 4408,
  /** ws: message larger than maxPayload. */
  MESSAGE_TOO_BIG: 1009,
});

/** The part of graphql-ws's per-connection `Context` the counting needs. */
export interface OperationsOfConnection {
  readonly subscriptions: Readonly<Record<string, unknown>>;
}

/**
 * Operations running on a connection, read from graphql-ws's own bookkeeping (`ctx.subscriptions`,
 * which it fills before `onSubscribe` and empties in a `finally`), so that no path (errors, client
 * `complete`, socket close) can leak a slot the way a separate counter could.
 */
export function activeOperations(connection: OperationsOfConnection): number {
  return Object.keys(connection.subscriptions).length;
}

/**
 * For graphql-ws `onSubscribe`: true when this new operation (already registered by graphql-ws) makes
 * more than `max` at once on the connection; answer it with {@link tooManyOperationsError}.
 */
export function exceedsOperationLimit(connection: OperationsOfConnection, max: number): boolean {
  return activeOperations(connection) > max;
}

export function tooManyOperationsError(max: number): GraphQLError {
  return new GraphQLError(
    `At most ${max} operations may run at once on one connection; complete one first.`,
    {
      extensions: { code: 'TOO_MANY_SUBSCRIPTIONS', max },
    },
  );
}
