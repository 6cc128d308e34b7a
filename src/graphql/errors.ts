import type { GraphQLFormattedError } from 'graphql';
import { GraphQLError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { UpstreamRateLimitedError, UpstreamUnavailableError, type UserError } from '../payments/errors.js';
import { RealtimeUnavailableError } from '../realtime/errors.js';

/** `extensions.code` values of GraphQL errors this gateway produces itself. */
export const GatewayErrorCode = {
  UPSTREAM_UNAVAILABLE: 'UPSTREAM_UNAVAILABLE',
  RATE_LIMITED: 'RATE_LIMITED',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
} as const;

export const INTERNAL_ERROR_MESSAGE = 'Internal server error';

/** How an error is reported: passed through as is, translated from a known system failure, or masked. */
export type ErrorClass = 'graphql' | 'upstream' | 'internal';

export function classifyError(error: unknown): ErrorClass {
  const original = unwrapResolverError(error);
  if (
    original instanceof UpstreamUnavailableError ||
    original instanceof UpstreamRateLimitedError ||
    original instanceof RealtimeUnavailableError
  ) {
    return 'upstream';
  }
  if (!(original instanceof GraphQLError)) return 'internal';
  // A GraphQLError made on purpose (parse, validation, variable coercion, BAD_USER_INPUT...) is meant
  // for the client. One that only wraps an unforeseen error without giving it a code is not (Apollo
  // wraps what a context function throws that way, message included).
  const inner = original.originalError;
  const wrapsUnforeseen = inner !== undefined && inner !== null && !(inner instanceof GraphQLError);
  const code = original.extensions?.code;
  return wrapsUnforeseen && (code === undefined || code === GatewayErrorCode.INTERNAL_SERVER_ERROR)
    ? 'internal'
    : 'graphql';
}

/**
 * Apollo's `formatError`: the only place errors leave the gateway. Known system failures get their
 * stable code; anything unforeseen becomes "Internal server error" (the real error is logged with the
 * request id, which the error-reporting plugin adds to the response).
 */
export function formatGatewayError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  const base = { locations: formatted.locations, path: formatted.path };
  if (original instanceof UpstreamRateLimitedError) {
    return {
      ...base,
      message: 'Omise is rate limiting the gateway; retry later.',
      extensions: {
        code: GatewayErrorCode.RATE_LIMITED,
        ...(original.retryAfterSeconds !== undefined && { retryAfterSeconds: original.retryAfterSeconds }),
      },
    };
  }
  if (original instanceof UpstreamUnavailableError) {
    return {
      ...base,
      message: 'Omise is unavailable; retry later.',
      extensions: { code: GatewayErrorCode.UPSTREAM_UNAVAILABLE },
    };
  }
  if (original instanceof RealtimeUnavailableError) {
    // Redis (idempotency keys, pub/sub) is down: temporary, like Omise being down. Never its message.
    return {
      ...base,
      message: 'A shared store of the gateway is unavailable; retry later.',
      extensions: { code: GatewayErrorCode.UPSTREAM_UNAVAILABLE },
    };
  }
  if (classifyError(error) === 'graphql') {
    // Never a stack trace, whatever else an extension carries.
    const { stacktrace: _stacktrace, ...extensions } = formatted.extensions ?? {};
    return { ...formatted, extensions };
  }
  return {
    ...base,
    message: INTERNAL_ERROR_MESSAGE,
    extensions: { code: GatewayErrorCode.INTERNAL_SERVER_ERROR },
  };
}

/** The masked error for an unforeseen failure outside resolvers (the log has the details). */
export function internalError(requestId: string): GraphQLError {
  return new GraphQLError(INTERNAL_ERROR_MESSAGE, {
    extensions: { code: GatewayErrorCode.INTERNAL_SERVER_ERROR, requestId, http: { status: 500 } },
  });
}

/**
 * A client mistake found by a query resolver (queries have no userErrors): BAD_USER_INPUT, with the
 * payments layer's code as `userErrorCode` and the field at fault.
 */
export function badUserInput(errors: readonly UserError[]): GraphQLError {
  const [first] = errors;
  return new GraphQLError(errors.map((e) => e.message).join('; '), {
    extensions: {
      code: GatewayErrorCode.BAD_USER_INPUT,
      ...(first && { userErrorCode: first.code }),
      ...(first?.field && { field: first.field }),
    },
  });
}
