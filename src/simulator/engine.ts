/**
 * The simulated Omise account: the rules of sources, charges, refunds and events, independent of HTTP.
 * Every state change records an event (its `data` is the object at that moment) and hands it to the
 * webhook dispatcher.
 */
import type { Logger } from 'pino';
import type { ControllableClock } from './clock.js';
import { notFound, OmiseApiError } from './errors.js';
import { newDownloadKey, newId } from './ids.js';
import {
  checkAmountRange,
  isHttpUrl,
  parseBoolean,
  parseCurrency,
  parseListQuery,
  parseMetadata,
  parseOptionalString,
  parseSourceType,
  parseTimestamp,
  parseUrlList,
  listWindow,
  requireAmount,
  type Params,
} from './params.js';
import { qrPayload } from './qr.js';
import {
  MAX_REFUNDS_PER_CHARGE,
  refundState,
  serializeCharge,
  serializeEvent,
  serializeList,
  serializeRefund,
  serializeSource,
  type Json,
  type SerializeContext,
} from './serializers.js';
import type { ChargeRecord, EventRecord, Store, SourceRecord } from './store.js';
import { DAY_MS } from './time.js';
import type { DeliveryAttempt, WebhookDispatcher } from './webhook-delivery.js';

export const DEFAULT_EXPIRY_MS = DAY_MS;

interface EngineOptions {
  store: Store;
  clock: ControllableClock;
  baseUrl: () => string;
  dispatcher: () => WebhookDispatcher;
  logger?: Logger;
}

export class SimulatorEngine {
  constructor(private readonly options: EngineOptions) {}

  private get store(): Store {
    return this.options.store;
  }

  private ctx(): SerializeContext {
    return { store: this.store, baseUrl: this.options.baseUrl(), now: this.options.clock.now() };
  }

  // ---- sources ----

  createSource(params: Params, ip: string | null): Json {
    const type = parseSourceType(params.type);
    const amount = requireAmount(params.amount);
    const currency = parseCurrency(params.currency);
    checkAmountRange(amount, 'invalid_amount');
    const source = this.newSource(type, amount, currency, ip);
    return serializeSource(source, this.ctx());
  }

  getSource(id: string): Json {
    return serializeSource(this.findSource(id), this.ctx());
  }

  private newSource(type: string, amount: number, currency: string, ip: string | null): SourceRecord {
    const source: SourceRecord = {
      id: newId('src'),
      seq: this.store.nextSeq(),
      type,
      amount,
      currency,
      flow: 'offline',
      ip,
      createdAt: this.options.clock.now(),
      chargeId: null,
    };
    this.store.sources.set(source.id, source);
    return source;
  }

  private findSource(id: string): SourceRecord {
    const source = this.store.sources.get(id);
    if (!source) throw notFound('source', id);
    return source;
  }

  // ---- charges ----

