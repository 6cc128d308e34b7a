/**
 * Omise's wire format, API version 2019-05-29 (the TrueMoney QR guide's JSON examples are the reference).
 * Only fields this project reads are typed precisely; Omise adds fields over time, so every object also
 * tolerates unknown keys. Timestamps are ISO 8601 strings as sent (`Z` or `+00:00`).
 */

export type OmiseTimestamp = string;
export type OmiseMetadata = Record<string, unknown>;

export type OmiseChargeStatus = 'pending' | 'successful' | 'failed' | 'expired' | 'reversed';
/** `source.charge_status` adds `unknown` for a source not yet charged. */
export type OmiseSourceChargeStatus = OmiseChargeStatus | 'unknown';
export type OmiseOrder = 'chronological' | 'reverse_chronological';

export interface OmiseList<T> {
  object: 'list';
  data: T[];
  limit: number;
  offset: number;
  total: number;
  location: string | null;
  order: OmiseOrder | null;
  from: OmiseTimestamp;
  to: OmiseTimestamp;
}

export interface OmiseDocument {
  object: 'document';
  livemode: boolean;
  id: string;
  deleted: boolean;
  filename: string;
  location: string;
  kind: string;
  download_uri: string;
  created_at: OmiseTimestamp;
}

export interface OmiseScannableCode {
  object: 'barcode';
  type: 'qr';
  image: OmiseDocument;
}

export interface OmiseSource {
  object: 'source';
  id: string;
  livemode: boolean;
  location: string;
  amount: number;
  currency: string;
  type: string;
  flow: 'offline' | 'redirect' | 'app_redirect' | string;
  charge_status: OmiseSourceChargeStatus;
  scannable_code: OmiseScannableCode | null;
  created_at: OmiseTimestamp;
  [key: string]: unknown;
}

export interface OmiseRefund {
  object: 'refund';
  id: string;
  location: string;
  amount: number;
  currency: string;
  charge: string;
  voided: boolean;
  status?: string;
  transaction: string | null;
  funding_amount?: number;
  metadata: OmiseMetadata;
  created_at: OmiseTimestamp;
  [key: string]: unknown;
}

export interface OmiseCharge {
  object: 'charge';
  id: string;
  location: string;
  livemode: boolean;
  amount: number;
  currency: string;
  funding_amount: number;
  refunded_amount: number;
  description: string | null;
  metadata: OmiseMetadata;
  status: OmiseChargeStatus;
  source: OmiseSource | null;
  refunds: OmiseList<OmiseRefund>;
  transaction: string | null;
  failure_code: string | null;
  failure_message: string | null;
  authorize_uri: string | null;
  return_uri: string | null;
  created_at: OmiseTimestamp;
  paid_at: OmiseTimestamp | null;
  authorized_at: OmiseTimestamp | null;
  expires_at: OmiseTimestamp | null;
  expired_at: OmiseTimestamp | null;
  reversed_at: OmiseTimestamp | null;
  authorized: boolean;
  capturable: boolean;
  capture: boolean;
  paid: boolean;
  expired: boolean;
  refundable: boolean;
  partially_refundable: boolean;
  reversed: boolean;
  reversible: boolean;
  voided: boolean;
  can_perform_void: boolean;
  [key: string]: unknown;
}

export interface OmiseWebhookDelivery {
  object: 'webhook_delivery';
  id: string;
  uri: string;
  status: number | null;
  created_at: OmiseTimestamp;
  [key: string]: unknown;
}

export type OmiseEventKey =
  'charge.create' | 'charge.update' | 'charge.complete' | 'charge.expire' | 'refund.create' | (string & {});

export interface OmiseEvent<D = unknown> {
  object: 'event';
  id: string;
  livemode: boolean;
  location: string;
  key: OmiseEventKey;
  created_at: OmiseTimestamp;
  data: D;
  webhook_deliveries?: OmiseWebhookDelivery[];
  [key: string]: unknown;
}

export interface OmiseErrorBody {
  object: 'error';
  location: string;
  code: string;
  message: string;
}

// ---- request parameters (what the client sends; the simulator accepts the same) ----

export interface ListParams {
  /** 1..100; Omise's default is 20. */
  limit?: number;
  offset?: number;
  from?: Date | string;
  to?: Date | string;
  order?: OmiseOrder;
}

export interface CreateSourceParams {
  type: string;
  amount: number;
  currency: string;
}

export interface CreateChargeParams {
  amount: number;
  currency: string;
  /** A source id (`src_…`), or an inline source created in the same call. */
  source: string | { type: string };
  return_uri?: string;
  description?: string;
  metadata?: OmiseMetadata;
  expires_at?: string;
  /** Extra webhook URLs notified for this charge only. */
  webhook_endpoints?: string[];
}

export interface UpdateChargeParams {
  description?: string;
  metadata?: OmiseMetadata;
}

export interface CreateRefundParams {
  amount: number;
  metadata?: OmiseMetadata;
  /** true → the refund is made only as a void; Omise answers `failed_void` when that is not possible. */
  void?: boolean;
}
