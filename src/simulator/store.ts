/** In-memory state of the simulated Omise account. Times are simulated-clock ms. */

export type ChargeStatus = 'pending' | 'successful' | 'failed' | 'expired' | 'reversed';
export type Metadata = Record<string, unknown>;

export interface SourceRecord {
  id: string;
  seq: number;
  type: string;
  amount: number;
  currency: string;
  flow: 'offline';
  ip: string | null;
  createdAt: number;
  /** Set once a charge used this source (a source can be charged once). */
  chargeId: string | null;
}

export interface DocumentRecord {
  id: string;
  chargeId: string;
  downloadKey: string;
  createdAt: number;
  /** What the QR encodes. */
  payload: string;
  /** The PNG, rendered on first download. */
  png?: Buffer;
}

export interface ChargeRecord {
  id: string;
  seq: number;
  amount: number;
  currency: string;
  sourceId: string;
  documentId: string;
  /** `pay2_test_…`: the authorize page reference (`provider_references.reference_number_1`). */
  paymentId: string;
  status: ChargeStatus;
  description: string | null;
  metadata: Metadata;
  returnUri: string | null;
  webhookEndpoints: string[];
  createdAt: number;
  expiresAt: number;
  paidAt: number | null;
  expiredAt: number | null;
  failureCode: string | null;
  failureMessage: string | null;
  transactionId: string | null;
  refundIds: string[];
}

export interface RefundRecord {
  id: string;
  seq: number;
  chargeId: string;
  amount: number;
  currency: string;
  voided: boolean;
  metadata: Metadata;
  transactionId: string;
  createdAt: number;
}

export interface WebhookDeliveryRecord {
  id: string;
  uri: string;
  status: number | null;
  error: string | null;
  createdAt: number;
}

export interface EventRecord {
  id: string;
  seq: number;
  key: string;
  createdAt: number;
  /** The serialised object at the moment of the event. */
  data: Record<string, unknown>;
  /** The charge this event concerns (charge events and refund events), for GET /charges/:id/events. */
  chargeId: string | null;
  deliveries: WebhookDeliveryRecord[];
}

export class Store {
  readonly sources = new Map<string, SourceRecord>();
  readonly charges = new Map<string, ChargeRecord>();
  readonly refunds = new Map<string, RefundRecord>();
  readonly events = new Map<string, EventRecord>();
  readonly documents = new Map<string, DocumentRecord>();
  private seq = 0;

  nextSeq(): number {
    this.seq += 1;
    return this.seq;
  }
}