  createCharge(params: Params, ip: string | null): Json {
    const now = this.options.clock.now();
    // Everything is validated before anything is stored: a refused request leaves no trace.
    const amount = requireAmount(params.amount);
    const currency = parseCurrency(params.currency);
    const sourceParam = params.source;
    let existing: SourceRecord | undefined;
    let inlineType: string | undefined;
    if (typeof sourceParam === 'string' && sourceParam !== '') {
      existing = this.findSource(sourceParam);
    } else if (sourceParam && typeof sourceParam === 'object' && !Array.isArray(sourceParam)) {
      inlineType = parseSourceType((sourceParam as Params).type);
    } else if (params.card !== undefined || params.customer !== undefined) {
      throw new OmiseApiError(
        400,
        'invalid_charge',
        'card and customer charges are not supported by the simulator',
      );
    } else {
      throw new OmiseApiError(400, 'invalid_charge', 'source is required');
    }
    checkAmountRange(amount, 'invalid_charge');
    if (existing) {
      if (existing.chargeId) {
        throw new OmiseApiError(400, 'used_source', `source ${existing.id} has already been used`);
      }
      if (existing.amount !== amount) {
        throw new OmiseApiError(
          400,
          'invalid_charge',
          `amount must be equal to the source's amount (${existing.amount})`,
        );
      }
      if (existing.currency !== currency) {
        throw new OmiseApiError(
          400,
          'invalid_charge',
          `currency must be equal to the source's currency (${existing.currency})`,
        );
      }
    }
    const returnUri = parseOptionalString(params.return_uri, 'return_uri', 2000) ?? null;
    if (returnUri !== null && !isHttpUrl(returnUri)) {
      throw new OmiseApiError(400, 'invalid_charge', 'return_uri is not a valid URI');
    }
    const description = parseOptionalString(params.description, 'description', 255) ?? null;
    const metadata = parseMetadata(params.metadata) ?? {};
    const webhookEndpoints = parseUrlList(params.webhook_endpoints, 'webhook_endpoints') ?? [];
    const expiresAt = parseTimestamp(params.expires_at, 'expires_at') ?? now + DEFAULT_EXPIRY_MS;
    if (expiresAt <= now) throw new OmiseApiError(400, 'invalid_charge', 'expires_at must be in the future');
    if (params.capture !== undefined && parseBoolean(params.capture, 'capture') === false) {
      throw new OmiseApiError(400, 'invalid_charge', 'capture must be true for truemoney_qr');
    }

    const source = existing ?? this.newSource(inlineType as string, amount, currency, ip);
    const charge: ChargeRecord = {
      id: newId('chrg'),
      seq: this.store.nextSeq(),
      amount,
      currency,
      sourceId: source.id,
      documentId: newId('docu'),
      paymentId: newId('pay2'),
      status: 'pending',
      description,
      metadata,
      returnUri,
      webhookEndpoints,
      createdAt: now,
      expiresAt,
      paidAt: null,
      expiredAt: null,
      failureCode: null,
      failureMessage: null,
      transactionId: null,
      refundIds: [],
    };
    source.chargeId = charge.id;
    this.store.charges.set(charge.id, charge);
    this.store.documents.set(charge.documentId, {
      id: charge.documentId,
      chargeId: charge.id,
      downloadKey: newDownloadKey(),
      createdAt: now,
      payload: qrPayload(charge),
    });
    this.options.clock.schedule(expiresAt, () => this.expireIfDue(charge.id));
    const data = serializeCharge(charge, this.ctx());
    this.emit('charge.create', data, charge);
    return data;
  }

  /**
   * Admin (`POST /_simulator/charges/foreign`): a charge the same account holds from another payment
   * method (a card charge in JPY or USD...), which this simulator cannot create through /charges. It
   * has no source, is created now, and is `successful` (a `charge.complete` event) or `pending`.
   * `currency` is any three letters, so that a client can also see what it does with one it cannot
   * represent.
   */
  importForeignCharge(input: { amount: number; currency: string; status: 'pending' | 'successful' }): Json {
    const now = this.options.clock.now();
    const charge: ChargeRecord = {
      id: newId('chrg'),
      seq: this.store.nextSeq(),
      amount: input.amount,
      currency: input.currency.toUpperCase(),
      sourceId: '',
      documentId: '',
      paymentId: newId('pay2'),
      status: input.status,
      description: null,
      metadata: {},
      returnUri: null,
      webhookEndpoints: [],
      createdAt: now,
      expiresAt: now + DEFAULT_EXPIRY_MS,
      paidAt: input.status === 'successful' ? now : null,
      expiredAt: null,
      failureCode: null,
      failureMessage: null,
      transactionId: input.status === 'successful' ? newId('trxn') : null,
      refundIds: [],
    };
    this.store.charges.set(charge.id, charge);
    const data = serializeCharge(charge, this.ctx());
    this.emit(input.status === 'successful' ? 'charge.complete' : 'charge.create', data, charge);
    return data;
  }

  getCharge(id: string): Json {
    return serializeCharge(this.findCharge(id), this.ctx());
  }

  listCharges(params: Params): Json {
    return this.list([...this.store.charges.values()], '/charges', params, (c) =>
      serializeCharge(c, this.ctx()),
    );
  }

  updateCharge(id: string, params: Params): Json {
    const charge = this.findCharge(id);
    const description = parseOptionalString(params.description, 'description', 255);
    const metadata = parseMetadata(params.metadata);
    if (description !== undefined) charge.description = description;
    if (metadata !== undefined) charge.metadata = metadata;
    const data = serializeCharge(charge, this.ctx());
    this.emit('charge.update', data, charge);
    return data;
  }

