import { registerEnumType } from 'type-graphql';
import {
  CURRENCIES,
  CURRENCY_EXPONENTS,
  type ChargeStatus,
  type Currency,
  type PaymentOutcome,
} from '../../payments/model.js';
import type { UserErrorCode } from '../../payments/errors.js';

/*
 * GraphQL enums mirror the domain's string unions. `satisfies` makes the compiler reject a value the
 * domain lacks and a domain value missing here, so the schema cannot drift from payments/.
 */

export const ChargeStatusEnum = {
  PENDING: 'PENDING',
  SUCCESSFUL: 'SUCCESSFUL',
  FAILED: 'FAILED',
  EXPIRED: 'EXPIRED',
  REVERSED: 'REVERSED',
} as const satisfies { [K in ChargeStatus]: K };

/** Every currency the domain knows, in its order (CURRENCIES). */
export const CurrencyEnum = Object.fromEntries(CURRENCIES.map((currency) => [currency, currency])) as {
  [K in Currency]: K;
};

export const PaymentOutcomeEnum = {
  SUCCESSFUL: 'SUCCESSFUL',
  FAILED: 'FAILED',
} as const satisfies { [K in PaymentOutcome]: K };

export const UserErrorCodeEnum = {
  AMOUNT_OUT_OF_RANGE: 'AMOUNT_OUT_OF_RANGE',
  INVALID_AMOUNT: 'INVALID_AMOUNT',
  UNSUPPORTED_CURRENCY: 'UNSUPPORTED_CURRENCY',
  INVALID_RETURN_URI: 'INVALID_RETURN_URI',
  METADATA_TOO_LARGE: 'METADATA_TOO_LARGE',
  INVALID_DESCRIPTION: 'INVALID_DESCRIPTION',
  INVALID_IDEMPOTENCY_KEY: 'INVALID_IDEMPOTENCY_KEY',
  IDEMPOTENCY_KEY_REUSED: 'IDEMPOTENCY_KEY_REUSED',
  IDEMPOTENCY_REQUEST_IN_PROGRESS: 'IDEMPOTENCY_REQUEST_IN_PROGRESS',
  INVALID_METADATA: 'INVALID_METADATA',
  INVALID_PAGINATION: 'INVALID_PAGINATION',
  SOURCE_NOT_FOUND: 'SOURCE_NOT_FOUND',
  SOURCE_TYPE_MISMATCH: 'SOURCE_TYPE_MISMATCH',
  SOURCE_AMOUNT_MISMATCH: 'SOURCE_AMOUNT_MISMATCH',
  SOURCE_ALREADY_USED: 'SOURCE_ALREADY_USED',
  CHARGE_NOT_FOUND: 'CHARGE_NOT_FOUND',
  CHARGE_NOT_PENDING: 'CHARGE_NOT_PENDING',
  CHARGE_NOT_REFUNDABLE: 'CHARGE_NOT_REFUNDABLE',
  REFUND_EXCEEDS_REMAINING: 'REFUND_EXCEEDS_REMAINING',
  REFUND_WINDOW_EXPIRED: 'REFUND_WINDOW_EXPIRED',
  TOO_MANY_REFUNDS: 'TOO_MANY_REFUNDS',
  CHARGE_NOT_VOIDABLE: 'CHARGE_NOT_VOIDABLE',
  NOT_TEST_MODE: 'NOT_TEST_MODE',
  OMISE_REJECTED: 'OMISE_REJECTED',
} as const satisfies { [K in UserErrorCode]: K };

registerEnumType(ChargeStatusEnum, {
  name: 'ChargeStatus',
  description: 'Where a charge stands. Every status but PENDING is terminal.',
  valuesConfig: {
    PENDING: { description: 'Created; waiting for the customer to pay (scan the QR code).' },
    SUCCESSFUL: { description: 'Paid.' },
    FAILED: { description: 'The payment failed; see failureCode and failureMessage.' },
    EXPIRED: { description: 'Not paid in time.' },
    REVERSED: {
      description:
        'Reversed by Omise (released without capture). A voided charge stays SUCCESSFUL, voided true.',
    },
  },
});
registerEnumType(CurrencyEnum, {
  name: 'Currency',
  description:
    'ISO 4217 currency: every currency an Omise account can hold charges in, so that any charge can be ' +
    "read. Creating a charge accepts THB only (TrueMoney QR). Amounts are integers in the currency's " +
    'smallest unit; each value says its exponent (decimal places): JPY has none, all others two.',
  valuesConfig: Object.fromEntries(
    Object.keys(CurrencyEnum).map((code) => {
      const exponent = CURRENCY_EXPONENTS[code as Currency];
      const example = exponent === 0 ? `amount 12345 is 12345 ${code}` : `amount 12345 is 123.45 ${code}`;
      return [code, { description: `Exponent ${exponent}: ${example}.` }];
    }),
  ),
});
registerEnumType(PaymentOutcomeEnum, {
  name: 'PaymentOutcome',
  description: 'The outcome simulateChargeOutcome applies to a pending charge (test mode).',
});
registerEnumType(UserErrorCodeEnum, {
  name: 'UserErrorCode',
  description: 'Stable codes of expected business failures returned in userErrors.',
});
