import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { KeyValueStore } from '../realtime/ports.js';
import { fail, UpstreamUnavailableError, type Result } from './errors.js';
import { mayHaveBeenProcessed, mayStillBeInFlight } from '../omise/errors.js';

/**
 * Idempotency keys for the mutating use cases, over a {@link KeyValueStore} (memory or Redis, so it holds
 * across gateway instances).
 *
 * - Keys are scoped per operation and per caller (`scope`): the same key used for a refund and a create,
 *   or by two API clients, are different keys.
 * - Same key + same input (a stable hash of the canonicalised input) → the recorded result again, without
 *   calling Omise. A concurrent duplicate waits for the first (polling with backoff, at most `maxWaitMs`).
 * - Same key + other input → `IDEMPOTENCY_KEY_REUSED`.
 * - Successful results and business failures are recorded (a replay of a rejected request gets the same
 *   userErrors). Input-validation failures never get here: they are returned before a key is claimed.
 * - A system failure before the state-changing Omise call, or one that provably changed nothing at Omise,
 *   releases the key. One where Omise MAY have processed the call (timeout, dropped connection, 5xx, a
 *   crash) leaves the key `uncertain`: the next attempt first reconciles, i.e. looks at Omise for the
 *   object carrying this key's handle in its metadata, and returns it when found. When not found it
 *   executes again, unless the earlier request may still be in flight at Omise (no answer was received)
 *   and is younger than `settleMs`: then it throws UpstreamUnavailableError, asking to retry later.
 */

export type IdempotentOperation = 'create' | 'refund' | 'void';

export interface IdempotencyOptions {
  kv: KeyValueStore;
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
   * @default a real timer
   */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Prefix of the store keys.
   * @default 'idem:'
   */
  keyPrefix?: string;
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
  /** Finds at Omise the outcome of an earlier attempt by its handle; undefined when there is none. */
  reconcile(handle: string, since: Date): Promise<Result<T> | undefined>;
}

interface StoredRecord {
  v: 1;
  fingerprint: string;
  state: 'pending' | 'done' | 'uncertain';
  attempt: number;
  /** Epoch ms (options.now) when the attempt began. */
  startedAt: number;
  /** uncertain only: the failed request may still be running at Omise. */
  inFlight?: boolean;
  result?: unknown;
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

export class IdempotencyService {
  private readonly now: () => Date;
  private readonly maxWaitMs: number;
  private readonly staleAfterMs: number;
  private readonly settleMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly prefix: string;

  constructor(private readonly options: IdempotencyOptions) {
    this.now = options.now ?? (() => new Date());
    this.maxWaitMs = options.maxWaitMs ?? 30_000;
    this.staleAfterMs = options.staleAfterMs ?? 120_000;
    this.settleMs = options.settleMs ?? 60_000;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.prefix = options.keyPrefix ?? 'idem:';
  }

  /** The handle that `run` puts in Omise metadata for this key (exposed for reconciliation tests). */
  handleFor(operation: IdempotentOperation, key: string, scope?: string | null): string {
    return sha256(`gateway-idempotency\n${scope ?? ''}\n${operation}\n${key}`).slice(0, 40);
  }

