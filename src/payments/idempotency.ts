import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import {
  LeaseLostError,
  type AttemptLease,
  type IdempotencyRecord,
  type IdempotencyStore,
} from '../persistence/ports.js';
import { fail, UpstreamUnavailableError, type Result } from './errors.js';
import { mayHaveBeenProcessed, mayStillBeInFlight } from '../omise/errors.js';

/**
 * Idempotency keys for the mutating use cases, over an {@link IdempotencyStore} (memory in test mode,
 * PostgreSQL with DATABASE_URL: durable, shared by every instance).
 *
 * - Keys are scoped per operation and per caller (`scope`): the same key used for a refund and a create,
 *   or by two API clients, are different keys.
 * - Same key + same input (a stable hash of the canonicalised input) → the recorded result again, without
 *   calling Omise. A concurrent duplicate waits for the first (polling with backoff, at most `maxWaitMs`).
 * - Same key + other input → `IDEMPOTENCY_KEY_REUSED`.
 * - Successful results and business failures are recorded (a replay of a rejected request gets the same
 *   userErrors). Input-validation failures never get here: they are returned before a key is claimed.
 * - Each attempt holds a lease on the key; its Omise write is fenced (recorded as started, refused when
 *   another attempt took over). A system failure before the write, or one that provably changed nothing
 *   at Omise, releases the key. One where Omise MAY have acted (timeout, dropped connection, 5xx, a crash)
 *   leaves the key `uncertain`: the next attempt first reconciles, i.e. looks at Omise for the object
 *   carrying this key's handle in its metadata, and returns it when found. When not found it executes
 *   again, unless an earlier write was never answered and began less than `settleMs` ago: then it throws
 *   UpstreamUnavailableError, asking to retry later.
 * - Bounded settling: a take-over is a compare-and-set on the record's owner, with nothing kept beside
 *   the record, so an uncertain key is always taken over by the next retry; once Omise answers again it
 *   settles (done, or executed again) at the first retry made `settleMs` after its last unanswered write.
 *   A pending attempt whose process died is taken over as soon as the store can tell (PostgreSQL: its
 *   session lock is gone), otherwise once older than `staleAfterMs`.
 * - Clocks: the reconciliation window starts `reconcileMarginMs` (1 h) before the first attempt, so the
 *   gateway's and Omise's clocks need not agree (the reconcile function copes with a window Omise refuses).
 */

export type IdempotentOperation = 'create' | 'refund' | 'void';

export interface IdempotencyOptions {
  store: IdempotencyStore;
  /** How long a key is remembered (24 h in production: config.idempotencyTtlSeconds × 1000). */
  ttlMs: number;
  /**
   * Clock for attempt ages (stale / settle).
   * @default the system clock
   */
  now?: () => Date;
  /**
   * How long a duplicate waits for a running first request.
   * @default 30 s
   */
  maxWaitMs?: number;
  /**
   * A running attempt older than this is presumed dead (process crash) and reconciled.
   * @default 2 min
   */
  staleAfterMs?: number;
  /**
   * How long an unanswered Omise request may still complete at Omise.
   * @default 60 s
   */
  settleMs?: number;
  /**
   * How far before the first attempt reconciliation looks (clock skew tolerance).
   * @default 1 h
   */
  reconcileMarginMs?: number;
  /**
   * @default a real timer
   */
  sleep?: (ms: number) => Promise<void>;
  logger?: Logger;
}

/** What an attempt gets: the handle to put in Omise metadata, and the wrapper of its Omise write. */
export interface AttemptContext {
  /** Opaque, derived from scope + operation + key (the key itself never leaves the gateway). */
  readonly handle: string;
  /** Wraps the one call that changes state at Omise, so that a failure is classified correctly. */
  write<R>(call: () => Promise<R>): Promise<R>;
}

export interface IdempotentRequest<T> {
  operation: IdempotentOperation;
  key: string;
  /** The caller's principal; omitted → one shared key space. */
  scope?: string | null;
  /** The request's input; its canonical form is fingerprinted. */
  input: unknown;
  execute(ctx: AttemptContext): Promise<Result<T>>;
  /**
   * Finds at Omise the outcome of an earlier attempt by its handle; undefined when there is none.
   * `since` is on the gateway's clock, with a wide margin: not a bound to trust to the second.
   */
  reconcile(handle: string, since: Date): Promise<Result<T> | undefined>;
  /** Told when the answer is a replay of a recorded result (the ledger records it as such). */
  onReplay?(): void;
}

/**
 * Idempotency timings that stay safe with the configured Omise client: an attempt is presumed dead
 * (and its key reconciled, possibly re-executed) only well after its slowest possible run, and an
 * unanswered request is given at least one full call budget to complete at Omise. Never below the
 * built-in 2 min and 60 s.
 */
export function idempotencyTimingsFor(omise: {
  timeoutMs: number;
  maxAttempts: number;
  /** Longest wait between attempts (Retry-After cap). */
  maxRetryDelayMs: number;
}): { staleAfterMs: number; settleMs: number } {
  const slowestCallMs = omise.maxAttempts * omise.timeoutMs + (omise.maxAttempts - 1) * omise.maxRetryDelayMs;
  // A use case makes at most a few Omise calls (read, write, re-read) before it records its result.
  return {
    staleAfterMs: Math.max(120_000, 4 * slowestCallMs),
    settleMs: Math.max(60_000, slowestCallMs),
  };
}

