import type { UserError } from './errors.js';
import { IDEMPOTENCY_METADATA_KEY } from './omise-mapper.js';
import type { Charge } from './model.js';

/**
 * Business rules checked before calling Omise. Each returns the list of UserErrors (empty = passes), so a
 * caller can report every problem of an input at once. Pure functions; the clock is passed in.
 */

/** TrueMoney QR limits (the guide: THB 100.00 .. THB 50,000.00), in satang. */
export const MIN_AMOUNT = 10_000;
export const MAX_AMOUNT = 5_000_000;
export const MAX_METADATA_KEYS = 50;
export const MAX_METADATA_BYTES = 8 * 1024;
export const MAX_DESCRIPTION_LENGTH = 255;
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;
export const MAX_RETURN_URI_LENGTH = 2048;
/** Refunds are possible within 30 days of payment (the guide). */
export const REFUND_WINDOW_MS = 30 * 24 * 60 * 60 * 1000;
/** At most this many refunds per charge (Omise refuses more). */
export const MAX_REFUNDS_PER_CHARGE = 15;

const CHARGE_ID = /^chrg_(test_)?[0-9a-z]+$/;
const SOURCE_ID = /^src_(test_)?[0-9a-z]+$/;

export const isChargeId = (id: string): boolean => CHARGE_ID.test(id);
export const isSourceId = (id: string): boolean => SOURCE_ID.test(id);

const field = (...path: string[]): string[] => ['input', ...path];

export function checkChargeAmount(amount: number): UserError[] {
  if (!Number.isSafeInteger(amount)) {
    return [
      {
        code: 'INVALID_AMOUNT',
        message: 'amount must be an integer number of satang',
        field: field('amount'),
      },
    ];
  }
  if (amount < MIN_AMOUNT || amount > MAX_AMOUNT) {
    return [
      {
        code: 'AMOUNT_OUT_OF_RANGE',
        message: `amount must be between ${MIN_AMOUNT} and ${MAX_AMOUNT} satang (THB 100.00 to THB 50,000.00)`,
        field: field('amount'),
      },
    ];
  }
  return [];
}

export function checkCurrency(currency: string): UserError[] {
  return currency === 'THB'
    ? []
    : [{ code: 'UNSUPPORTED_CURRENCY', message: 'TrueMoney QR accepts THB only', field: field('currency') }];
}

export function checkReturnUri(uri: string | null | undefined): UserError[] {
  if (uri === null || uri === undefined) return [];
  const bad: UserError = {
    code: 'INVALID_RETURN_URI',
    message: 'returnUri must be an absolute http(s) URL without credentials',
    field: field('returnUri'),
  };
  if (uri.length > MAX_RETURN_URI_LENGTH) return [bad];
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return [bad];
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.hostname === '') return [bad];
  // Credentials in a URL that is sent to Omise and shown back to customers would leak.
  if (url.username !== '' || url.password !== '') return [bad];
  return [];
}

export function checkDescription(description: string | null | undefined): UserError[] {
  if (description === null || description === undefined) return [];
  return [...description].length <= MAX_DESCRIPTION_LENGTH
    ? []
    : [
        {
          code: 'INVALID_DESCRIPTION',
          message: `description must be at most ${MAX_DESCRIPTION_LENGTH} characters`,
          field: field('description'),
        },
      ];
}

export function checkMetadata(metadata: unknown): UserError[] {
  if (metadata === null || metadata === undefined) return [];
  const at = field('metadata');
  if (typeof metadata !== 'object' || Array.isArray(metadata)) {
    return [{ code: 'INVALID_METADATA', message: 'metadata must be a JSON object', field: at }];
  }
  const keys = Object.keys(metadata);
  if (keys.includes(IDEMPOTENCY_METADATA_KEY)) {
    return [
      {
        code: 'INVALID_METADATA',
        message: `metadata key ${IDEMPOTENCY_METADATA_KEY} is reserved`,
        field: at,
      },
    ];
  }
  if (keys.length > MAX_METADATA_KEYS) {
    return [
      {
        code: 'METADATA_TOO_LARGE',
        message: `metadata may have at most ${MAX_METADATA_KEYS} keys`,
        field: at,
      },
    ];
  }
  let json: string;
  try {
    json = JSON.stringify(metadata);
  } catch {
    return [{ code: 'INVALID_METADATA', message: 'metadata must be JSON-serialisable', field: at }];
  }
  if (Buffer.byteLength(json, 'utf8') > MAX_METADATA_BYTES) {
    return [
      {
        code: 'METADATA_TOO_LARGE',
        message: `metadata may be at most ${MAX_METADATA_BYTES} bytes of JSON`,
        field: at,
      },
    ];
  }
  return [];
}

