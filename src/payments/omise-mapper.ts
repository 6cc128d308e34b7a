import type {
  CreateChargeParams,
  CreateRefundParams,
  ListParams,
  OmiseCharge,
  OmiseRefund,
  OmiseSource,
} from '../omise/types.js';
import {
  isCurrency,
  type Charge,
  type ChargeStatus,
  type Currency,
  type Metadata,
  type QrCode,
  type Refund,
} from './model.js';

/**
 * Omise wire objects → the gateway's domain (model.ts). Omise's field names stop here.
 *
 * Lenient where Omise itself varies across API versions (`created` vs `created_at`, `refunded` vs
 * `refunded_amount`, lowercase currency, `Z` vs `+00:00`, no `status` in very old charges), strict where
 * a wrong value would cost money (amounts must be integers, the currency one of CURRENCIES).
 */

/** The metadata key that carries the gateway's idempotency handle (see idempotency.ts). */
export const IDEMPOTENCY_METADATA_KEY = 'gateway_idempotency_key';

/** An Omise answer the gateway cannot represent safely (non-integer amount, unknown status...). */
export class OmiseMappingError extends Error {
  override name = 'OmiseMappingError';
}

const STATUSES: Record<string, ChargeStatus> = {
  pending: 'PENDING',
  successful: 'SUCCESSFUL',
  failed: 'FAILED',
  expired: 'EXPIRED',
  reversed: 'REVERSED',
};

// ISO 8601 date-time with `Z` or a numeric offset, optional fractional seconds.
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/;

/** Parses an Omise timestamp (`2024-09-23T03:18:47Z`, `2015-01-15T05:04:30+00:00`, `...+07:00`). */
export function parseOmiseTimestamp(value: unknown, field: string): Date {
  if (typeof value !== 'string' || !ISO_TIMESTAMP.test(value)) {
    throw new OmiseMappingError(`${field} is not an ISO 8601 timestamp`);
  }
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new OmiseMappingError(`${field} is not a valid date`);
  return new Date(ms);
}

function optionalTimestamp(value: unknown, field: string): Date | null {
  return value === null || value === undefined ? null : parseOmiseTimestamp(value, field);
}

/** An amount in the currency's smallest unit, as Omise sends it. */
function minorUnits(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new OmiseMappingError(`${field} is not a non-negative integer amount`);
  }
  return value;
}

