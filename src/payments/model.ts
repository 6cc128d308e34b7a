/**
 * The gateway's own payment model. Omise's wire names stop at the mapper (omise-mapper.ts); the
 * GraphQL layer and the realtime layer see only these shapes. Money is integer minor units (satang).
 */

export type ChargeStatus = 'PENDING' | 'SUCCESSFUL' | 'FAILED' | 'EXPIRED' | 'REVERSED';
export const TERMINAL_STATUSES: ReadonlySet<ChargeStatus> = new Set([
  'SUCCESSFUL',
  'FAILED',
  'EXPIRED',
  'REVERSED',
]);
export type Currency = 'THB';
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
