import type { Logger } from 'pino';
import type { OmiseApi } from '../omise/api.js';
import { paginate } from '../omise/paginate.js';
import type { KeyValueStore } from '../realtime/ports.js';
import { readChargePage } from './charge-pages.js';
import { decodeCursor, type ChargeCursor } from './cursor.js';
import { MemoryIdempotencyStore } from '../persistence/memory-idempotency-store.js';
import { MemoryMoneyLedger } from '../persistence/memory-money-ledger.js';
import type { IdempotencyStore, MoneyCallEnd, MoneyCallStart, MoneyLedger } from '../persistence/ports.js';
import { fail, ok, UpstreamUnavailableError, type Result, type UserError } from './errors.js';
import { ChargeReader, type ChargeReaderOptions } from './charge-reader.js';
import { IdempotencyService, type AttemptContext, type IdempotencyOptions } from './idempotency.js';
import type { Charge, Metadata, Refund } from './model.js';
import {
  hasIdempotencyHandle,
  IDEMPOTENCY_METADATA_KEY,
  mapCharge,
  mapRefund,
  mapSource,
  toCreateChargeParams,
  toCreateRefundParams,
  toListChargesParams,
  TRUEMONEY_QR,
} from './omise-mapper.js';
import { isOmiseRejection, mayHaveBeenProcessed } from '../omise/errors.js';
import { toSystemError, userErrorFromOmise, type OmiseOperation } from './omise-errors.js';
import type {
  CallContext,
  ChargePage,
  CreateTrueMoneyChargeInput,
  ListChargesInput,
  PaymentsService,
  RefundChargeInput,
  RefundOutcome,
  SimulateChargeOutcomeInput,
  VoidChargeInput,
} from './payments-service.js';
import { QrImageCache } from './qr-image-cache.js';
import {
  checkCreateCharge,
  checkIdempotencyKey,
  checkMetadata,
  checkRefund,
  checkRefundAmount,
  checkSimulatable,
  checkVoid,
  isChargeId,
  remainingAmount,
} from './rules.js';

export const MAX_PAGE_SIZE = 100;
/** How many recent charges a create reconciliation looks through for its handle. */
const RECONCILE_SCAN_LIMIT = 1000;

/** What a money-moving call's ledger row learns while it runs. */
interface CallTrack {
  /** The state-changing Omise call was sent. */
  writeStarted: boolean;
  /** The answer came from the idempotency record. */
  replayed: boolean;
}

/**
 * The Omise operations the use cases call, and nothing more: what a stand-in must provide. `retrieveCharge`
 * serves the default charge reader.
 */
export type PaymentsOmiseApi = Pick<
  OmiseApi,
  | 'retrieveSource'
  | 'createCharge'
  | 'retrieveCharge'
  | 'listCharges'
  | 'markChargeAsPaid'
  | 'markChargeAsFailed'
  | 'createRefund'
  | 'listRefunds'
  | 'downloadDocument'
>;

export interface PaymentsServiceDeps {
  omise: PaymentsOmiseApi;
  /** Shared key-value store (memory or Redis): the default charge reader's versions. */
  kv: KeyValueStore;
  /** Idempotency records; default in memory (one process, lost on restart). PostgreSQL when durable. */
  idempotencyStore?: IdempotencyStore;
  /** The audit trail of money-moving calls; default in memory. */
  ledger?: MoneyLedger;
  /** `simulator` and `test` allow simulateChargeOutcome; `live` does not. */
  mode: 'simulator' | 'test' | 'live';
  /** How long idempotency keys are remembered (config.idempotencyTtlSeconds × 1000). */
  idempotencyTtlMs: number;
  /**
   * Business clock (refund window, idempotency attempt ages).
   * @default the system clock
   */
  now?: () => Date;
  logger?: Logger;
  /**
   * How many QR images to keep in memory.
   * @default 200
   */
  qrCacheSize?: number;
  /**
   * The one charge reader (and its cache) that queries, subscriptions, webhooks and the poll share.
   * @default a reader over `omise` and `kv` with the `chargeReader` options
   */
  charges?: ChargeReader;
  /**
   * The default reader's sharing (pub/sub), cache bounds and metrics.
   * @default nothing shared with other instances, the cache's default bounds
   */
  chargeReader?: Pick<ChargeReaderOptions, 'pubsub' | 'cache' | 'logger' | 'onLookup' | 'gauges'>;
  /** Tuning of the idempotency waits (tests); see IdempotencyOptions. */
  idempotency?: Pick<
    IdempotencyOptions,
    'maxWaitMs' | 'staleAfterMs' | 'settleMs' | 'sleep' | 'reconcileMarginMs'
  >;
}