  expireCharge(id: string): Json {
    const charge = this.findCharge(id);
    if (charge.status !== 'pending') {
      throw new OmiseApiError(
        400,
        'failed_expire',
        `charge ${id} cannot be expired: its status is ${charge.status}`,
      );
    }
    this.expire(charge, this.options.clock.now());
    return serializeCharge(charge, this.ctx());
  }

  /** Test mode: the customer paid. */
  markAsPaid(id: string): Json {
    const charge = this.findPendingCharge(id);
    charge.status = 'successful';
    charge.paidAt = this.options.clock.now();
    charge.transactionId = newId('trxn');
    const data = serializeCharge(charge, this.ctx());
    this.emit('charge.complete', data, charge);
    return data;
  }

  /** Test mode: the payment failed (`failed_processing`, the failure code the guide documents). */
  markAsFailed(id: string): Json {
    const charge = this.findPendingCharge(id);
    charge.status = 'failed';
    charge.failureCode = 'failed_processing';
    charge.failureMessage = 'payment processing failed';
    const data = serializeCharge(charge, this.ctx());
    this.emit('charge.complete', data, charge);
    return data;
  }

  capture(id: string): never {
    this.findCharge(id);
    throw new OmiseApiError(
      400,
      'failed_capture',
      'charge cannot be captured: only card charges authorized with capture=false can be',
    );
  }

  reverse(id: string): never {
    this.findCharge(id);
    throw new OmiseApiError(
      400,
      'failed_reverse',
      'charge cannot be reversed: only uncaptured card charges can be',
    );
  }

  /** Resolves a payment from the authorize page (no key: it stands for the customer's app). */
  completeByPaymentId(paymentId: string, outcome: 'successful' | 'failed'): ChargeRecord {
    const charge = [...this.store.charges.values()].find((c) => c.paymentId === paymentId);
    if (!charge) throw notFound('payment', paymentId);
    if (outcome === 'successful') this.markAsPaid(charge.id);
    else this.markAsFailed(charge.id);
    return charge;
  }

  findChargeByPaymentId(paymentId: string): ChargeRecord | undefined {
    return [...this.store.charges.values()].find((c) => c.paymentId === paymentId);
  }

  private findCharge(id: string): ChargeRecord {
    const charge = this.store.charges.get(id);
    if (!charge) throw notFound('charge', id);
    this.expireIfDue(charge.id);
    return charge;
  }

  private findPendingCharge(id: string): ChargeRecord {
    const charge = this.findCharge(id);
    if (charge.status === 'expired') throw new OmiseApiError(400, 'expired_charge', 'charge expired');
    if (charge.status !== 'pending') {
      throw new OmiseApiError(
        400,
        'invalid_charge',
        `charge ${id} is not pending: its status is ${charge.status}`,
      );
    }
    return charge;
  }

  /** Expires a pending charge whose expires_at has passed (timer, advance(), or any access). */
  private expireIfDue(id: string): void {
    const charge = this.store.charges.get(id);
    if (charge && charge.status === 'pending' && charge.expiresAt <= this.options.clock.now()) {
      this.expire(charge, charge.expiresAt);
    }
  }

  private expire(charge: ChargeRecord, at: number): void {
    charge.status = 'expired';
    charge.expiredAt = at;
    this.emit('charge.expire', serializeCharge(charge, this.ctx()), charge);
  }

  // ---- refunds ----

  createRefund(chargeId: string, params: Params): Json {
    const charge = this.findCharge(chargeId);
    const amount = requireAmount(params.amount);
    const metadata = parseMetadata(params.metadata) ?? {};
    const voidRequested = parseBoolean(params.void, 'void') ?? false;
    if (amount <= 0) throw new OmiseApiError(400, 'invalid_amount', 'amount must be greater than 0');
    const now = this.options.clock.now();
    const state = refundState(charge, this.store, now);
    const fail = (code: string, message: string): never => {
      throw new OmiseApiError(400, voidRequested ? 'failed_void' : code, message);
    };
    if (!state.successful)
      fail('failed_refund', `charge ${charge.id} cannot be refunded: its status is ${charge.status}`);
    if (state.voided) fail('failed_refund', `charge ${charge.id} has been voided`);
    if (voidRequested) {
      if (!state.canPerformVoid) {
        fail(
          'failed_void',
          'charge cannot be voided: a void is possible only on the day of payment (Asia/Bangkok) and before any refund',
        );
      }
      if (amount !== charge.amount)
        fail('failed_void', `a void must be for the full amount (${charge.amount})`);
    }
    if (!state.withinWindow)
      fail('failed_refund', 'charge cannot be refunded more than 30 days after payment');
    if (state.refunds.length >= MAX_REFUNDS_PER_CHARGE) {
      fail('failed_refund', `charge cannot be refunded more than ${MAX_REFUNDS_PER_CHARGE} times`);
    }
    const left = charge.amount - state.refundedAmount;
    if (amount > left) {
      fail('failed_refund', `amount must be less than or equal to the amount left to refund (${left})`);
    }
    // A full refund on the day of payment is made as a void (Omise voids before settlement).
    const voided = voidRequested || (amount === charge.amount && state.canPerformVoid);
    const refund = {
      id: newId('rfnd'),
      seq: this.store.nextSeq(),
      chargeId: charge.id,
      amount,
      currency: charge.currency,
      voided,
      metadata,
      transactionId: newId('trxn'),
      createdAt: now,
    };
    this.store.refunds.set(refund.id, refund);
    charge.refundIds.push(refund.id);
    const data = serializeRefund(refund);
    this.emit('refund.create', data, charge);
    return data;
  }

