import { JSONObjectResolver } from 'graphql-scalars';
import { Field, ID, InputType, Int } from 'type-graphql';
import type * as model from '../../payments/model.js';
import { CurrencyEnum, PaymentOutcomeEnum } from './enums.js';

@InputType('CreateTrueMoneyChargeInput')
export class CreateTrueMoneyChargeInputType {
  @Field(() => Int, { description: 'Amount in satang, 10000..5000000 (100.00..50,000.00 THB).' })
  amount!: number;

  @Field(() => CurrencyEnum, {
    defaultValue: 'THB',
    description: 'THB only (TrueMoney QR); another currency gets userErrors UNSUPPORTED_CURRENCY.',
  })
  currency!: model.Currency;

  @Field(() => ID, {
    nullable: true,
    description: 'A src_ created client-side with the public key; omitted → created by the gateway.',
  })
  sourceId?: string | null;

  @Field(() => String, { nullable: true })
  returnUri?: string | null;

  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field(() => JSONObjectResolver, { nullable: true })
  metadata?: model.Metadata | null;

  @Field(() => String, {
    nullable: true,
    description:
      'Same key and same input → the first result again; same key, other input → IDEMPOTENCY_KEY_REUSED.',
  })
  idempotencyKey?: string | null;
}

@InputType('RefundChargeInput')
export class RefundChargeInputType {
  @Field(() => ID)
  chargeId!: string;

  @Field(() => Int, {
    nullable: true,
    description:
      "In the charge's currency's smallest unit (satang for THB); omitted → what is left to refund.",
  })
  amount?: number | null;

  @Field(() => JSONObjectResolver, { nullable: true })
  metadata?: model.Metadata | null;

  @Field(() => String, { nullable: true })
  idempotencyKey?: string | null;
}

@InputType('VoidChargeInput')
export class VoidChargeInputType {
  @Field(() => ID)
  chargeId!: string;

  @Field(() => String, { nullable: true })
  idempotencyKey?: string | null;
}

@InputType('SimulateChargeOutcomeInput')
export class SimulateChargeOutcomeInputType {
  @Field(() => ID)
  chargeId!: string;

  @Field(() => PaymentOutcomeEnum)
  outcome!: model.PaymentOutcome;
}
