import { GraphQLError } from 'graphql';
import { Arg, Authorized, ID, Resolver, Root, Subscription, type SubscribeResolverData } from 'type-graphql';
import { UpstreamRateLimitedError, UpstreamUnavailableError } from '../../payments/errors.js';
import { isChargeId } from '../../payments/rules.js';
import { ChargeNotFoundError, type ChargeStatusEvent } from '../../payments/status-feed/index.js';
import { RealtimeUnavailableError } from '../../realtime/errors.js';
import type { GraphQLContext } from '../context.js';
import { GatewayErrorCode } from '../errors.js';
import { ChargeStatusEventType } from '../types/charge-status-event.js';

/**
 * `chargeStatus(chargeId)`: the feed's iterator, returned as is (its return() releases the topic and
 * the poll loop when the client leaves). The resolver only passes each event through.
 */
@Resolver()
export class ChargeStatusSubscriptionResolver {
  // type-graphql runs the authChecker on `subscribe` too: a client token for another charge is refused
  // (FORBIDDEN) when the subscription starts, before the feed is asked; and on every event, so that a
  // token that expired while subscribed stops receiving.
  @Authorized('charges:read')
  @Subscription(() => ChargeStatusEventType, {
    description:
      "The charge's current state first, then every change of status; completes right after a terminal " +
      'status. An id no charge has completes at once, without an event: the same answer as charge(id), ' +
      'which is null for it.',
    subscribe: ({ args, context }: SubscribeResolverData<unknown, { chargeId: string }, GraphQLContext>) =>
      subscribeToChargeStatus(context, args.chargeId),
  })
  chargeStatus(
    @Root() event: ChargeStatusEvent,
    @Arg('chargeId', () => ID) _chargeId: string,
  ): ChargeStatusEvent {
    // Over HTTP, Apollo executes a subscription like a query: there is no event then.
    if (event === undefined) throw subscriptionOverHttpError();
    return event;
  }
}

async function subscribeToChargeStatus(
  context: GraphQLContext,
  chargeId: string,
): Promise<AsyncIterableIterator<ChargeStatusEvent>> {
  const feed = context.chargeStatus;
  if (!feed) throw subscriptionOverHttpError();
  // Not even shaped like a charge id: unknown, without a topic subscription or an Omise call.
  if (!isChargeId(chargeId)) return noEvents();
  try {
    return await feed.subscribe(chargeId);
  } catch (error) {
    // Unknown to Omise: nothing to watch, as charge(id) is null for it (one rule for both).
    if (error instanceof ChargeNotFoundError) return noEvents();
    throw subscriptionError(error);
  }
}

/** A stream that ends at once: what there is to watch of a charge that does not exist. */
async function* noEvents(): AsyncIterableIterator<ChargeStatusEvent> {
  // Nothing to yield.
}

function subscriptionOverHttpError(): GraphQLError {
  return new GraphQLError(
    'chargeStatus is a subscription: use GraphQL over WebSocket (graphql-transport-ws) on /graphql.',
    { extensions: { code: 'BAD_REQUEST' } },
  );
}

/** The feed's failures as the GraphQL errors clients know (the codes of GatewayErrorCode, ../errors.ts). */
function subscriptionError(error: unknown): unknown {
  if (error instanceof UpstreamUnavailableError || error instanceof UpstreamRateLimitedError) {
    return error; // formatGatewayError gives them their codes
  }
  if (error instanceof RealtimeUnavailableError) {
    return new GraphQLError('Charge status updates are unavailable; retry later.', {
      extensions: { code: GatewayErrorCode.UPSTREAM_UNAVAILABLE },
    });
  }
  return error;
}
