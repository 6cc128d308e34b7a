import { Field, ObjectType } from 'type-graphql';
import { ChargeType, RefundType } from './charge.js';
import { UserErrorType } from './user-error.js';

@ObjectType('CreateTrueMoneyChargePayload')
export class CreateTrueMoneyChargePayload {
  @Field(() => ChargeType, { nullable: true })
  charge!: ChargeType | null;

  @Field(() => String, {
    nullable: true,
    description: 'A credential scoped to this charge for browsers and apps (read it, subscribe to it).',
  })
  clientToken!: string | null;

  @Field(() => [UserErrorType])
  userErrors!: UserErrorType[];
}

@ObjectType('RefundChargePayload')
export class RefundChargePayload {
  @Field(() => RefundType, { nullable: true })
  refund!: RefundType | null;

  @Field(() => ChargeType, { nullable: true })
  charge!: ChargeType | null;

  @Field(() => [UserErrorType])
  userErrors!: UserErrorType[];
}

@ObjectType('VoidChargePayload')
export class VoidChargePayload {
  @Field(() => RefundType, { nullable: true })
  refund!: RefundType | null;

  @Field(() => ChargeType, { nullable: true })
  charge!: ChargeType | null;

  @Field(() => [UserErrorType])
  userErrors!: UserErrorType[];
}

@ObjectType('SimulateChargeOutcomePayload')
export class SimulateChargeOutcomePayload {
  @Field(() => ChargeType, { nullable: true })
  charge!: ChargeType | null;

  @Field(() => [UserErrorType])
  userErrors!: UserErrorType[];
}
