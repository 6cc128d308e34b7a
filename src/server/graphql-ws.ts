import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import {
  getOperationAST,
  GraphQLError,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLSchema,
} from 'graphql';
import type { Context as WsContext } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import type { Logger } from 'pino';
import { WebSocket, WebSocketServer } from 'ws';
import type { ChargeStatusSubscriptions, GraphQLContext } from '../graphql/context.js';
import type { GuardedOperation } from '../limits/request-guards.js';
import { classifyError, formatGatewayError } from '../graphql/errors.js';
import type { ClientIpOf } from './client-ip.js';
import type { GatewayMetrics } from './metrics.js';
import type { ContextExtension, RequestContextFactory } from './request-context.js';
import type { DirectSink } from './direct-stream.js';
import { SharedFrames } from './shared-frames.js';
import { createSharedSubscriptionEvents, type SubscriberGroupOf } from './shared-subscription-events.js';

export const DEFAULT_WS_KEEP_ALIVE_MS = 12_000;
export const DEFAULT_WS_CONNECTION_INIT_TIMEOUT_MS = 5_000;
export const DEFAULT_WS_MAX_PAYLOAD_BYTES = 64 * 1024;
/** How long shutdown waits for clients to answer the close frame before cutting their sockets. */
export const DEFAULT_WS_CLOSE_GRACE_MS = 1_000;

/** What graphql-ws hands to its hooks for one connection, with the ws extras of this server. */
export type WebSocketConnection = WsContext<
  Record<string, unknown> | undefined,
  { socket: WebSocket; request: IncomingMessage }
>;

export interface GraphQLWebSocketOptions {
  /** The gateway's node:http server: upgrades on `path` are GraphQL over WebSocket. */
  server: Server;
  path?: string;
  schema: GraphQLSchema;
  /**
   * Access and limit checks (src/limits createWebSocketGuards, built over the DocumentCache):
   * `onConnect` at `connection_init` (false → close 4403), `guardOperation` before every operation
   * (rate limit, operations per connection, the parsed and validated document, complexity).
   * Subscriptions never pass through Apollo's plugins, so this is where they are checked.
   */
  guards: WebSocketGuards;
  /** Builds each operation's context (the same factory serves HTTP). */
  contextFor: RequestContextFactory;
  chargeStatus: ChargeStatusSubscriptions;
  logger: Logger;
  /**
   * The upgrade's `Origin` must pass this (the CORS allow-list, or the same origin), or the upgrade is
   * answered 403: a browser lets any page open a WebSocket anywhere, so without it CORS and CSRF
   * prevention would protect HTTP only. An upgrade without `Origin` is not from a browser and goes on to
   * authentication.
   * @default every origin
   */
  allowsOrigin?: (origin: string, host: string | undefined) => boolean;
  /**
   * The caller's address for rate limits and logs (TRUSTED_PROXIES).
   * @default the socket's
   */
  clientIpOf?: ClientIpOf;
  /**
   * Operations and error codes are counted as over HTTP (graphql_operations_total, graphql_errors_total);
   * open sockets are the gauge graphql_ws_connections.
   */
  metrics?: GatewayMetrics;
  /**
   * ws-level ping every keepAliveMs; a client that has not answered with a pong keepAliveMs later is
   * terminated, which completes its subscriptions (graphql-ws's own keep-alive).
   * @default 12 s
   */
  keepAliveMs?: number;
  /**
   * No `connection_init` within this → close 4408.
   * @default 5 s
   */
  connectionInitWaitTimeoutMs?: number;
  /**
   * Bigger messages close the socket (1009).
   * @default 64 KiB
   */
  maxPayloadBytes?: number;
  closeGraceMs?: number;
  /** Adds to each operation's context (the principal...); may throw a GraphQLError. */
  extendContext?: ContextExtension<WebSocketConnection>;
  /**
   * Subscribers of the same operation text and variables in the same group share one execution and one
   * serialisation of each event (./shared-subscription-events.ts); decided per subscriber and event.
   * Must return undefined for anyone the schema's checks might treat differently from the group.
   * @default every subscriber executes every event alone
   */
  subscriberGroupOf?: SubscriberGroupOf;
  /** Refuses an operation before it runs (limits, rate limiting): return errors to refuse. */
  checkOperation?: (
    connection: WebSocketConnection,
    args: ExecutionArgs,
  ) => Promise<readonly GraphQLError[] | void> | readonly GraphQLError[] | void;
}