const IN_PROGRESS_MESSAGE = 'A request with this idempotencyKey is still in progress; retry shortly';
const DEFAULT_RECONCILE_MARGIN_MS = 60 * 60 * 1000;

export class IdempotencyService {
  private readonly now: () => Date;
  private readonly maxWaitMs: number;
  private readonly staleAfterMs: number;
  private readonly settleMs: number;
  private readonly reconcileMarginMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly store: IdempotencyStore;

  constructor(private readonly options: IdempotencyOptions) {
    this.now = options.now ?? (() => new Date());
    this.maxWaitMs = options.maxWaitMs ?? 30_000;
    this.staleAfterMs = options.staleAfterMs ?? 120_000;
    this.settleMs = options.settleMs ?? 60_000;
    this.reconcileMarginMs = options.reconcileMarginMs ?? DEFAULT_RECONCILE_MARGIN_MS;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.store = options.store;
    // A record that expired while its attempt could still be running would let a retry execute again.
    if (options.ttlMs < Math.max(this.staleAfterMs, this.settleMs)) {
      throw new RangeError(
        `idempotency: the key retention (${options.ttlMs} ms) is shorter than the attempt stale time (${this.staleAfterMs} ms)`,
      );
    }
  }

  /** The handle that `run` puts in Omise metadata for this key (exposed for reconciliation tests). */
  handleFor(operation: IdempotentOperation, key: string, scope?: string | null): string {
    return sha256(`gateway-idempotency\n${scope ?? ''}\n${operation}\n${key}`).slice(0, 40);
  }

  async run<T>(request: IdempotentRequest<T>): Promise<Result<T>> {
    const handle = this.handleFor(request.operation, request.key, request.scope);
    const storeKey = `${request.operation}:${handle}`;
    const fingerprint = fingerprintOf(request.input);
    let waitedMs = 0;
    let backoffMs = 5;

    for (;;) {
      const nowMs = this.nowMs();
      const record = await this.stored(() => this.store.read(storeKey, nowMs));
      if (record === undefined) {
        const lease = await this.stored(() =>
          this.store.begin(storeKey, { fingerprint, nowMs, expiresAt: nowMs + this.options.ttlMs }),
        );
        if (lease) return this.attempt(lease, handle, request);
      } else {
        if (record.fingerprint !== fingerprint) {
          return fail({
            code: 'IDEMPOTENCY_KEY_REUSED',
            message: 'This idempotencyKey was already used with a different input',
            field: ['input', 'idempotencyKey'],
          });
        }
        if (record.state === 'done') {
          request.onReplay?.();
          return decodeValue(record.result ?? 'null') as Result<T>;
        }
        // An uncertain record has no owner: the first retry takes it over. A pending one is taken over
        // when the store knows its owner is gone, or when it is older than the stale time.
        const stale = nowMs - record.startedAt > this.staleAfterMs;
        const lease = await this.stored(() =>
          this.store.begin(storeKey, {
            fingerprint,
            nowMs,
            expiresAt: record.expiresAt,
            takeOverFrom: record,
            force: stale,
          }),
        );
        if (lease) return this.recover(lease, record, handle, request);
      }
      if (waitedMs >= this.maxWaitMs) {
        return fail({
          code: 'IDEMPOTENCY_REQUEST_IN_PROGRESS',
          message: IN_PROGRESS_MESSAGE,
          field: ['input', 'idempotencyKey'],
        });
      }
      await this.sleep(backoffMs);
      waitedMs += backoffMs;
      backoffMs = Math.min(backoffMs * 2, 250);
    }
  }

  /** Takes over after an uncertain or dead attempt: reconcile first, then maybe execute again. */
  private async recover<T>(
    lease: AttemptLease,
    previous: IdempotencyRecord,
    handle: string,
    request: IdempotentRequest<T>,
  ): Promise<Result<T>> {
    // A pending attempt that was taken over may have sent its write without an answer.
    const inFlight = previous.inFlight;
    const keepUncertain = () =>
      lease
        .finish({ state: 'uncertain', inFlight, lastWriteAt: previous.lastWriteAt })
        .catch(() => lease.abandon());
    let found: Result<T> | undefined;
    try {
      found = await request.reconcile(handle, new Date(previous.firstStartedAt - this.reconcileMarginMs));
    } catch (err) {
      // Still unknown: left uncertain for the next retry.
      await keepUncertain();
      throw err;
    }
    if (found) {
      this.options.logger?.info(
        { operation: request.operation, attempt: lease.record.attempt },
        'idempotency: reconciled an earlier attempt',
      );
      await this.record(lease, request, found);
      return found;
    }
    const stillPossible =
      inFlight && previous.lastWriteAt !== undefined && this.nowMs() - previous.lastWriteAt < this.settleMs;
    if (stillPossible) {
      await keepUncertain();
      throw new UpstreamUnavailableError(
        'The outcome of an earlier attempt with this idempotencyKey is not known yet; retry in a minute',
      );
    }
    return this.attempt(lease, handle, request);
  }

