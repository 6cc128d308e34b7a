import type { Logger } from 'pino';
import type { Principal } from '../auth/principal.js';
import {
  createContext,
  type ChargeStatusSubscriptions,
  type ClientTokenIssuer,
  type GraphQLContext,
} from '../graphql/context.js';
import { classifyError, internalError } from '../graphql/errors.js';
import type { PaymentsService } from '../payments/payments-service.js';

/**
 * Adds to an operation's base context from its transport (the HTTP request, the WebSocket connection),
 * e.g. more about the caller; may throw a GraphQLError to refuse the operation. Add with
 * `Object.assign(base, …)` or return `base`: a spread copy loses the (lazy) `logger` getter.
 */
export type ContextExtension<TTransport> = (
  transport: TTransport,
  base: GraphQLContext,
) => Promise<GraphQLContext>;

/** One operation, as a transport sees it. */
export interface OperationContextRequest<TTransport> {
  transport: TTransport;
  requestId: string;
  /** Already bound to the request id. */
  logger: Logger;
  /** Who is calling, or how to find out; may throw a refusal (UNAUTHENTICATED, RATE_LIMITED...). */
  principal: Principal | (() => Promise<Principal>);
  /** Over WebSocket: where `chargeStatus` subscribes. */
  chargeStatus?: ChargeStatusSubscriptions;
  extend?: ContextExtension<TTransport> | undefined;
}

/** Builds the context of one GraphQL operation; rejects with a GraphQLError fit for the client. */
export type RequestContextFactory = <TTransport>(
  request: OperationContextRequest<TTransport>,
) => Promise<GraphQLContext>;

/**
 * The one way an operation's context is made, over HTTP and WebSocket alike: the principal, the base
 * context, then the caller's extension. A refusal (a GraphQLError the gateway knows) passes as it is;
 * anything else is logged with the request id and replaced by INTERNAL_SERVER_ERROR carrying that id,
 * since Apollo and graphql-ws would otherwise show its message.
 */
export function createRequestContextFactory(services: {
  payments: PaymentsService;
  clientTokens: ClientTokenIssuer;
}): RequestContextFactory {
  return async (request) => {
    const { transport, requestId, principal, chargeStatus, extend } = request;
    try {
      const caller = typeof principal === 'function' ? await principal() : principal;
      const base = createContext({
        ...services,
        requestId,
        // Read when something logs: over HTTP the request logger (a pino child) is made lazily.
        get logger() {
          return request.logger;
        },
        principal: caller,
        ...(chargeStatus && { chargeStatus }),
      });
      return extend ? await extend(transport, base) : base;
    } catch (error) {
      if (classifyError(error) !== 'internal') throw error;
      request.logger.error({ err: error, requestId }, 'internal error while creating the GraphQL context');
      throw internalError(requestId);
    }
  };
}