export function mapCurrency(value: unknown, field = 'currency'): Currency {
  const upper = typeof value === 'string' ? value.toUpperCase() : '';
  if (!isCurrency(upper))
    throw new OmiseMappingError(`${field} ${String(value)} is not a supported currency`);
  return upper;
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/** Omise metadata without the gateway's own bookkeeping key: callers get back what they sent. */
export function mapMetadata(value: unknown): Metadata {
  if (value === null || value === undefined || typeof value !== 'object' || Array.isArray(value)) return {};
  const { [IDEMPOTENCY_METADATA_KEY]: _handle, ...rest } = value as Record<string, unknown>;
  return rest;
}

function createdAt(raw: Record<string, unknown>, what: string): Date {
  // 2019-05-29 says `created_at`; 2017-11-02 and older said `created`.
  return parseOmiseTimestamp(raw['created_at'] ?? raw['created'], `${what}.created_at`);
}

function mapStatus(raw: OmiseCharge): ChargeStatus {
  const status = (raw as { status?: unknown }).status;
  if (status === undefined || status === null) {
    // Very old charges (pre-2016 API versions) have no status; derive it as Omise documents.
    if (raw.reversed === true) return 'REVERSED';
    if (raw.paid === true) return 'SUCCESSFUL';
    if (raw.failure_code) return 'FAILED';
    if (raw.expired === true) return 'EXPIRED';
    return 'PENDING';
  }
  const mapped = typeof status === 'string' ? STATUSES[status.toLowerCase()] : undefined;
  if (!mapped) throw new OmiseMappingError(`charge ${raw.id} has an unknown status ${String(status)}`);
  return mapped;
}

export function mapRefund(raw: OmiseRefund): Refund {
  if (typeof raw?.id !== 'string' || raw.id === '') throw new OmiseMappingError('refund without an id');
  return {
    id: raw.id,
    chargeId: String(raw.charge),
    amount: minorUnits(raw.amount, `refund ${raw.id} amount`),
    currency: mapCurrency(raw.currency, `refund ${raw.id} currency`),
    voided: raw.voided === true,
    metadata: mapMetadata(raw.metadata),
    createdAt: createdAt(raw, `refund ${raw.id}`),
  };
}

function mapQrCode(raw: OmiseCharge, expiresAt: Date | null): QrCode | null {
  const uri = raw.source?.scannable_code?.image?.download_uri;
  return typeof uri === 'string' && uri !== '' ? { imageUrl: uri, expiresAt } : null;
}

function sourceType(raw: OmiseCharge): string {
  if (raw.source && typeof raw.source.type === 'string') return raw.source.type;
  return raw['card'] ? 'card' : 'unknown';
}

export function mapCharge(raw: OmiseCharge): Charge {
  if (typeof raw?.id !== 'string' || raw.id === '') throw new OmiseMappingError('charge without an id');
  const what = `charge ${raw.id}`;
  const amount = minorUnits(raw.amount, `${what} amount`);
  const refundedRaw = raw.refunded_amount ?? (raw as { refunded?: unknown }).refunded ?? 0;
  const expiresAt = optionalTimestamp(raw.expires_at, `${what}.expires_at`);
  const refunds = Array.isArray(raw.refunds?.data) ? raw.refunds.data.map(mapRefund) : [];
  return {
    id: raw.id,
    status: mapStatus(raw),
    amount,
    currency: mapCurrency(raw.currency, `${what} currency`),
    sourceType: sourceType(raw),
    description: stringOrNull(raw.description),
    metadata: mapMetadata(raw.metadata),
    qrCode: mapQrCode(raw, expiresAt),
    returnUri: stringOrNull(raw.return_uri),
    authorizeUri: stringOrNull(raw.authorize_uri),
    paid: raw.paid === true,
    paidAt: optionalTimestamp(raw.paid_at, `${what}.paid_at`),
    expiresAt,
    expiredAt: optionalTimestamp(raw.expired_at, `${what}.expired_at`),
    failureCode: stringOrNull(raw.failure_code),
    failureMessage: stringOrNull(raw.failure_message),
    refundedAmount: minorUnits(refundedRaw, `${what} refunded_amount`),
    refundable: raw.refundable === true,
    voidable: raw.can_perform_void === true,
    voided: raw.voided === true,
    refunds,
    livemode: raw.livemode === true,
    createdAt: createdAt(raw, what),
  };
}

// ---- domain → Omise: what the use cases ask Omise for ----

/** The source type of a TrueMoney QR payment, as Omise names it (and as `Charge.sourceType` shows it). */
export const TRUEMONEY_QR = 'truemoney_qr';

/** A TrueMoney QR charge to create. */
export interface NewCharge {
  amount: number;
  currency: Currency;
  /** A client-made source; omitted → a TrueMoney QR source is created in the same call. */
  sourceId?: string | null | undefined;
  returnUri?: string | null | undefined;
  description?: string | null | undefined;
  /** Sent as given (the idempotency handle included). */
  metadata: Metadata;
}

export function toCreateChargeParams(charge: NewCharge): CreateChargeParams {
  return {
    amount: charge.amount,
    currency: charge.currency,
    source: charge.sourceId ? charge.sourceId : { type: TRUEMONEY_QR },
    ...(charge.returnUri ? { return_uri: charge.returnUri } : {}),
    ...(charge.description !== null && charge.description !== undefined
      ? { description: charge.description }
      : {}),
    metadata: charge.metadata,
  };
}

/** A refund to create; `void` → only as a void (Omise refuses it when that is not possible). */
export interface NewRefund {
  amount: number;
  metadata: Metadata;
  void: boolean;
}

export function toCreateRefundParams(refund: NewRefund): CreateRefundParams {
  return { amount: refund.amount, metadata: refund.metadata, ...(refund.void ? { void: true } : {}) };
}

/** A page of charges: `first` from `offset`, optionally within [from, to]. */
export interface ChargeListQuery {
  /** Omitted → Omise's page size (paginate() walks every page). */
  first?: number;
  offset?: number;
  newestFirst: boolean;
  from?: Date | null | undefined;
  to?: Date | null | undefined;
}

export function toListChargesParams(query: ChargeListQuery): ListParams {
  return {
    ...(query.first !== undefined ? { limit: query.first } : {}),
    ...(query.offset !== undefined ? { offset: query.offset } : {}),
    order: query.newestFirst ? 'reverse_chronological' : 'chronological',
    ...(query.from ? { from: query.from } : {}),
    ...(query.to ? { to: query.to } : {}),
  };
}

/** What the gateway checks of a client-made source before charging it. */
export interface SourceFacts {
  type: string;
  amount: number;
  /** undefined when the gateway does not know Omise's currency. */
  currency: Currency | undefined;
  /** Already used for a charge. */
  used: boolean;
}

export function mapSource(raw: OmiseSource): SourceFacts {
  let currency: Currency | undefined;
  try {
    currency = mapCurrency(raw.currency);
  } catch {
    currency = undefined;
  }
  return { type: raw.type, amount: raw.amount, currency, used: raw.charge_status !== 'unknown' };
}

/** Whether an Omise charge or refund carries this idempotency handle (reconciliation after a lost answer). */
export function hasIdempotencyHandle(raw: OmiseCharge | OmiseRefund, handle: string): boolean {
  const metadata = raw.metadata as Record<string, unknown> | null | undefined;
  return metadata?.[IDEMPOTENCY_METADATA_KEY] === handle;
}
