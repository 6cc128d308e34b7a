/**
 * The wire shapes (API version 2019-05-29), key for key and in the order of the TrueMoney QR guide's
 * examples. This is the only place that decides which keys an object has.
 */
import type {
  ChargeRecord,
  EventRecord,
  RefundRecord,
  SourceRecord,
  Store,
  WebhookDeliveryRecord,
} from './store.js';
import { bangkokDay, DAY_MS, formatTimestamp } from './time.js';

export interface SerializeContext {
  store: Store;
  /** Absolute base URL of the simulator, no trailing slash. */
  baseUrl: string;
  now: number;
}

export type Json = Record<string, unknown>;

export const REFUND_WINDOW_MS = 30 * DAY_MS;
export const MAX_REFUNDS_PER_CHARGE = 15;
const EPOCH = '1970-01-01T00:00:00Z';

/** Derived refund/void state of a charge, shared by the serializer and the refund rules. */
export function refundState(charge: ChargeRecord, store: Store, now: number) {
  const refunds = charge.refundIds.map((id) => store.refunds.get(id)).filter((r) => r !== undefined);
  const refundedAmount = refunds.reduce((sum, r) => sum + r.amount, 0);
  const voided = refunds.some((r) => r.voided);
  const successful = charge.status === 'successful' && charge.paidAt !== null;
  const withinWindow = successful && now <= (charge.paidAt as number) + REFUND_WINDOW_MS;
  const refundable =
    successful &&
    !voided &&
    withinWindow &&
    refundedAmount < charge.amount &&
    refunds.length < MAX_REFUNDS_PER_CHARGE;
  const canPerformVoid =
    successful && !voided && refundedAmount === 0 && bangkokDay(now) === bangkokDay(charge.paidAt as number);
  return { refunds, refundedAmount, voided, successful, withinWindow, refundable, canPerformVoid };
}

export function serializeList(
  data: Json[],
  meta: {
    limit: number;
    offset: number;
    total: number;
    location: string;
    order: string;
    from: string;
    to: string;
  },
): Json {
  return {
    object: 'list',
    data,
    limit: meta.limit,
    offset: meta.offset,
    total: meta.total,
    location: meta.location,
    order: meta.order,
    from: meta.from,
    to: meta.to,
  };
}

export function serializeDocument(charge: ChargeRecord, ctx: SerializeContext): Json | null {
  const doc = ctx.store.documents.get(charge.documentId);
  if (!doc) return null;
  const location = `/charges/${charge.id}/documents/${doc.id}`;
  return {
    object: 'document',
    livemode: false,
    id: doc.id,
    deleted: false,
    filename: 'qrcode.png',
    location,
    kind: 'qr',
    download_uri: `${ctx.baseUrl}${location}/downloads/${doc.downloadKey}`,
    created_at: formatTimestamp(doc.createdAt),
  };
}

export function serializeSource(source: SourceRecord, ctx: SerializeContext): Json {
  const charge = source.chargeId ? ctx.store.charges.get(source.chargeId) : undefined;
  const image = charge ? serializeDocument(charge, ctx) : null;
  return {
    object: 'source',
    id: source.id,
    livemode: false,
    location: `/sources/${source.id}`,
    amount: source.amount,
    barcode: null,
    bank: null,
    created_at: formatTimestamp(source.createdAt),
    currency: source.currency,
    email: null,
    flow: source.flow,
    installment_term: null,
    ip: source.ip,
    absorption_type: null,
    name: null,
    mobile_number: null,
    phone_number: null,
    platform_type: null,
    scannable_code: image ? { object: 'barcode', type: 'qr', image } : null,
    billing: null,
    shipping: null,
    items: [],
    references: null,
    provider_references: charge ? { reference_number_1: charge.paymentId, reference_number_2: null } : null,
    store_id: null,
    store_name: null,
    terminal_id: null,
    type: source.type,
    zero_interest_installments: null,
    charge_status: charge ? charge.status : 'unknown',
    receipt_amount: null,
    discounts: [],
    promotion_code: null,
  };
}