type Write = AttemptContext['write'];
/** Without an idempotency key: the write as is, tracked for the ledger. */
const direct =
  (track: CallTrack): Write =>
  (call) => {
    track.writeStarted = true;
    return call();
  };
/** With one: the idempotency attempt's fenced write, tracked for the ledger. */
const tracked =
  (track: CallTrack, write: Write): Write =>
  (call) =>
    write(() => {
      track.writeStarted = true;
      return call();
    });

/**
 * Builds the payment use cases over an Omise API (the real client or the simulator behind it).
 *
 * - Metadata: callers get back exactly the metadata they sent; the gateway's reconciliation handle
 *   (`gateway_idempotency_key`, a hash, present only when an idempotencyKey was given) is stored at Omise
 *   but stripped by the mapper, and reserved in inputs.
 * - listCharges is newest first (`reverse_chronological`), what a reporting UI expects.
 */
export function createPaymentsService(deps: PaymentsServiceDeps): PaymentsService {
  return new OmisePaymentsService(deps);
}

export class OmisePaymentsService implements PaymentsService {
  private readonly omise: PaymentsOmiseApi;
  private readonly now: () => Date;
  private readonly idempotency: IdempotencyService;
  private readonly ledger: MoneyLedger;
  private readonly qrImages: QrImageCache;
  readonly charges: ChargeReader;

  constructor(private readonly deps: PaymentsServiceDeps) {
    this.omise = deps.omise;
    this.charges =
      deps.charges ??
      new ChargeReader({
        omise: deps.omise,
        kv: deps.kv,
        ...(deps.logger && { logger: deps.logger }),
        ...deps.chargeReader,
        cache: {
          // Pending charges go stale on the business clock, so that a test moving the clock sees expiry.
          ...(deps.now && { now: () => this.now().getTime() }),
          ...deps.chargeReader?.cache,
        },
      });
    this.now = deps.now ?? (() => new Date());
    this.ledger = deps.ledger ?? new MemoryMoneyLedger();
    this.idempotency = new IdempotencyService({
      store: deps.idempotencyStore ?? new MemoryIdempotencyStore(),
      ttlMs: deps.idempotencyTtlMs,
      now: this.now,
      ...(deps.logger ? { logger: deps.logger } : {}),
      ...deps.idempotency,
    });
    this.qrImages = new QrImageCache((url) => this.omise.downloadDocument(url), deps.qrCacheSize);
  }

  // ---- create ----

  async createTrueMoneyCharge(
    input: CreateTrueMoneyChargeInput,
    context?: CallContext,
  ): Promise<Result<Charge>> {
    const errors = checkCreateCharge(input);
    if (errors.length > 0) return fail(...errors);
    return this.withSystemErrors('createTrueMoneyCharge', () =>
      this.ledgered(
        { operation: 'create', context, idempotencyKey: input.idempotencyKey, amount: input.amount },
        (charge) => ({ chargeId: charge.id, amount: charge.amount }),
        (track) => {
          const key = input.idempotencyKey;
          if (key === null || key === undefined) return this.createCharge(input, undefined, direct(track));
          return this.idempotency.run({
            operation: 'create',
            key,
            scope: context?.principal ?? null,
            input: { ...input, idempotencyKey: undefined },
            execute: (attempt) => this.createCharge(input, attempt.handle, tracked(track, attempt.write)),
            reconcile: (handle, since) => this.findChargeByHandle(handle, since),
            onReplay: () => (track.replayed = true),
          });
        },
      ),
    );
  }

