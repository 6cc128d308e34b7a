import type { Charge, Currency, Metadata, PaymentOutcome, Refund } from './model.js';
import type { Result } from './errors.js';
import type { ChargeReader } from './charge-reader.js';

export interface CreateTrueMoneyChargeInput {
  amount: number;
  currency: Currency;
  /** A `src_…` made client-side with the public key; omitted → an inline source is created. */
  sourceId?: string | null;
  returnUri?: string | null;
  description?: string | null;
  metadata?: Metadata | null;
  idempotencyKey?: string | null;
}

export interface RefundChargeInput {
  chargeId: string;
  /** Omitted → what is left. */
  amount?: number | null;
  metadata?: Metadata | null;
  idempotencyKey?: string | null;
}

export interface VoidChargeInput {
  chargeId: string;
  idempotencyKey?: string | null;
}

export interface SimulateChargeOutcomeInput {
  chargeId: string;
  outcome: PaymentOutcome;
}

export interface ListChargesInput {
  first: number;
  /** Opaque cursor from a previous page. */
  after?: string | null;
  from?: Date | null;
  to?: Date | null;
}

export interface ChargePage {
  edges: { cursor: string; node: Charge }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  /** Charges matching from/to across all pages; after the first page it costs an Omise call, so lazy. */
  totalCount: () => Promise<number>;
}

export interface RefundOutcome {
  refund: Refund;
  charge: Charge;
}

/**
 * Who is calling, for per-caller scoping of idempotency keys (two API clients may pick the same key)
 * and the ledger of money-moving calls. Optional: without it every caller shares one key space.
 */
export interface CallContext {
  /** A stable name of the authenticated principal, e.g. the API key's name. */
  principal?: string | null;
  /** The request's id (logs, the ledger). */
  requestId?: string | null;
}

/**
 * The payment use cases, free of GraphQL and HTTP. Business failures come back as a failed Result;
 * system failures throw UpstreamUnavailableError / UpstreamRateLimitedError (errors.ts).
 */
export interface PaymentsService {
  /** The one charge reader (and cache) behind getCharge; webhooks, the poll and subscriptions use it too. */
  readonly charges: ChargeReader;
  createTrueMoneyCharge(input: CreateTrueMoneyChargeInput, context?: CallContext): Promise<Result<Charge>>;
  /** null when Omise does not know the id. */
  getCharge(id: string): Promise<Charge | null>;
  listCharges(input: ListChargesInput): Promise<Result<ChargePage>>;
  refundCharge(input: RefundChargeInput, context?: CallContext): Promise<Result<RefundOutcome>>;
  voidCharge(input: VoidChargeInput, context?: CallContext): Promise<Result<RefundOutcome>>;
  /** Test mode only (test keys or the simulator). */
  simulateChargeOutcome(input: SimulateChargeOutcomeInput, context?: CallContext): Promise<Result<Charge>>;
  /** The QR PNG behind `qrCode.imageUrl`, cached per document. */
  getQrImage(imageUrl: string): Promise<Uint8Array>;
}
