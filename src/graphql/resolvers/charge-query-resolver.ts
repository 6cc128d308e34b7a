import { DateTimeResolver } from 'graphql-scalars';
import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Query, Resolver, Root } from 'type-graphql';
import type { GraphQLContext } from '../context.js';
import { badUserInput } from '../errors.js';
import { primeCharge } from '../loaders.js';
import { ChargeType } from '../types/charge.js';
import { ChargeConnection } from '../types/connection.js';

export const DEFAULT_PAGE_SIZE = 20;

@Resolver(() => ChargeConnection)
export class ChargeQueryResolver {
  // A client token may read its own charge only: the authChecker refuses another id (FORBIDDEN) before
  // the loader is asked, so a foreign charge is never fetched, let alone returned.
  @Authorized('charges:read')
  @Query(() => ChargeType, {
    nullable: true,
    description:
      'The charge with this id; null when no charge has it (chargeStatus of such an id completes ' +
      'without an event: the same answer).',
  })
  charge(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<ChargeType | null> {
    return ctx.loaders.charge.load(id);
  }

  @Authorized('charges:read')
  @Query(() => ChargeConnection, { description: 'Charges created between from and to, page by page.' })
  async charges(
    @Ctx() ctx: GraphQLContext,
    @Arg('first', () => Int, { nullable: true, defaultValue: DEFAULT_PAGE_SIZE }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('from', () => DateTimeResolver, { nullable: true }) from: Date | null,
    @Arg('to', () => DateTimeResolver, { nullable: true }) to: Date | null,
  ): Promise<ChargeConnection> {
    const result = await ctx.payments.listCharges({ first: first ?? DEFAULT_PAGE_SIZE, after, from, to });
    if (!result.ok) throw badUserInput(result.errors);
    for (const edge of result.value.edges) primeCharge(ctx.loaders, edge.node);
    const { totalCount, ...page } = result.value;
    return { ...page, countTotal: totalCount };
  }

  @FieldResolver(() => Int, { description: 'Charges matching from/to, across all pages.' })
  totalCount(@Root() connection: ChargeConnection): Promise<number> {
    return connection.countTotal();
  }
}
