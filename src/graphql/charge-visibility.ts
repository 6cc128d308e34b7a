import type { MiddlewareFn } from 'type-graphql';
import { authorize } from '../auth/authorization.js';
import type { GraphQLContext } from './context.js';

/**
 * Least privilege on nested fields: a mutation needs its own scope (charges:refund...), but the charge
 * in its payload is what `charge(id)` would show, so it resolves only for a caller who may read that
 * charge (`charges:read`, or the client token of that charge); anyone else gets `null` there, and the
 * rest of the payload (the refund, userErrors) as usual. `null` and not a FORBIDDEN error: the
 * mutation did happen, and an error beside it would invite a retry.
 */
export const visibleToChargeReaders: MiddlewareFn<GraphQLContext> = async ({ context }, next) => {
  const charge = (await next()) as { id: string } | null | undefined;
  if (charge === null || charge === undefined) return charge;
  const decision = authorize(context.principal, { scope: 'charges:read', chargeId: charge.id });
  return decision.allowed ? charge : null;
};
