import {
  parse,
  specifiedRules,
  validate,
  GraphQLError,
  type DocumentNode,
  type GraphQLSchema,
} from 'graphql';
import type { Authenticator } from '../auth/authenticate.js';
import { authError } from '../auth/errors.js';
import type { Principal } from '../auth/principal.js';
import { rateLimitedError } from './errors.js';
import {
  createComplexityChecker,
  createValidationRules,
  resolveLimits,
  variableErrors,
  type QueryLimits,
} from './query-limits.js';
import { rateLimitKey, type RequestRateLimiter } from './rate-limiter.js';
import {
  DEFAULT_WEBSOCKET_LIMITS,
  exceedsOperationLimit,
  tooManyOperationsError,
  type OperationsOfConnection,
  type WebSocketLimits,
} from './websocket-limits.js';

export interface GuardDependencies {
  authenticator: Authenticator;
  rateLimiter: RequestRateLimiter;
}

/**
 * For Apollo's `context` function: who is calling, or a thrown GraphQLError that Apollo sends as is
 * (UNAUTHENTICATED 401 for a refused or, auth being on, missing credential; RATE_LIMITED 429 with
 * Retry-After). Every request counts against its budget, refused ones included (by IP), so that
 * guessing credentials is rate limited too.
 */
export function createHttpGuard(deps: GuardDependencies) {
  return async function guardHttpRequest(request: {
    authorization: string | undefined;
    clientIp: string | undefined;
  }): Promise<Principal> {
    const auth = await deps.authenticator.authenticate(request.authorization);
    const budget = await deps.rateLimiter.consume(rateLimitKey(auth, request.clientIp));
    if (budget.limited) throw rateLimitedError(budget.retryAfterSeconds);
    if (!auth.ok) throw authError({ code: 'UNAUTHENTICATED', message: auth.message });
    if (auth.principal.kind === 'anonymous') {
      throw authError({
        code: 'UNAUTHENTICATED',
        message: 'Authentication required: send "Authorization: Bearer <credential>".',
      });
    }
    return auth.principal;
  };
}

/** What the guards read of a graphql-ws connection (its `Context`, server/graphql-ws.ts WebSocketConnection, fits). */
export interface GuardedConnection extends OperationsOfConnection {
  readonly connectionParams?: Readonly<Record<string, unknown>>;
}

export type GuardedOperation =
  { ok: true; principal: Principal; document: DocumentNode } | { ok: false; errors: GraphQLError[] };

/**
 * The access and limit checks of GraphQL over WebSocket, for graphql-ws's `useServer`:
 * - `onConnect(ctx, clientIp)`: authenticates `connectionParams.authorization`; false (graphql-ws then
 *   closes with 4403 Forbidden) for a refused or, auth being on, missing credential.
 * - `guardOperation(ctx, payload, clientIp)`: in `onSubscribe`; rate limit, operations per connection,
 *   parse (maxTokens), graphql's rules plus the query limits with the operation's variables (complexity
 *   included). On `ok: false` return `errors` from `onSubscribe`; on `ok: true` execute `document` with
 *   `principal` in the context (the resolvers' authChecker then decides per field).
 */
export function createWebSocketGuards(
  deps: GuardDependencies & {
    schema: GraphQLSchema;
    queryLimits?: Partial<QueryLimits>;
    webSocketLimits?: Partial<WebSocketLimits>;
    /** Injected clock (tests). */
    now?: () => Date;
    /**
     * A cache of parsed and validated documents (the gateway's DocumentCache), validating with
     * graphql's rules plus `createValidationRules(schema, queryLimits)` without variables, and parsing
     * with `maxTokens`. Given → used instead of parsing and validating every operation; complexity,
     * which may depend on the variables, is then checked per operation (createComplexityChecker).
     */
    documents?: {
      get(
        query: string,
      ): { ok: true; document: DocumentNode } | { ok: false; errors: readonly GraphQLError[] };
    };
  },
) {
  const now = deps.now ?? (() => new Date());
  const principals = new WeakMap<object, Principal>();
  const queryLimits = resolveLimits(deps.queryLimits);
  /** Estimated once per document where the variables cannot change it. */
  const complexityOf = createComplexityChecker(queryLimits);
  const maxOperations =
    deps.webSocketLimits?.maxSubscriptionsPerConnection ??
    DEFAULT_WEBSOCKET_LIMITS.maxSubscriptionsPerConnection;

  return {
    async onConnect(connection: GuardedConnection, clientIp: string | undefined): Promise<boolean> {
      const auth = await deps.authenticator.authenticateConnectionParams(connection.connectionParams);
      // Connection attempts count too: a refused one by IP.
      const budget = await deps.rateLimiter.consume(rateLimitKey(auth, clientIp));
      if (budget.limited || !auth.ok || auth.principal.kind === 'anonymous') return false;
      principals.set(connection, auth.principal);
      return true;
    },

    async guardOperation(
      connection: GuardedConnection,
      payload: {
        query: string;
        variables?: Readonly<Record<string, unknown>> | null;
        operationName?: string | null;
      },
      clientIp: string | undefined,
    ): Promise<GuardedOperation> {
      const principal = principals.get(connection);
      if (principal === undefined) {
        return {
          ok: false,
          errors: [
            authError({ code: 'UNAUTHENTICATED', message: 'Not authenticated.' }, { httpStatus: false }),
          ],
        };
      }
      // A connection outlives the client token it was opened with.
      if (principal.kind === 'client' && principal.expiresAt.getTime() <= now().getTime()) {
        return {
          ok: false,
          errors: [
            authError({ code: 'UNAUTHENTICATED', message: 'Client token expired.' }, { httpStatus: false }),
          ],
        };
      }
      const budget = await deps.rateLimiter.consume(rateLimitKey(principal, clientIp));
      if (budget.limited)
        return { ok: false, errors: [rateLimitedError(budget.retryAfterSeconds, { httpStatus: false })] };
      if (exceedsOperationLimit(connection, maxOperations)) {
        return { ok: false, errors: [tooManyOperationsError(maxOperations)] };
      }
      if (deps.documents !== undefined) {
        const prepared = deps.documents.get(payload.query);
        if (!prepared.ok) return { ok: false, errors: [...prepared.errors] };
        const request = {
          schema: deps.schema,
          document: prepared.document,
          variables: payload.variables ?? {},
          operationName: payload.operationName ?? null,
        };
        // Bad variables are refused here on every operation, as before the estimate was remembered
        // (over HTTP, execution reports them instead).
        const invalid = variableErrors(request);
        if (invalid.length > 0) return { ok: false, errors: invalid };
        const { errors } = complexityOf(request);
        if (errors.length > 0) return { ok: false, errors };
        return { ok: true, principal, document: prepared.document };
      }
      let document: DocumentNode;
      try {
        document = parse(payload.query, { maxTokens: queryLimits.maxTokens });
      } catch (error) {
        return {
          ok: false,
          errors: [error instanceof GraphQLError ? error : new GraphQLError('Query could not be parsed.')],
        };
      }
      const errors = validate(deps.schema, document, [
        ...specifiedRules,
        ...createValidationRules(deps.schema, {
          ...queryLimits,
          variables: payload.variables ?? {},
          operationName: payload.operationName,
        }),
      ]);
      if (errors.length > 0) return { ok: false, errors: [...errors] };
      return { ok: true, principal, document };
    },
  };
}