/** What {@link attachGraphQLWebSocket} needs of src/limits' `createWebSocketGuards`. */
export interface WebSocketGuards {
  onConnect(connection: WebSocketConnection, clientIp: string | undefined): Promise<boolean>;
  guardOperation(
    connection: WebSocketConnection,
    payload: {
      query: string;
      variables?: Readonly<Record<string, unknown>> | null;
      operationName?: string | null;
    },
    clientIp: string | undefined,
  ): Promise<GuardedOperation>;
}

export interface GraphQLWebSocketServer {
  /** Sockets currently open. */
  readonly clientCount: number;
  /** Closes every socket (1001, then terminated after a short grace) and stops accepting upgrades. */
  close(): Promise<void>;
}

/**
 * GraphQL over WebSocket (graphql-transport-ws, graphql-ws's server on `ws`) on the gateway's own HTTP
 * server. Every operation passes the guards first (documents come from the DocumentCache, parsed and
 * validated with the query limits once per distinct text), errors
 * are formatted exactly as over HTTP (formatGatewayError), and each operation gets its own context.
 */
export function attachGraphQLWebSocket(options: GraphQLWebSocketOptions): GraphQLWebSocketServer {
  const { schema, guards, contextFor, chargeStatus, logger } = options;
  const clientIpOf: ClientIpOf = options.clientIpOf ?? ((req) => req.socket.remoteAddress);
  const clientIp = (connection: WebSocketConnection) => clientIpOf(connection.extra.request);
  const log = logger.child({ component: 'graphql-ws' });
  const { allowsOrigin, metrics } = options;
  const events = createSharedSubscriptionEvents({
    groupOf: options.subscriberGroupOf ?? (() => undefined),
    onExecute: (sharing) => metrics?.subscriptionExecutions.inc({ sharing }),
    directSinkOf: (args) => directSinks.get(args),
  });
  const frames = new SharedFrames();
  /** Sockets held (corked) in this turn of the event loop: one setImmediate lets them all go. */
  let held: FramedWebSocket[] = [];
  const releaseHeld = () => {
    const sockets = held;
    held = [];
    for (const socket of sockets) socket.release();
  };
  /** A socket that shared frames are written to directly (see directSinkFor). */
  class FramedWebSocket extends WebSocket {
    /** The connection's TCP socket (the upgrade request's). */
    tcp: Socket | undefined;
    private corked = false;

    /** Writes what was held this turn (see writeFrame). */
    release(): void {
      this.corked = false;
      this.tcp?.uncork();
    }

    /**
     * Sends a text frame without a callback. The socket is held until this turn of the event loop
     * ends, so that a terminal status and its `complete` (and every frame of the turn) leave in one
     * write. Nothing is sent once the socket is no longer open (as graphql-ws's own send).
     */
    writeFrame(text: string): void {
      if (this.readyState !== WebSocket.OPEN) return;
      if (!this.corked && this.tcp !== undefined) {
        this.corked = true;
        this.tcp.cork();
        if (held.push(this) === 1) setImmediate(releaseHeld);
      }
      super.send(text);
    }
  }
  /**
   * A subscriber's shared results go straight to its socket, serialised once per group: graphql-ws
   * would copy each result, await onNext and the send, then do the same for `complete`. graphql-ws
   * keeps everything else (subscribe, the client's complete, pings, errors and their formatting).
   * It is told a subscription completed by its own bookkeeping: the id leaves `subscriptions` before
   * the stream ends, so it sends no second `complete` and the id is free for the client at once (its
   * own clean-up after the stream ends runs in the same microtasks, before any message is read).
   */
  const directSinkFor = (connection: WebSocketConnection, id: string): DirectSink => {
    const socket = connection.extra.socket as FramedWebSocket;
    // Read each time: graphql-ws replaces the record when the socket closes.
    const subscriptions = () => connection.subscriptions as Record<string, unknown>;
    return {
      next(result, stream) {
        if (!events.isShared(result)) return false;
        // No longer this id's (the client completed it, the socket closed): graphql-ws ends the stream.
        if (subscriptions()[id] === stream) socket.writeFrame(frames.next(id, result));
        return true;
      },
      complete(stream) {
        if (subscriptions()[id] !== stream) return;
        delete subscriptions()[id];
        socket.writeFrame(frames.complete(id));
      },
    };
  };
  const directSinks = new WeakMap<ExecutionArgs, DirectSink>();
  const wss = new WebSocketServer({
    WebSocket: FramedWebSocket,
    server: options.server,
    path: options.path ?? '/graphql',
    maxPayload: options.maxPayloadBytes ?? DEFAULT_WS_MAX_PAYLOAD_BYTES,
    ...(allowsOrigin && {
      verifyClient: (
        info: { origin: string; req: IncomingMessage },
        done: (ok: boolean, status?: number, message?: string) => void,
      ) => {
        const origin = info.req.headers.origin;
        if (origin === undefined || allowsOrigin(origin, info.req.headers.host)) {
          done(true);
          return;
        }
        log.warn({ origin, clientIp: clientIpOf(info.req) }, 'WebSocket upgrade refused: origin not allowed');
        done(false, 403, 'Forbidden');
      },
    }),
  });
  wss.on('error', (error) => log.error({ err: error }, 'WebSocket server error'));

  metrics?.gauge('graphql_ws_connections', 'Open GraphQL WebSocket connections.', () => wss.clients.size);
  const formatErrors = (errors: readonly GraphQLError[], requestId?: string) =>
    errors.map((error) => {
      if (classifyError(error) === 'internal') {
        log.error(
          { err: error.originalError ?? error, requestId },
          'internal error in a WebSocket operation',
        );
      }
      const formatted = formatGatewayError(error.toJSON(), error);
      const code = formatted.extensions?.code;
      metrics?.graphqlErrors.inc({ code: typeof code === 'string' ? code : 'UNKNOWN' });
      // As over HTTP: the request id a client quotes is the one the log lines carry.
      return requestId === undefined
        ? formatted
        : { ...formatted, extensions: { ...formatted.extensions, requestId } };
    });

  const disposable = useServer(
    {
      // Whatever else throws in an operation's set-up closes the socket with "Internal server error",
      // never with the error's own message (graphql-ws sends it outside production).
      isProd: true,
      schema,
      subscribe: events.subscribe,
      connectionInitWaitTimeout: options.connectionInitWaitTimeoutMs ?? DEFAULT_WS_CONNECTION_INIT_TIMEOUT_MS,
      // Refused (bad or, auth being on, missing credential; rate limited) → graphql-ws closes with 4403.
      onConnect: (connection) =>
        guards.onConnect(connection as WebSocketConnection, clientIp(connection as WebSocketConnection)),
      onSubscribe: async (ctx, id, payload) => {
        const connection = ctx as WebSocketConnection;
        // First, so that a refusal (syntax, validation, limits...) carries it too, as over HTTP.
        const requestId = randomUUID();
        const ip = clientIp(connection);
        const guarded = await guards.guardOperation(connection, payload, ip);
        if (!guarded.ok) return withRequestId(guarded.errors, requestId);
        let contextValue: GraphQLContext;
        try {
          let operationLog: Logger | undefined;
          contextValue = await contextFor({
            transport: connection,
            requestId,
            // Made when something logs (a pino child costs more than many an operation).
            get logger() {
              return (operationLog ??= log.child({
                requestId,
                clientIp: ip,
                operationName: payload.operationName ?? undefined,
              }));
            },
            principal: guarded.principal,
            chargeStatus,
            extend: options.extendContext,
          });
        } catch (error) {
          // A refusal (UNAUTHENTICATED...), or an internal error already masked: this operation's error,
          // not the connection's end (thrown on, graphql-ws would close the socket with its message).
          return withRequestId([error as GraphQLError], requestId);
        }
        const args: ExecutionArgs = {
          schema,
          document: guarded.document,
          operationName: payload.operationName ?? null,
          variableValues: payload.variables ?? null,
          contextValue,
        };
        const refused = await options.checkOperation?.(connection, args);
        if (refused && refused.length > 0) return withRequestId(refused, requestId);
        directSinks.set(args, directSinkFor(connection, id));
        return args;
      },
      // Once per operation that ran: a subscription that started is `ok` (its stream may still carry
      // errors, counted by code), one whose subscribe failed or a query with errors is `error`.
      onOperation: (_connection, _id, _payload, args, result) => {
        const type = getOperationAST(args.document, args.operationName)?.operation ?? 'unknown';
        const failed =
          !(Symbol.asyncIterator in result) && Boolean((result as ExecutionResult).errors?.length);
        metrics?.graphqlOperations.inc({ operation_type: type, outcome: failed ? 'error' : 'ok' });
      },
      onNext: (_connection, _id, _payload, args, result) => {
        // Shared results never come here (written directly, see directSinkFor).
        if (!result.errors || result.errors.length === 0) return undefined;
        const requestId = (args.contextValue as GraphQLContext | undefined)?.requestId;
        return { ...result, errors: formatErrors(result.errors, requestId) };
      },
      // Refused before running (syntax, validation, a hook) — or, rarely, a stream that threw.
      onError: (_connection, _id, _payload, errors) => {
        metrics?.graphqlOperations.inc({ operation_type: 'unknown', outcome: 'error' });
        const requestId = errors.map((e) => e.extensions['requestId']).find((v) => typeof v === 'string');
        return formatErrors(errors, requestId);
      },
    },
    wss,
    options.keepAliveMs ?? DEFAULT_WS_KEEP_ALIVE_MS,
  );

  // graphql-ws answers a socket error (a message over maxPayload, a protocol violation) with a
  // console.error line; ws has already closed such a socket with the right code (1009...), so a
  // structured warning replaces it.
  wss.on('connection', (socket, request) => {
    (socket as FramedWebSocket).tcp = request.socket as Socket;
    socket.removeAllListeners('error');
    socket.on('error', (error: Error & { code?: string }) => {
      log.warn({ code: error.code, reason: error.message }, 'WebSocket closed on a protocol error');
      if (socket.readyState === socket.OPEN) socket.close(1011, 'Internal server error');
    });
  });

  let closing: Promise<void> | undefined;
  return {
    get clientCount() {
      return wss.clients.size;
    },
    close() {
      closing ??= (async () => {
        const cut = setTimeout(() => {
          for (const client of wss.clients) client.terminate();
        }, options.closeGraceMs ?? DEFAULT_WS_CLOSE_GRACE_MS);
        cut.unref();
        try {
          // dispose() sends 1001 Going away to every client and stops upgrades, but resolves before the
          // sockets are closed: wait for them (or for the cut above), or the process could exit before
          // the close frames are out and clients would see 1006 instead.
          const sockets = [...wss.clients];
          const gone = Promise.all(
            sockets.map((socket) =>
              socket.readyState === socket.CLOSED
                ? undefined
                : new Promise<void>((resolve) => socket.once('close', () => resolve())),
            ),
          );
          await disposable.dispose();
          await gone;
        } finally {
          clearTimeout(cut);
        }
      })();
      return closing;
    },
  };
}

/** Copies of `errors` carrying the operation's request id (cached refusals are shared: never mutated). */
function withRequestId(errors: readonly GraphQLError[], requestId: string): GraphQLError[] {
  return errors.map(
    (error) =>
      new GraphQLError(error.message, {
        ...(error.nodes && { nodes: error.nodes }),
        ...(error.source && { source: error.source }),
        ...(error.positions && { positions: error.positions }),
        ...(error.path && { path: error.path }),
        ...(error.originalError && { originalError: error.originalError }),
        extensions: { ...error.extensions, requestId },
      }),
  );
}
