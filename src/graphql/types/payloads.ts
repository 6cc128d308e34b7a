import { Field, ObjectType, UseMiddleware } from 'type-graphql';
import { visibleToChargeReaders } from '../charge-visibility.js';
import { ChargeType, RefundType } from './charge.js';
import { UserErrorType } from './user-error.js';

const READERS_ONLY =
  'The charge after the operation; null unless the caller may also read it (charges:read): ' +
  "a key with only this mutation's scope gets the rest of the payload, not the charge.";

@ObjectType('CreateTrueMoneyChargePayload')
export class CreateTrueMoneyChargePayload {
  @Field(() => ChargeType, {
    nullable: true,
    description:
      'The new charge (show its qrCode). Its creator sees it, without charges:read: every field comes ' +
      "from its own input or is the new charge's id, status and QR code.",
  })
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

  @UseMiddleware(visibleToChargeReaders)
  @Field(() => ChargeType, { nullable: true, description: READERS_ONLY })
  charge!: ChargeType | null;

  @Field(() => [UserErrorType])
  userErrors!: UserErrorType[];
}

@ObjectType('VoidChargePayload')
export class VoidChargePayload {
  @Field(() => RefundType, { nullable: true })
  refund!: RefundType | null;

  @UseMiddleware(visibleToChargeReaders)
  @Field(() => ChargeType, { nullable: true, description: READERS_ONLY })
  charge!: ChargeType | null;

  @Field(() => [UserErrorType])
  userErrors!: UserErrorType[];
}

@ObjectType('SimulateChargeOutcomePayload')
export class SimulateChargeOutcomePayload {
  @UseMiddleware(visibleToChargeReaders)
  @Field(() => ChargeType, { nullable: true, description: READERS_ONLY })
  charge!: ChargeType | null;

  @Field(() => [UserErrorType])
  userErrors!: UserErrorType[];
}