  private async attempt<T>(
    lease: AttemptLease,
    handle: string,
    request: IdempotentRequest<T>,
  ): Promise<Result<T>> {
    let writeStartedAt: number | undefined;
    let writeDone = false;
    const ctx: AttemptContext = {
      handle,
      write: async (call) => {
        // Fenced: an attempt that was taken over never reaches Omise.
        const at = this.nowMs();
        try {
          await lease.markWriteStarted(at);
        } catch (err) {
          // Taken over: handled below. The store failing: nothing was sent, the caller may retry.
          throw err instanceof LeaseLostError ? err : this.unavailable(err);
        }
        writeStartedAt = at;
        const value = await call();
        writeDone = true;
        return value;
      },
    };
    let result: Result<T>;
    try {
      result = await request.execute(ctx);
    } catch (err) {
      await this.afterFailure(lease, request, err, writeStartedAt, writeDone);
      throw err instanceof LeaseLostError
        ? new UpstreamUnavailableError(IN_PROGRESS_MESSAGE, { cause: err })
        : err;
    }
    await this.record(lease, request, result);
    return result;
  }

  private async afterFailure(
    lease: AttemptLease,
    request: IdempotentRequest<unknown>,
    err: unknown,
    writeStartedAt: number | undefined,
    writeDone: boolean,
  ): Promise<void> {
    if (err instanceof LeaseLostError) return lease.abandon();
    const processed = writeDone || (writeStartedAt !== undefined && mayHaveBeenProcessed(err));
    try {
      if (!processed) {
        // Nothing changed at Omise by this attempt, and an earlier attempt's unanswered write (if any)
        // was reconciled after its settle time before this one executed: the key is free again.
        await lease.release();
        return;
      }
      const inFlight = !writeDone && mayStillBeInFlight(err);
      this.options.logger?.warn(
        { operation: request.operation, inFlight },
        'idempotency: outcome at Omise unknown; the next retry reconciles',
      );
      await lease.finish({ state: 'uncertain', inFlight, lastWriteAt: writeStartedAt });
    } catch (storeErr) {
      // The store failed: the record stays pending and a retry takes it over and reconciles.
      this.options.logger?.error(
        { operation: request.operation, err: storeErr },
        'idempotency: could not record a failed attempt; a retry with this key will reconcile',
      );
      await lease.abandon();
    }
  }

  private async record<T>(lease: AttemptLease, request: IdempotentRequest<T>, result: Result<T>) {
    try {
      await lease.finish({ state: 'done', result: encode(result) });
    } catch (err) {
      // The work is done (perhaps a charge or refund made at Omise): the caller must get its result, not
      // an error. The record stays pending, so a retry with this key takes it over and reconciles; never
      // executes blindly.
      this.options.logger?.error(
        { operation: request.operation, err },
        'idempotency: could not record the result; a retry with this key will reconcile',
      );
      await lease.abandon();
    }
  }

  /** A store failure before an attempt began: nothing was done, the caller may retry. */
  private async stored<R>(call: () => Promise<R>): Promise<R> {
    try {
      return await call();
    } catch (err) {
      throw this.unavailable(err);
    }
  }

  private unavailable(err: unknown): UpstreamUnavailableError {
    this.options.logger?.error({ err }, 'idempotency: the store is unavailable');
    return new UpstreamUnavailableError(
      'The idempotency store is unavailable; nothing was done. Retry shortly',
      {
        cause: err,
      },
    );
  }

  private nowMs(): number {
    return this.now().getTime();
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * Canonical JSON: object keys sorted, `undefined` members dropped, Dates as ISO strings. At the top
 * level (the input's own fields) a `null` member is dropped too (an omitted optional field and an
 * explicit null mean the same input); deeper down, in metadata, `{a: null}` and `{}` differ.
 */
export function canonicalJson(value: unknown, depth = 0): string {
  if (value === null || value === undefined) return 'null';
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v, depth + 1)).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined && (depth > 0 || v !== null))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v, depth + 1)}`).join(',')}}`;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) return JSON.stringify(String(value));
  return JSON.stringify(value);
}

export function fingerprintOf(input: unknown): string {
  return sha256(canonicalJson(input));
}

// Dates are tagged on the way in and revived on the way out, so a replayed Charge has real Dates.
const DATE_TAG = '$gatewayDate';

export function encode(value: unknown): string {
  return JSON.stringify(value, function (this: Record<string, unknown>, key, v: unknown) {
    const original = this[key];
    return original instanceof Date ? { [DATE_TAG]: original.toISOString() } : v;
  });
}

export function decodeValue(text: string): unknown {
  return JSON.parse(text, (_key, v: unknown) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const keys = Object.keys(v);
      const tagged = (v as Record<string, unknown>)[DATE_TAG];
      if (keys.length === 1 && typeof tagged === 'string') return new Date(tagged);
    }
    return v;
  });
}
