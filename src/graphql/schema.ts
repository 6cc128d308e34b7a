import 'reflect-metadata';
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { DateTimeResolver } from 'graphql-scalars';
import { buildSchema, type AuthChecker, type PubSub } from 'type-graphql';
import { createAuthChecker } from '../auth/authorization.js';
import type { GraphQLContext } from './context.js';
import { ChargeQueryResolver } from './resolvers/charge-query-resolver.js';
import { ChargeStatusSubscriptionResolver } from './resolvers/charge-status-subscription-resolver.js';
import { PaymentMutationResolver } from './resolvers/payment-mutation-resolver.js';
import { QrCodeResolver } from './resolvers/qr-code-resolver.js';

export interface BuildGatewaySchemaOptions {
  /**
   * type-graphql's `pubSub`, for subscriptions declared with `topics`. `chargeStatus` uses its own
   * `subscribe` (the ChargeStatusFeed from the context), so the default refuses every use.
   */
  pubSub?: PubSub;
  /**
   * Decides `@Authorized('<scope>')` fields (type-graphql).
   * @default OPERATION_RULES applied to `context.principal` (src/auth createAuthChecker)
   */
  authChecker?: AuthChecker<GraphQLContext>;
}

/** Every resolver class of the schema. */
export const RESOLVERS = [
  ChargeQueryResolver,
  PaymentMutationResolver,
  QrCodeResolver,
  ChargeStatusSubscriptionResolver,
] as const;

/**
 * type-graphql refuses to build a schema with subscriptions without a pubSub, even when every
 * subscription brings its own `subscribe`. This one makes any topic-based subscription fail loudly.
 */
const NO_TOPIC_PUBSUB: PubSub = {
  publish() {
    throw new Error('topic-based subscriptions are not used: pass a pubSub to buildGatewaySchema');
  },
  subscribe() {
    throw new Error('topic-based subscriptions are not used: pass a pubSub to buildGatewaySchema');
  },
};

/** Every root field carries `@Authorized('<scope>')`; this decides from the operation's principal. */
export const gatewayAuthChecker: AuthChecker<GraphQLContext> = createAuthChecker<GraphQLContext>({
  principalOf: (context) => context.principal,
});

/**
 * Builds the gateway's executable schema from the type-graphql classes. Resolvers take their services
 * from the per-request context, so the schema itself needs no running dependency (scripts/emit-schema.ts
 * and the schema freshness test build it standalone).
 */
export async function buildGatewaySchema(options: BuildGatewaySchemaOptions = {}): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: RESOLVERS,
    scalarsMap: [{ type: Date, scalar: DateTimeResolver }],
    pubSub: options.pubSub ?? NO_TOPIC_PUBSUB,
    authChecker: options.authChecker ?? gatewayAuthChecker,
    // Input rules live in payments/ (they become userErrors); type-graphql's class-validator is unused.
    validate: false,
  });
}

/** The SDL committed as schema.graphql: sorted, so that it is deterministic and diffs stay readable. */
export function printGatewaySchema(schema: GraphQLSchema): string {
  return `${SCHEMA_HEADER}${printSchema(lexicographicSortSchema(schema))}\n`;
}

const SCHEMA_HEADER =
  '# Generated from the type-graphql classes in src/graphql by `npm run schema`. Do not edit.\n\n';