  async run<T>(request: IdempotentRequest<T>): Promise<Result<T>> {
    const handle = this.handleFor(request.operation, request.key, request.scope);
    const storeKey = `${this.prefix}${request.operation}:${handle}`;
    const fingerprint = fingerprintOf(request.input);
    let waitedMs = 0;
    let backoffMs = 5;

    for (;;) {
      const raw = await this.options.kv.get(storeKey);
      if (raw === undefined) {
        const record = this.pending(fingerprint, 1);
        if (await this.options.kv.setIfAbsent(storeKey, encode(record), this.options.ttlMs)) {
          return this.attempt(storeKey, handle, record, request);
        }
        continue; // someone else claimed it between our get and setIfAbsent
      }
      const record = decode(raw);
      if (record.fingerprint !== fingerprint) {
        return fail({
          code: 'IDEMPOTENCY_KEY_REUSED',
          message: 'This idempotencyKey was already used with a different input',
          field: ['input', 'idempotencyKey'],
        });
      }
      if (record.state === 'done') return record.result as Result<T>;

      const age = this.now().getTime() - record.startedAt;
      if (record.state === 'uncertain' || age > this.staleAfterMs) {
        // Elect one taker for the next attempt; the others keep waiting.
        const next = record.attempt + 1;
        if (await this.options.kv.setIfAbsent(`${storeKey}:attempt:${next}`, '1', this.options.ttlMs)) {
          return this.recover(storeKey, handle, record, request);
        }
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
    storeKey: string,
    handle: string,
    previous: StoredRecord,
    request: IdempotentRequest<T>,
  ): Promise<Result<T>> {
    const record = this.pending(previous.fingerprint, previous.attempt + 1);
    await this.options.kv.set(storeKey, encode(record), this.options.ttlMs);
    let found: Result<T> | undefined;
    try {
      found = await request.reconcile(handle, new Date(previous.startedAt - this.settleMs));
    } catch (err) {
      // Still unknown: leave it uncertain for the next retry.
      await this.options.kv.set(
        storeKey,
        encode({ ...previous, attempt: record.attempt }),
        this.options.ttlMs,
      );
      throw err;
    }
    if (found) {
      this.options.logger?.info(
        { operation: request.operation },
        'idempotency: reconciled an earlier attempt',
      );
      await this.options.kv.set(
        storeKey,
        encode({ ...record, state: 'done', result: found }),
        this.options.ttlMs,
      );
      return found;
    }
    const stillPossible =
      (previous.state === 'pending' || previous.inFlight === true) &&
      this.now().getTime() - previous.startedAt < this.settleMs;
    if (stillPossible) {
      await this.options.kv.set(
        storeKey,
        encode({ ...previous, attempt: record.attempt }),
        this.options.ttlMs,
      );
      throw new UpstreamUnavailableError(
        'The outcome of an earlier attempt with this idempotencyKey is not known yet; retry in a minute',
      );
    }
    return this.attempt(storeKey, handle, record, request);
  }

  private async attempt<T>(
    storeKey: string,
    handle: string,
    record: StoredRecord,
    request: IdempotentRequest<T>,
  ): Promise<Result<T>> {
    let writeStarted = false;
    let writeDone = false;
    const ctx: AttemptContext = {
      handle,
      write: async (call) => {
        writeStarted = true;
        const value = await call();
        writeDone = true;
        return value;
      },
    };
    let result: Result<T>;
    try {
      result = await request.execute(ctx);
    } catch (err) {
      const processed = writeDone || (writeStarted && mayHaveBeenProcessed(err));
      if (!processed) {
        await this.options.kv.delete(storeKey);
      } else {
        const inFlight = !writeDone && mayStillBeInFlight(err);
        this.options.logger?.warn(
          { operation: request.operation, inFlight },
          'idempotency: outcome at Omise unknown; the next retry reconciles',
        );
        await this.options.kv.set(
          storeKey,
          encode({ ...record, state: 'uncertain', inFlight }),
          this.options.ttlMs,
        );
      }
      throw err;
    }
    try {
      await this.options.kv.set(storeKey, encode({ ...record, state: 'done', result }), this.options.ttlMs);
    } catch (err) {
      // The work is done (perhaps a charge or refund made at Omise): the caller must get its result, not
      // an error. The record stays pending, so a retry with this key waits, then reconciles; never
      // executes blindly.
      this.options.logger?.error(
        { operation: request.operation, err },
        'idempotency: could not record the result; a retry with this key will reconcile',
      );
    }
    return result;
  }

  private pending(fingerprint: string, attempt: number): StoredRecord {
    return { v: 1, fingerprint, state: 'pending', attempt, startedAt: this.now().getTime() };
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * Canonical JSON: object keys sorted, `undefined` and `null` members dropped (an omitted optional field
 * and an explicit null mean the same input), Dates as ISO strings.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined && v !== null)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
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

function decode(text: string): StoredRecord {
  const record = decodeValue(text) as StoredRecord;
  if (record?.v !== 1 || typeof record.fingerprint !== 'string')
    throw new Error('unreadable idempotency record');
  return record;
}
