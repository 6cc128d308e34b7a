/** `chargeStatus` was asked for a charge Omise does not know. The GraphQL layer maps it to a GraphQL error. */
export class ChargeNotFoundError extends Error {
  override name = 'ChargeNotFoundError';
  readonly code = 'CHARGE_NOT_FOUND';
  constructor(readonly chargeId: string) {
    super(`charge ${chargeId} was not found`);
  }
}
