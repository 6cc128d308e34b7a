import { GraphQLError } from 'graphql';
import type { AuthErrorCode } from './principal.js';

export interface AuthErrorOptions {
  /**
   * True (default): adds Apollo's `extensions.http` (401/403), which Apollo turns into the response's
   * status and removes from the body; right for a whole request refused (Apollo `context`). False: for
   * one field refused among others (authChecker) and for graphql-ws, which sends extensions as they are.
   */
  httpStatus?: boolean;
}

const HTTP_STATUS: Record<AuthErrorCode, number> = { UNAUTHENTICATED: 401, FORBIDDEN: 403 };

/** The GraphQL error for a refusal: `extensions.code` UNAUTHENTICATED or FORBIDDEN (docs/security.md). */
export function authError(
  refusal: { code: AuthErrorCode; message: string },
  options: AuthErrorOptions = {},
): GraphQLError {
  const extensions: Record<string, unknown> = { code: refusal.code };
  if (options.httpStatus ?? true) extensions['http'] = { status: HTTP_STATUS[refusal.code] };
  return new GraphQLError(refusal.message, { extensions });
}