// Printable ASCII (space to tilde): safe in logs, headers and Redis keys.
const IDEMPOTENCY_KEY = /^[\x20-\x7e]+$/;

export function checkIdempotencyKey(key: string | null | undefined): UserError[] {
  if (key === null || key === undefined) return [];
  return key.length <= MAX_IDEMPOTENCY_KEY_LENGTH && IDEMPOTENCY_KEY.test(key)
    ? []
    : [
        {
          code: 'INVALID_IDEMPOTENCY_KEY',
          message: `idempotencyKey must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters`,
          field: field('idempotencyKey'),
        },
      ];
}

export interface CreateChargeFields {
  amount: number;
  currency: string;
  sourceId?: string | null;
  returnUri?: string | null;
  description?: string | null;
  metadata?: unknown;
  idempotencyKey?: string | null;
}

/** Everything about a create-charge input that can be checked without Omise. */
export function checkCreateCharge(input: CreateChargeFields): UserError[] {
  const errors = [
    ...checkChargeAmount(input.amount),
    ...checkCurrency(input.currency),
    ...checkReturnUri(input.returnUri),
    ...checkDescription(input.description),
    ...checkMetadata(input.metadata),
    ...checkIdempotencyKey(input.idempotencyKey),
  ];
  if (input.sourceId !== null && input.sourceId !== undefined && !isSourceId(input.sourceId)) {
    errors.push({
      code: 'SOURCE_NOT_FOUND',
      message: 'sourceId is not an Omise source id',
      field: field('sourceId'),
    });
  }
  return errors;
}

/** Checks a refund amount's shape (before the charge is known). */
export function checkRefundAmount(amount: number | null | undefined): UserError[] {
  if (amount === null || amount === undefined) return [];
  return Number.isSafeInteger(amount) && amount > 0
    ? []
    : [
        {
          code: 'INVALID_AMOUNT',
          message: "amount must be a positive integer in the charge's smallest currency unit",
          field: field('amount'),
        },
      ];
}

/** What is left to refund on a charge. */
export const remainingAmount = (charge: Charge): number => charge.amount - charge.refundedAmount;

/**
 * Whether `amount` (already shape-checked) may be refunded from `charge` now. Order matters: the charge's
 * state first, then the window, then the count, then the amount.
 */
export function checkRefund(charge: Charge, amount: number, now: Date): UserError[] {
  const remaining = remainingAmount(charge);
  if (charge.status !== 'SUCCESSFUL' || charge.voided || remaining <= 0) {
    const why =
      charge.status !== 'SUCCESSFUL'
        ? `the charge is ${charge.status.toLowerCase()}, not successful`
        : charge.voided
          ? 'the charge was voided'
          : 'the charge is fully refunded';
    return [{ code: 'CHARGE_NOT_REFUNDABLE', message: `Cannot refund: ${why}`, field: field('chargeId') }];
  }
  const paidAt = charge.paidAt ?? charge.createdAt;
  if (now.getTime() - paidAt.getTime() > REFUND_WINDOW_MS) {
    return [
      {
        code: 'REFUND_WINDOW_EXPIRED',
        message: 'Refunds are possible within 30 days of payment',
        field: field('chargeId'),
      },
    ];
  }
  if (charge.refunds.length >= MAX_REFUNDS_PER_CHARGE) {
    return [
      {
        code: 'TOO_MANY_REFUNDS',
        message: `A charge can have at most ${MAX_REFUNDS_PER_CHARGE} refunds`,
        field: field('chargeId'),
      },
    ];
  }
  if (amount > remaining) {
    return [
      {
        code: 'REFUND_EXCEEDS_REMAINING',
        message: `amount exceeds what is left to refund (${remaining} in the charge's smallest currency unit)`,
        field: field('amount'),
      },
    ];
  }
  return [];
}

/** A void is possible only while Omise says so (same Bangkok day, before settlement). */
export function checkVoid(charge: Charge): UserError[] {
  if (charge.voidable && !charge.voided && remainingAmount(charge) > 0) return [];
  const why = charge.voided
    ? 'the charge is already voided'
    : charge.status !== 'SUCCESSFUL'
      ? `the charge is ${charge.status.toLowerCase()}`
      : 'the void window has passed; refund it instead';
  return [{ code: 'CHARGE_NOT_VOIDABLE', message: `Cannot void: ${why}`, field: field('chargeId') }];
}

export function checkSimulatable(charge: Charge): UserError[] {
  return charge.status === 'PENDING'
    ? []
    : [
        {
          code: 'CHARGE_NOT_PENDING',
          message: `The charge is ${charge.status.toLowerCase()}; only a pending charge can be completed`,
          field: field('chargeId'),
        },
      ];
}