  listRefunds(chargeId: string, params: Params): Json {
    const charge = this.findCharge(chargeId);
    const refunds = charge.refundIds.map((id) => this.store.refunds.get(id)).filter((r) => r !== undefined);
    return this.list(refunds, `/charges/${chargeId}/refunds`, params, serializeRefund);
  }

  listAllRefunds(params: Params): Json {
    return this.list([...this.store.refunds.values()], '/refunds', params, serializeRefund);
  }

  getRefund(chargeId: string, refundId: string): Json {
    const charge = this.findCharge(chargeId);
    const refund = this.store.refunds.get(refundId);
    if (!refund || refund.chargeId !== charge.id) throw notFound('refund', refundId);
    return serializeRefund(refund);
  }

  // ---- events ----

  listEvents(params: Params): Json {
    return this.list([...this.store.events.values()], '/events', params, serializeEvent);
  }

  listChargeEvents(chargeId: string, params: Params): Json {
    this.findCharge(chargeId);
    const events = [...this.store.events.values()].filter((e) => e.chargeId === chargeId);
    return this.list(events, `/charges/${chargeId}/events`, params, serializeEvent);
  }

  getEvent(id: string): Json {
    const event = this.store.events.get(id);
    if (!event) throw notFound('event', id);
    return serializeEvent(event);
  }

  /** Records a webhook attempt in its event's `webhook_deliveries`. */
  recordDelivery(attempt: DeliveryAttempt): void {
    this.store.events.get(attempt.eventId)?.deliveries.push({
      id: attempt.id,
      uri: attempt.url,
      status: attempt.status,
      error: attempt.error,
      createdAt: this.options.clock.now(),
    });
  }

  private emit(key: string, data: Json, charge: ChargeRecord): void {
    const event: EventRecord = {
      id: newId('evnt'),
      seq: this.store.nextSeq(),
      key,
      createdAt: this.options.clock.now(),
      data,
      chargeId: charge.id,
      deliveries: [],
    };
    this.store.events.set(event.id, event);
    this.options.logger?.debug({ eventId: event.id, key }, 'simulator: event');
    this.options.dispatcher().enqueue({
      eventId: event.id,
      eventKey: key,
      body: JSON.stringify(serializeEvent(event)),
      extraUrls: charge.webhookEndpoints,
    });
  }

  // ---- lists ----

  private list<T extends { seq: number; createdAt: number }>(
    records: T[],
    location: string,
    params: Params,
    serialize: (record: T) => Json,
  ): Json {
    const query = parseListQuery(params, this.options.clock.now());
    // Omise timestamps have second precision; compare at that precision so `to=<created_at>` includes it.
    const matching = records
      .filter((r) => {
        const second = Math.floor(r.createdAt / 1000) * 1000;
        return second >= query.from && second <= query.to;
      })
      .sort((a, b) => a.createdAt - b.createdAt || a.seq - b.seq);
    if (query.order === 'reverse_chronological') matching.reverse();
    const page = matching.slice(query.offset, query.offset + query.limit);
    return serializeList(page.map(serialize), {
      limit: query.limit,
      offset: query.offset,
      total: matching.length,
      location,
      order: query.order,
      ...listWindow(query),
    });
  }
}
