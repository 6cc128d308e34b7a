import { LRUCache } from 'lru-cache';
import type { Charge } from './model.js';
import { TERMINAL_STATUSES } from './model.js';
import { REFUND_WINDOW_MS } from './rules.js';

/** Default bound of the cache (charges kept in memory by one instance). */
export const DEFAULT_CHARGE_CACHE_SIZE = 10_000;
/** Default time a PENDING charge is served from memory: a lost webhook costs at most this. */
export const DEFAULT_PENDING_TTL_MS = 1_000;

const DAY_MS = 24 * 60 * 60 * 1000;
/** Bangkok is UTC+7 all year: a void is possible until the end of the Bangkok day of payment. */
const BANGKOK_OFFSET_MS = 7 * 60 * 60 * 1000;

const STATUS_RANK = { PENDING: 0, SUCCESSFUL: 1, FAILED: 1, EXPIRED: 1, REVERSED: 2 } as const;
const REFUNDED_SPAN = 1e12;

/**
 * How far a charge has come, as one number that only grows: its status (PENDING, then an outcome,
 * then REVERSED), then how many refunds it has, then the amount refunded. A charge's states are
 * ordered by it, so "never hide a newer state" is "never replace a higher progress by a lower one".
 * A void is a refund (count and amount grow); Omise allows at most 15 refunds per charge. The result
 * stays below 2^53: at most 3 × 100 × 10^12.
 */
export function chargeProgress(charge: Charge): number {
  const refunds = Math.min(charge.refunds.length, 99);
  const refunded = Math.min(Math.max(charge.refundedAmount, 0), REFUNDED_SPAN - 1);
  return (STATUS_RANK[charge.status] * 100 + refunds) * REFUNDED_SPAN + refunded;
}

export interface CachedCharge {
  charge: Charge;
  progress: number;
  /** Until when it may be served without asking anyone (Infinity for a terminal charge). */
  freshUntil: number;
}

export interface ChargeCacheOptions {
  /**
   * Most charges kept (least recently used go first).
   * @default {@link DEFAULT_CHARGE_CACHE_SIZE}
   */
  maxEntries?: number;
  /**
   * How long a PENDING charge is served.
   * @default {@link DEFAULT_PENDING_TTL_MS}
   */
  pendingTtlMs?: number;
  /**
   * Wall clock in ms since the epoch (the deadlines above are dates); default `Date.now`. The gateway
   * passes its business clock, so that tests moving the simulator's clock see expiry and deadlines.
   */
  now?: () => number;
}

/**
 * One instance's memory of charges. A terminal charge is kept until something newer replaces it (a
 * refund, a void, a reversal) or it is evicted; a pending one goes stale after `pendingTtlMs`, so a
 * lost webhook delays an outcome by at most that. `keep` never replaces a state by an older one.
 */
export class ChargeCache {
  private readonly entries: LRUCache<string, CachedCharge>;
  private readonly pendingTtlMs: number;
  private readonly now: () => number;

  constructor(options: ChargeCacheOptions = {}) {
    const max = options.maxEntries ?? DEFAULT_CHARGE_CACHE_SIZE;
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError('maxEntries must be a positive integer');
    this.pendingTtlMs = options.pendingTtlMs ?? DEFAULT_PENDING_TTL_MS;
    if (!(this.pendingTtlMs >= 0)) throw new RangeError('pendingTtlMs must not be negative');
    this.now = options.now ?? Date.now;
    this.entries = new LRUCache({ max });
  }

  /** The entry if it may be served now (not stale); counts as a use for the LRU order. */
  fresh(chargeId: string): CachedCharge | undefined {
    const entry = this.entries.get(chargeId);
    return entry && entry.freshUntil > this.now() ? entry : undefined;
  }

  /**
   * Keeps `charge` unless a newer state (higher progress) is already kept. An equal progress replaces
   * the entry (it is as new, and read later). Returns the progress of `charge`.
   */
  keep(charge: Charge): number {
    const progress = chargeProgress(charge);
    const current = this.entries.peek(charge.id);
    if (current && current.progress > progress) return progress;
    this.entries.set(charge.id, { charge, progress, freshUntil: this.freshUntil(charge) });
    return progress;
  }

  /**
   * A pending charge for `pendingTtlMs`. A terminal one until something Omise derives from the clock
   * may have changed without an event: `voidable` ends with the Bangkok day of payment, `refundable`
   * with the refund window. After that it is read again once, and then kept for good.
   */
  private freshUntil(charge: Charge): number {
    const now = this.now();
    if (!TERMINAL_STATUSES.has(charge.status)) return now + this.pendingTtlMs;
    const paidAt = charge.paidAt?.getTime();
    if (paidAt === undefined) return Infinity;
    let until = Infinity;
    if (charge.voidable) {
      until = (Math.floor((paidAt + BANGKOK_OFFSET_MS) / DAY_MS) + 1) * DAY_MS - BANGKOK_OFFSET_MS;
    }
    if (charge.refundable) until = Math.min(until, paidAt + REFUND_WINDOW_MS);
    return until;
  }

  /** Charges held (fresh or stale). */
  get size(): number {
    return this.entries.size;
  }
}