export function serializeRefund(refund: RefundRecord): Json {
  return {
    object: 'refund',
    id: refund.id,
    location: `/charges/${refund.chargeId}/refunds/${refund.id}`,
    livemode: false,
    voided: refund.voided,
    currency: refund.currency,
    amount: refund.amount,
    metadata: refund.metadata,
    charge: refund.chargeId,
    capture: null,
    terminal: null,
    transaction: refund.transactionId,
    status: 'closed',
    funding_amount: refund.amount,
    funding_currency: refund.currency,
    created_at: formatTimestamp(refund.createdAt),
    acquirer_reference_number: null,
    approval_code: null,
  };
}

export function serializeCharge(charge: ChargeRecord, ctx: SerializeContext): Json {
  const source = ctx.store.sources.get(charge.sourceId);
  const state = refundState(charge, ctx.store, ctx.now);
  const paid = state.successful;
  const refundsData = state.refunds.slice(0, 20).map(serializeRefund);
  return {
    object: 'charge',
    id: charge.id,
    location: `/charges/${charge.id}`,
    amount: charge.amount,
    acquirer_reference_number: null,
    // Fees are not simulated: fee 0, so net is what was paid.
    net: paid ? charge.amount : 0,
    fee: 0,
    fee_vat: 0,
    interest: 0,
    interest_vat: 0,
    funding_amount: charge.amount,
    refunded_amount: state.refundedAmount,
    transaction_fees: { fee_flat: null, fee_rate: null, vat_rate: '7.0' },
    platform_fee: { fixed: null, amount: null, percentage: null },
    currency: charge.currency,
    funding_currency: charge.currency,
    ip: null,
    refunds: serializeList(refundsData, {
      limit: 20,
      offset: 0,
      total: state.refunds.length,
      location: `/charges/${charge.id}/refunds`,
      order: 'chronological',
      from: EPOCH,
      to: formatTimestamp(ctx.now),
    }),
    link: null,
    description: charge.description,
    metadata: charge.metadata,
    card: null,
    source: source ? serializeSource(source, ctx) : null,
    schedule: null,
    linked_account: null,
    customer: null,
    dispute: null,
    transaction: charge.transactionId,
    failure_code: charge.failureCode,
    failure_message: charge.failureMessage,
    status: charge.status,
    authorize_uri: `${ctx.baseUrl}/payments/${charge.paymentId}/authorize?acs=false`,
    return_uri: charge.returnUri,
    created_at: formatTimestamp(charge.createdAt),
    paid_at: charge.paidAt === null ? null : formatTimestamp(charge.paidAt),
    authorized_at: charge.paidAt === null ? null : formatTimestamp(charge.paidAt),
    expires_at: formatTimestamp(charge.expiresAt),
    expired_at: charge.expiredAt === null ? null : formatTimestamp(charge.expiredAt),
    reversed_at: null,
    zero_interest_installments: false,
    branch: null,
    terminal: null,
    device: null,
    authorized: paid,
    capturable: false,
    capture: true,
    disputable: false,
    livemode: false,
    refundable: state.refundable,
    partially_refundable: state.refundable,
    reversed: false,
    reversible: false,
    voided: state.voided,
    paid,
    expired: charge.status === 'expired',
    can_perform_void: state.canPerformVoid,
    approval_code: null,
  };
}

export function serializeDelivery(delivery: WebhookDeliveryRecord, key: string): Json {
  return {
    object: 'webhook_delivery',
    id: delivery.id,
    uri: delivery.uri,
    status: delivery.status,
    key,
    error: delivery.error,
    created_at: formatTimestamp(delivery.createdAt),
  };
}

export function serializeEvent(event: EventRecord): Json {
  return {
    object: 'event',
    id: event.id,
    livemode: false,
    location: `/events/${event.id}`,
    webhook_deliveries: event.deliveries.map((d) => serializeDelivery(d, event.key)),
    data: event.data,
    key: event.key,
    created_at: formatTimestamp(event.createdAt),
  };
}

export { EPOCH };
