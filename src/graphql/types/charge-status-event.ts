import { DateTimeResolver } from 'graphql-scalars';
import { Field, ID, ObjectType } from 'type-graphql';
import type * as model from '../../payments/model.js';
import type { ChargeStatusEvent } from '../../payments/status-feed/index.js';
import { ChargeType } from './charge.js';
import { ChargeStatusEnum } from './enums.js';

@ObjectType('ChargeStatusEvent', {
  description:
    'One status of a charge, as the chargeStatus subscription sends it: the current state first, then every change.',
})
export class ChargeStatusEventType implements ChargeStatusEvent {
  @Field(() => ID)
  chargeId!: string;

  @Field(() => ChargeStatusEnum)
  status!: model.ChargeStatus;

  @Field(() => Boolean, { description: 'true for a final status: the subscription completes after it.' })
  terminal!: boolean;

  @Field(() => ChargeType, { description: 'The whole charge as Omise reported it with this status.' })
  charge!: ChargeType;

  @Field(() => DateTimeResolver, {
    description: "When the status was reached (Omise's paidAt/expiredAt when it says, else when observed).",
  })
  occurredAt!: Date;
}