  private async createCharge(
    input: CreateTrueMoneyChargeInput,
    handle: string | undefined,
    write: Write,
  ): Promise<Result<Charge>> {
    if (input.sourceId) {
      const sourceErrors = await this.checkSource(input.sourceId, input.amount);
      if (sourceErrors.length > 0) return fail(...sourceErrors);
    }
    const metadata: Metadata = { ...(input.metadata ?? {}) };
    if (handle !== undefined) metadata[IDEMPOTENCY_METADATA_KEY] = handle;
    const created = await this.rejectionsAsUserErrors('createCharge', () =>
      write(() =>
        this.omise.createCharge(
          toCreateChargeParams({
            amount: input.amount,
            currency: input.currency,
            sourceId: input.sourceId,
            returnUri: input.returnUri,
            description: input.description,
            metadata,
          }),
        ),
      ),
    );
    return created.ok ? ok(await this.remembered(mapCharge(created.value))) : created;
  }

  /** A client-made source must be an unused TrueMoney QR source of exactly this amount. */
  private async checkSource(sourceId: string, amount: number): Promise<UserError[]> {
    const found = await this.rejectionsAsUserErrors('retrieveSource', () =>
      this.omise.retrieveSource(sourceId),
    );
    if (!found.ok) return found.errors;
    const source = mapSource(found.value);
    const at = ['input', 'sourceId'];
    if (source.type !== TRUEMONEY_QR) {
      return [
        {
          code: 'SOURCE_TYPE_MISMATCH',
          message: `The source is ${source.type}, not ${TRUEMONEY_QR}`,
          field: at,
        },
      ];
    }
    if (source.amount !== amount || source.currency !== 'THB') {
      return [
        {
          code: 'SOURCE_AMOUNT_MISMATCH',
          message: 'amount and currency must equal the source amount and currency',
          field: ['input', 'amount'],
        },
      ];
    }
    if (source.used) {
      return [
        { code: 'SOURCE_ALREADY_USED', message: 'The source was already used for a charge', field: at },
      ];
    }
    return [];
  }

  /**
   * The charge carrying `handle`, newest first from `since` (a wide window: the gateway's clock only
   * roughly matches Omise's). Omise refusing the window (`from` in its future) → the same scan without
   * it. Undefined when there is none; throws when the scan limit is reached before the window's start,
   * since "not found" must be certain before a create is made again.
   */
  private async findChargeByHandle(handle: string, since: Date): Promise<Result<Charge> | undefined> {
    try {
      return await this.scanChargesForHandle(handle, since);
    } catch (err) {
      if (!(isOmiseRejection(err) && err.code === 'invalid_filter')) throw err;
      return this.scanChargesForHandle(handle, undefined);
    }
  }

  private async scanChargesForHandle(handle: string, since: Date | undefined) {
    let scanned = 0;
    // Newest first: the charge, if any, is among the first ones, however wide the window.
    const newestFirst = toListChargesParams({ newestFirst: true, ...(since && { from: since }) });
    for await (const charge of paginate((p) => this.omise.listCharges(p), newestFirst)) {
      if (hasIdempotencyHandle(charge, handle)) return ok(await this.remembered(mapCharge(charge)));
      if (++scanned >= RECONCILE_SCAN_LIMIT) {
        throw new UpstreamUnavailableError(
          'Too many charges since this idempotencyKey was first used to confirm its outcome; retry later',
        );
      }
    }
    return undefined;
  }

  // ---- read ----

  async getCharge(id: string): Promise<Charge | null> {
    if (!isChargeId(id)) return null;
    return this.withSystemErrors('getCharge', () => this.charges.read(id));
  }

