/**
 * The durable-state ports: what protects money. Each has a memory adapter (`npm start` in test mode, one
 * process, lost on restart) and a PostgreSQL adapter (DATABASE_URL; required with live keys); both pass
 * one shared contract suite (test/persistence/store-contract.ts).
 */

export type IdempotencyState = 'pending' | 'done' | 'uncertain';

/** One idempotency key's record. Times are epoch ms on the payments clock. */
export interface IdempotencyRecord {
  /** Hash of the canonical input: the same key with another input is refused. */
  readonly fingerprint: string;
  readonly state: IdempotencyState;
  /** 1 for the first attempt, +1 on each take-over. */
  readonly attempt: number;
  /** Random per attempt: the fence of every write by that attempt (no ABA after a release). */
  readonly owner: string;
  /** When the first attempt began (reconciliation looks for objects made since, with a wide margin). */
  readonly firstStartedAt: number;
  /** When the current attempt began (a pending attempt older than the stale time is presumed dead). */
  readonly startedAt: number;
  /** When the latest state-changing Omise call by any attempt began; undefined when none did. */
  readonly lastWriteAt: number | undefined;
  /** A state-changing call was sent and its answer never came: Omise may still act on it. */
  readonly inFlight: boolean;
  /** done: the encoded Result. */
  readonly result: string | undefined;
  readonly expiresAt: number;
}

export type AttemptEnd =
  | { state: 'done'; result: string }
  | { state: 'uncertain'; inFlight: boolean; lastWriteAt: number | undefined };

/**
 * The right to run one attempt on a key, from {@link IdempotencyStore.begin} until `finish` or
 * `release`. Every write is fenced by the attempt's `owner`: an attempt that was taken over (presumed
 * dead) can no longer change the record, and {@link markWriteStarted} refuses it before it calls Omise.
 */
export interface AttemptLease {
  readonly record: IdempotencyRecord;
  /** Records that the state-changing call starts now; throws {@link LeaseLostError} when taken over. */
  markWriteStarted(nowMs: number): Promise<void>;
  /** Records the end of the attempt and gives the key up; throws LeaseLostError when taken over. */
  finish(end: AttemptEnd): Promise<void>;
  /** Deletes the record (nothing happened at Omise): the key is free again. */
  release(): Promise<void>;
  /** Gives the key up leaving the record as it is (the store failed; a retry reconciles). Never throws. */
  abandon(): Promise<void>;
}

export interface BeginAttempt {
  fingerprint: string;
  nowMs: number;
  /** A fresh key is remembered until then. */
  expiresAt: number;
  /**
   * Absent: claim a key that has no record (or an expired one). Present: take over from this record,
   * which must still be the stored one (same owner) and not done.
   */
  takeOverFrom?: IdempotencyRecord;
  /**
   * Take over even while the current owner is alive (it is presumed dead: older than the stale time).
   * Without it, a pending record is taken over only when the store can tell its owner is gone.
   */
  force?: boolean;
}

export interface IdempotencyStore {
  /** Which adapter: shown at start-up and in /readyz. */
  readonly kind: 'memory' | 'postgres';
  /** The record of a key unless it expired at `nowMs`. */
  read(key: string, nowMs: number): Promise<IdempotencyRecord | undefined>;
  /** Starts an attempt (a claim or a take-over); undefined when another attempt won the key. */
  begin(key: string, attempt: BeginAttempt): Promise<AttemptLease | undefined>;
  /** Deletes records expired at `nowMs`; returns how many. */
  deleteExpired(nowMs: number): Promise<number>;
  ping(): Promise<void>;
}

/** The attempt was taken over by another (this one was presumed dead): it must not touch Omise. */
export class LeaseLostError extends Error {
  override name = 'LeaseLostError';
  constructor() {
    super('idempotency: this attempt was taken over by another one');
  }
}

// ---- the ledger of money-moving calls ----

export type MoneyOperation = 'create' | 'refund' | 'void' | 'simulate';

/**
 * - started: the call is running (or its process died: look at the idempotency record and Omise);
 * - succeeded: Omise made the object; replayed: an idempotent retry answered from the record;
 * - rejected: a business failure (userErrors), nothing moved; failed: a system failure where Omise
 *   provably did nothing; uncertain: Omise may have acted (a retry with the same key reconciles).
 */
export type MoneyOutcome = 'started' | 'succeeded' | 'replayed' | 'rejected' | 'failed' | 'uncertain';

export interface MoneyCallStart {
  operation: MoneyOperation;
  /** Who: `service:<API key name>`, `client:<chargeId>` (a client token), or `anonymous-test-mode`. */
  actor: string;
  idempotencyKey: string | undefined;
  requestId: string | undefined;
  /** Known up front for refund, void and simulate. */
  chargeId: string | undefined;
  /** Satang asked for; undefined for "what is left". */
  amount: number | undefined;
  startedAt: Date;
}

export interface MoneyCallEnd {
  outcome: Exclude<MoneyOutcome, 'started'>;
  chargeId?: string | undefined;
  refundId?: string | undefined;
  /** Satang actually moved (the refund's amount, the charge's amount). */
  amount?: number | undefined;
  /** The userError or system error code. */
  errorCode?: string | undefined;
  finishedAt: Date;
}

export interface MoneyCallRow extends MoneyCallStart {
  id: string;
  refundId: string | undefined;
  errorCode: string | undefined;
  outcome: MoneyOutcome;
  finishedAt: Date | undefined;
}

/** Append-only audit trail of every money-moving call. */
export interface MoneyLedger {
  readonly kind: 'memory' | 'postgres';
  /** Written BEFORE Omise is called: when it fails, the call must not go on. Returns the row id. */
  start(call: MoneyCallStart): Promise<string>;
  finish(id: string, end: MoneyCallEnd): Promise<void>;
  /** Newest first (tests, support tooling). */
  recent(filter?: { chargeId?: string; limit?: number }): Promise<MoneyCallRow[]>;
}
