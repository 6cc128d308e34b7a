import { Field, ObjectType } from 'type-graphql';
import type * as errors from '../../payments/errors.js';
import { UserErrorCodeEnum } from './enums.js';

@ObjectType('UserError', { description: 'An expected business failure: the request was refused as sent.' })
export class UserErrorType {
  @Field(() => UserErrorCodeEnum)
  code!: errors.UserErrorCode;

  @Field(() => String, { description: 'Human-readable; may change. Match on code.' })
  message!: string;

  @Field(() => [String], { nullable: true, description: 'Path of the input field at fault.' })
  field?: string[] | null;
}