  async listCharges(input: ListChargesInput): Promise<Result<ChargePage>> {
    const errors: UserError[] = [];
    if (!Number.isSafeInteger(input.first) || input.first < 1 || input.first > MAX_PAGE_SIZE) {
      errors.push({
        code: 'INVALID_PAGINATION',
        message: `first must be between 1 and ${MAX_PAGE_SIZE}`,
        field: ['first'],
      });
    }
    let after: ChargeCursor | undefined;
    if (input.after !== null && input.after !== undefined) {
      after = decodeCursor(input.after);
      if (after === undefined) {
        errors.push({
          code: 'INVALID_PAGINATION',
          message: 'after is not a cursor of this list',
          field: ['after'],
        });
      }
    }
    for (const name of ['from', 'to'] as const) {
      const date = input[name];
      if (date && Number.isNaN(date.getTime())) {
        errors.push({ code: 'INVALID_PAGINATION', message: `${name} is not a valid date`, field: [name] });
      }
    }
    if (input.from && input.to && input.from.getTime() > input.to.getTime()) {
      errors.push({ code: 'INVALID_PAGINATION', message: 'from must not be after to', field: ['from'] });
    }
    if (errors.length > 0) return fail(...errors);

    return this.withSystemErrors('listCharges', async () => {
      const page = await readChargePage(this.omise, {
        first: input.first,
        after,
        from: input.from,
        to: input.to,
      });
      // A page is as fresh as a read: it feeds the cache (and raises what is newer everywhere).
      await Promise.all(page.edges.map((edge) => this.charges.remember(edge.node)));
      return ok({
        edges: page.edges,
        pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.edges.at(-1)?.cursor ?? null },
        totalCount: () => this.withSystemErrors('listCharges', page.totalCount),
      });
    });
  }

  // ---- refund and void ----

  async refundCharge(input: RefundChargeInput, context?: CallContext): Promise<Result<RefundOutcome>> {
    const errors = [
      ...checkChargeIdShape(input.chargeId),
      ...checkRefundAmount(input.amount),
      ...checkMetadata(input.metadata),
      ...checkIdempotencyKey(input.idempotencyKey),
    ];
    if (errors.length > 0) return fail(...errors);
    return this.withSystemErrors('refundCharge', () =>
      this.idempotently('refund', input, context, input.amount ?? undefined, (handle, write) =>
        this.refund(input.chargeId, handle, write, (charge) => {
          const amount = input.amount ?? remainingAmount(charge);
          const ruleErrors = checkRefund(charge, amount, this.now());
          return ruleErrors.length > 0 ? ruleErrors : { amount, metadata: input.metadata ?? {}, void: false };
        }),
      ),
    );
  }

  async voidCharge(input: VoidChargeInput, context?: CallContext): Promise<Result<RefundOutcome>> {
    const errors = [...checkChargeIdShape(input.chargeId), ...checkIdempotencyKey(input.idempotencyKey)];
    if (errors.length > 0) return fail(...errors);
    return this.withSystemErrors('voidCharge', () =>
      this.idempotently('void', input, context, undefined, (handle, write) =>
        this.refund(input.chargeId, handle, write, (charge) => {
          const ruleErrors = checkVoid(charge);
          // A void gives back the whole remaining amount (the full amount: nothing was refunded yet).
          return ruleErrors.length > 0
            ? ruleErrors
            : { amount: remainingAmount(charge), metadata: {}, void: true };
        }),
      ),
    );
  }

  private idempotently(
    operation: 'refund' | 'void',
    input: RefundChargeInput | VoidChargeInput,
    context: CallContext | undefined,
    amount: number | undefined,
    run: (handle: string | undefined, write: Write) => Promise<Result<RefundOutcome>>,
  ): Promise<Result<RefundOutcome>> {
    return this.ledgered(
      { operation, context, idempotencyKey: input.idempotencyKey, chargeId: input.chargeId, amount },
      (outcome) => ({
        chargeId: outcome.charge.id,
        refundId: outcome.refund.id,
        amount: outcome.refund.amount,
      }),
      (track) => {
        const key = input.idempotencyKey;
        if (key === null || key === undefined) return run(undefined, direct(track));
        return this.idempotency.run({
          operation,
          key,
          scope: context?.principal ?? null,
          input: { ...input, idempotencyKey: undefined },
          execute: (attempt) => run(attempt.handle, tracked(track, attempt.write)),
          reconcile: (handle) => this.findRefundByHandle(input.chargeId, handle),
          onReplay: () => (track.replayed = true),
        });
      },
    );
  }

  /**
   * Runs a money-moving call with its ledger row: written before anything is sent to Omise (when the
   * ledger cannot be written, nothing is done and the caller gets a retryable error), then completed
   * with the outcome. A failure to complete it is logged, never turned into an error: the money moved.
   */
  private async ledgered<T>(
    call: {
      operation: MoneyCallStart['operation'];
      context: CallContext | undefined;
      idempotencyKey: string | null | undefined;
      chargeId?: string;
      amount: number | undefined;
    },
    describe: (value: T) => Pick<MoneyCallEnd, 'chargeId' | 'refundId' | 'amount'>,
    run: (track: CallTrack) => Promise<Result<T>>,
  ): Promise<Result<T>> {
    let id: string;
    try {
      id = await this.ledger.start({
        operation: call.operation,
        actor: call.context?.principal ?? 'anonymous',
        idempotencyKey: call.idempotencyKey ?? undefined,
        requestId: call.context?.requestId ?? undefined,
        chargeId: call.chargeId,
        amount: call.amount,
        startedAt: this.now(),
      });
    } catch (err) {
      this.deps.logger?.error({ err, operation: call.operation }, 'payments: the ledger cannot be written');
      throw new UpstreamUnavailableError(
        'The payments ledger is unavailable; nothing was done. Retry shortly',
        { cause: err },
      );
    }
    const track: CallTrack = { writeStarted: false, replayed: false };
    let end: Omit<MoneyCallEnd, 'finishedAt'>;
    try {
      const result = await run(track);
      end = result.ok
        ? { outcome: track.replayed ? 'replayed' : 'succeeded', ...describe(result.value) }
        : { outcome: track.replayed ? 'replayed' : 'rejected', errorCode: result.errors[0]?.code };
      await this.finishLedger(id, end);
      return result;
    } catch (err) {
      const uncertain = track.writeStarted && mayHaveBeenProcessed(err);
      await this.finishLedger(id, {
        outcome: uncertain ? 'uncertain' : 'failed',
        errorCode: systemErrorCode(err),
      });
      throw err;
    }
  }

  private async finishLedger(id: string, end: Omit<MoneyCallEnd, 'finishedAt'>): Promise<void> {
    try {
      await this.ledger.finish(id, { ...end, finishedAt: this.now() });
    } catch (err) {
      this.deps.logger?.error(
        { err, ledgerId: id, outcome: end.outcome },
        'payments: could not complete a ledger row',
      );
    }
  }

  /** Reads the charge, applies `decide`, creates the refund, and re-reads the charge. */
  private async refund(
    chargeId: string,
    handle: string | undefined,
    write: Write,
    decide: (charge: Charge) => UserError[] | { amount: number; metadata: Metadata; void: boolean },
  ): Promise<Result<RefundOutcome>> {
    // Fresh from Omise, not from the cache: the rules decide about money on it.
    const found = await this.freshCharge(chargeId);
    if (!found.ok) return found;
    const before = found.value;
    const decision = decide(before);
    if (Array.isArray(decision)) return fail(...decision);
    const metadata: Metadata = { ...decision.metadata };
    if (handle !== undefined) metadata[IDEMPOTENCY_METADATA_KEY] = handle;
    const operation: OmiseOperation = decision.void ? 'void' : 'refund';
    const created = await this.rejectionsAsUserErrors(operation, () =>
      write(() =>
        this.omise.createRefund(
          chargeId,
          toCreateRefundParams({ amount: decision.amount, metadata, void: decision.void }),
        ),
      ),
    );
    if (!created.ok) return created;
    return ok(await this.outcome(mapRefund(created.value), before));
  }

  /**
   * The refund and the charge as it is after it. `before` (the charge read just before the refund) is the
   * fallback when the re-read fails: the refund IS made at Omise, so the caller must be told so, not get
   * an error that invites a retry without an idempotencyKey (a second refund).
   */
  private async outcome(refund: Refund, before?: Charge): Promise<RefundOutcome> {
    let after: Charge | null;
    try {
      // Re-read so that the returned charge reflects the refund (refunded amount, voided, refunds list);
      // the reader shares it with every instance before this answers.
      after = await this.charges.readFresh(refund.chargeId);
    } catch (err) {
      if (before === undefined) throw err;
      this.deps.logger?.warn(
        { err, chargeId: before.id },
        'payments: refund made, but re-reading the charge failed; answering from the earlier read',
      );
      return { refund, charge: await this.remembered(chargeAfterRefund(before, refund)) };
    }
    if (after === null) throw new UpstreamUnavailableError('Omise no longer knows the refunded charge');
    return { refund, charge: after };
  }

  private async findRefundByHandle(
    chargeId: string,
    handle: string,
  ): Promise<Result<RefundOutcome> | undefined> {
    // A charge has at most 15 refunds: one page holds them all.
    const page = await this.omise.listRefunds(chargeId, { limit: 100 });
    const refund = page.data.find((r) => hasIdempotencyHandle(r, handle));
    return refund ? ok(await this.outcome(mapRefund(refund))) : undefined;
  }

  // ---- test mode ----

  async simulateChargeOutcome(
    input: SimulateChargeOutcomeInput,
    context?: CallContext,
  ): Promise<Result<Charge>> {
    if (this.deps.mode === 'live') {
      return fail({
        code: 'NOT_TEST_MODE',
        message: 'simulateChargeOutcome works only with test keys or the simulator',
      });
    }
    const idErrors = checkChargeIdShape(input.chargeId);
    if (idErrors.length > 0) return fail(...idErrors);
    return this.withSystemErrors('simulateChargeOutcome', () =>
      this.ledgered(
        {
          operation: 'simulate',
          context,
          idempotencyKey: undefined,
          chargeId: input.chargeId,
          amount: undefined,
        },
        (charge) => ({ chargeId: charge.id, amount: charge.amount }),
        async (track) => {
          const found = await this.freshCharge(input.chargeId);
          if (!found.ok) return found;
          const errors = checkSimulatable(found.value);
          if (errors.length > 0) return fail(...errors);
          const marked = await this.rejectionsAsUserErrors('simulate', () =>
            direct(track)(() =>
              input.outcome === 'SUCCESSFUL'
                ? this.omise.markChargeAsPaid(input.chargeId)
                : this.omise.markChargeAsFailed(input.chargeId),
            ),
          );
          return marked.ok ? ok(await this.remembered(mapCharge(marked.value))) : marked;
        },
      ),
    );
  }

  async getQrImage(imageUrl: string): Promise<Uint8Array> {
    return this.withSystemErrors('getQrImage', () => this.qrImages.get(imageUrl));
  }

  // ---- helpers ----

  /** The charge as Omise has it now; CHARGE_NOT_FOUND when it does not know the id. */
  private async freshCharge(chargeId: string): Promise<Result<Charge>> {
    const charge = await this.charges.readFresh(chargeId);
    return charge === null ? fail(...notFound()) : ok(charge);
  }

  /** A state a mutation produced, kept and shared before the caller is answered (read-your-writes). */
  private async remembered(charge: Charge): Promise<Charge> {
    await this.charges.remember(charge);
    return charge;
  }

  /** Runs an Omise call; a 4xx rejection becomes a failed Result, anything else is rethrown as is. */
  private async rejectionsAsUserErrors<T>(
    operation: OmiseOperation,
    call: () => Promise<T>,
  ): Promise<Result<T>> {
    try {
      return ok(await call());
    } catch (err) {
      if (isOmiseRejection(err)) return fail(userErrorFromOmise(err, operation));
      throw err;
    }
  }

  /** Turns whatever a use case throws into the gateway's system errors, logging the cause. */
  private async withSystemErrors<T>(useCase: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      const translated = toSystemError(err);
      this.deps.logger?.warn({ useCase, err }, `payments: ${useCase} failed: ${translated.message}`);
      throw translated;
    }
  }
}

/** `charge` as it is once `refund` is applied (when it cannot be read again from Omise). */
function chargeAfterRefund(charge: Charge, refund: Refund): Charge {
  const refundedAmount = charge.refundedAmount + refund.amount;
  const voided = charge.voided || refund.voided;
  return {
    ...charge,
    refundedAmount,
    voided,
    voidable: false,
    refundable: charge.refundable && !voided && refundedAmount < charge.amount,
    refunds: [...charge.refunds.filter((r) => r.id !== refund.id), refund],
  };
}

function checkChargeIdShape(chargeId: string): UserError[] {
  return isChargeId(chargeId) ? [] : notFound();
}

function notFound(): UserError[] {
  return [{ code: 'CHARGE_NOT_FOUND', message: 'No such charge', field: ['input', 'chargeId'] }];
}

/** The code the caller gets for a thrown failure (UPSTREAM_UNAVAILABLE, RATE_LIMITED…), for the ledger. */
function systemErrorCode(err: unknown): string {
  const translated = toSystemError(err);
  const code = (translated as { code?: unknown }).code;
  return typeof code === 'string' ? code : translated.name;
}
