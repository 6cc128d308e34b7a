/**
 * The gateway's own payment model. Omise's wire names stop at the mapper (omise-mapper.ts); the
 * GraphQL layer and the realtime layer see only these shapes. Money is integer amounts in the currency's
 * smallest unit (satang for THB; see CURRENCY_EXPONENTS).
 */

export type ChargeStatus = 'PENDING' | 'SUCCESSFUL' | 'FAILED' | 'EXPIRED' | 'REVERSED';
export const TERMINAL_STATUSES: ReadonlySet<ChargeStatus> = new Set([
  'SUCCESSFUL',
  'FAILED',
  'EXPIRED',
  'REVERSED',
]);
/**
 * Every currency an Omise account can hold charges in (Omise's multi-currency list for Thailand,
 * Singapore and Japan accounts), so that any charge of the account can be read. Creating a charge
 * stays THB-only (TrueMoney QR).
 */
export const CURRENCIES = [
  'AUD',
  'CAD',
  'CHF',
  'CNY',
  'DKK',
  'EUR',
  'GBP',
  'HKD',
  'IDR',
  'JPY',
  'MYR',
  'SGD',
  'THB',
  'USD',
] as const;
export type Currency = (typeof CURRENCIES)[number];

/**
 * Decimal places between an amount and the currency's main unit: amount 12345 is 123.45 THB but
 * ¥12345. Omise: "Yen is the only zero-decimal currency currently supported"; every other one has two
 * (IDR included, as Omise counts it).
 */
export const CURRENCY_EXPONENTS: Readonly<Record<Currency, 0 | 2>> = {
  AUD: 2,
  CAD: 2,
  CHF: 2,
  CNY: 2,
  DKK: 2,
  EUR: 2,
  GBP: 2,
  HKD: 2,
  IDR: 2,
  JPY: 0,
  MYR: 2,
  SGD: 2,
  THB: 2,
  USD: 2,
};

export function isCurrency(value: string): value is Currency {
  return (CURRENCIES as readonly string[]).includes(value);
}
export type PaymentOutcome = 'SUCCESSFUL' | 'FAILED';
export type Metadata = Record<string, unknown>;

export interface QrCode {
  /** Omise's `download_uri` of the PNG. */
  imageUrl: string;
  expiresAt: Date | null;
}

export interface Refund {
  id: string;
  chargeId: string;
  amount: number;
  currency: Currency;
  voided: boolean;
  metadata: Metadata;
  createdAt: Date;
}

export interface Charge {
  id: string;
  status: ChargeStatus;
  amount: number;
  currency: Currency;
  sourceType: string;
  description: string | null;
  metadata: Metadata;
  qrCode: QrCode | null;
  returnUri: string | null;
  authorizeUri: string | null;
  paid: boolean;
  paidAt: Date | null;
  expiresAt: Date | null;
  expiredAt: Date | null;
  failureCode: string | null;
  failureMessage: string | null;
  refundedAmount: number;
  refundable: boolean;
  voidable: boolean;
  voided: boolean;
  refunds: Refund[];
  livemode: boolean;
  createdAt: Date;
}
