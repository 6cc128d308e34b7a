import { Field, ObjectType } from 'type-graphql';
import { ChargeType } from './charge.js';

@ObjectType('ChargeEdge')
export class ChargeEdge {
  @Field(() => String, {
    description:
      'Opaque; pass as `after` to read the charges after this one. Anchored on this charge (its ' +
      'creation time and id), not on a position: charges created meanwhile never shift later pages.',
  })
  cursor!: string;

  @Field(() => ChargeType)
  node!: ChargeType;
}

@ObjectType('PageInfo')
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}

@ObjectType('ChargeConnection', { description: 'A page of charges (Relay connection).' })
export class ChargeConnection {
  @Field(() => [ChargeEdge])
  edges!: ChargeEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;

  /**
   * Resolved by ChargeQueryResolver's field resolver, which calls this only when the field is asked
   * for: after the first page it costs an Omise call.
   */
  countTotal!: () => Promise<number>;
}
