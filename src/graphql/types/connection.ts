import { Field, Int, ObjectType } from 'type-graphql';
import { ChargeType } from './charge.js';

@ObjectType('ChargeEdge')
export class ChargeEdge {
  @Field(() => String, { description: 'Opaque; pass as `after` to read the charges after this one.' })
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

  @Field(() => Int, { description: 'Charges matching from/to, across all pages.' })
  totalCount!: number;
}
