import { DateTimeResolver, JSONObjectResolver } from 'graphql-scalars';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import type * as model from '../../payments/model.js';
import { ChargeStatusEnum, CurrencyEnum } from './enums.js';

// Declared before Charge: decorator metadata of a property typed with a later class throws.

@ObjectType('QrCode', { description: 'The TrueMoney QR code the customer scans to pay.' })
export class QrCodeType implements model.QrCode {
  @Field(() => String, { description: "Omise's download URI of the QR code PNG." })
  imageUrl!: string;

  // imageDataUri is resolved lazily by QrCodeResolver.

  @Field(() => DateTimeResolver, { nullable: true, description: 'When the QR code stops being payable.' })
  expiresAt!: Date | null;
}

@ObjectType('Refund')
export class RefundType implements model.Refund {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  chargeId!: string;

  @Field(() => Int, { description: "Refunded amount in the currency's smallest unit (see Currency)." })
  amount!: number;

  @Field(() => CurrencyEnum)
  currency!: model.Currency;

  @Field(() => Boolean, { description: 'true when this refund is the void of a charge.' })
  voided!: boolean;

  @Field(() => JSONObjectResolver)
  metadata!: model.Metadata;

  @Field(() => DateTimeResolver)
  createdAt!: Date;
}

@ObjectType('Charge', { description: 'A TrueMoney QR charge.' })
export class ChargeType implements model.Charge {
  @Field(() => ID)
  id!: string;

  @Field(() => ChargeStatusEnum)
  status!: model.ChargeStatus;

  @Field(() => Int, {
    description:
      "Amount in the currency's smallest unit (see Currency): 10000 THB is 100.00 THB, 10000 JPY is ¥10000.",
  })
  amount!: number;

  @Field(() => CurrencyEnum)
  currency!: model.Currency;

  @Field(() => String, { description: 'Omise source type, e.g. truemoney_qr.' })
  sourceType!: string;

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field(() => JSONObjectResolver)
  metadata!: model.Metadata;

  @Field(() => QrCodeType, { nullable: true, description: 'The QR code to scan; null once not payable.' })
  qrCode!: QrCodeType | null;

  @Field(() => String, { nullable: true })
  returnUri!: string | null;

  @Field(() => String, { nullable: true })
  authorizeUri!: string | null;

  @Field(() => Boolean)
  paid!: boolean;

  @Field(() => DateTimeResolver, { nullable: true })
  paidAt!: Date | null;

  @Field(() => DateTimeResolver, { nullable: true })
  expiresAt!: Date | null;

  @Field(() => DateTimeResolver, { nullable: true })
  expiredAt!: Date | null;

  @Field(() => String, { nullable: true })
  failureCode!: string | null;

  @Field(() => String, { nullable: true })
  failureMessage!: string | null;

  @Field(() => Int, { description: "Sum of the refunds so far, in the currency's smallest unit." })
  refundedAmount!: number;

  @Field(() => Boolean)
  refundable!: boolean;

  @Field(() => Boolean)
  voidable!: boolean;

  @Field(() => Boolean)
  voided!: boolean;

  @Field(() => [RefundType])
  refunds!: RefundType[];

  @Field(() => Boolean, { description: 'false for test keys and the simulator.' })
  livemode!: boolean;

  @Field(() => DateTimeResolver)
  createdAt!: Date;
}
