import { GraphQLError } from 'graphql';

export interface RateLimitedErrorOptions {
  /**
   * True (default): Apollo's `extensions.http` with status 429 and a `Retry-After` header (Apollo applies
   * and removes it). False for graphql-ws, which sends extensions as they are.
   */
  httpStatus?: boolean;
}

/** `extensions.code` RATE_LIMITED with `retryAfterSeconds`: the hint a client waits before retrying. */
export function rateLimitedError(
  retryAfterSeconds: number,
  options: RateLimitedErrorOptions = {},
): GraphQLError {
  const extensions: Record<string, unknown> = { code: 'RATE_LIMITED', retryAfterSeconds };
  if (options.httpStatus ?? true) {
    extensions['http'] = { status: 429, headers: new Map([['retry-after', String(retryAfterSeconds)]]) };
  }
  return new GraphQLError(`Too many requests; retry in ${retryAfterSeconds} s.`, { extensions });
}
