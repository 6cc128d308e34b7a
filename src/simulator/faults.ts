import { z } from 'zod';
import { createRandom, type Random } from './random.js';

/**
 * Fault injection settings. Everything is off by default. Rates are fractions 0..1 decided with a
 * seeded random source, so a given seed gives the same sequence of faults on every run.
 * API faults apply to every API request (the `/_simulator/*` admin routes are never faulted).
 */
export interface FaultSettings {
  /** Added delay before every API answer, in ms. */
  latencyMs: number;
  /** Fraction of API requests answered 500 or 503 (alternating by the random draw) with an Omise error body. */
  errorRate: number;
  /** Fraction of API requests answered 429 `too_many_requests` with `Retry-After`. */
  rateLimitRate: number;
  /** `Retry-After` seconds sent with the 429s. */
  retryAfterSeconds: number;
  /** Fraction of API requests whose socket is destroyed without any answer. */
  dropRate: number;
  /**
   * false: the request is dropped before it is processed (nothing happened);
   * true: it is processed (a charge is created...) and only the answer is lost.
   */
  dropAfterProcessing: boolean;
  /** false turns webhook delivery off entirely (events are still recorded). */
  webhooksEnabled: boolean;
  /** Fraction of webhook deliveries never sent (recorded as `lost` in the simulator's delivery log only). */
  webhookLossRate: number;
  /** Fraction of webhook deliveries sent twice. */
  webhookDuplicateRate: number;
  /** Delay before a webhook delivery's first attempt, in ms. */
  webhookDelayMs: number;
  /** > 1: events are held until this many are waiting, then delivered in shuffled order. */
  webhookReorderBatch: number;
  /** A held reorder batch is flushed (shuffled) after this many ms even when not full. */
  webhookReorderMaxHoldMs: number;
  /** Seed of the random source; setting it restarts the sequence. */
  seed: number;
}

export const DEFAULT_FAULTS: Readonly<FaultSettings> = Object.freeze({
  latencyMs: 0,
  errorRate: 0,
  rateLimitRate: 0,
  retryAfterSeconds: 1,
  dropRate: 0,
  dropAfterProcessing: false,
  webhooksEnabled: true,
  webhookLossRate: 0,
  webhookDuplicateRate: 0,
  webhookDelayMs: 0,
  webhookReorderBatch: 0,
  webhookReorderMaxHoldMs: 1000,
  seed: 1,
});

const rate = z.number().min(0).max(1);
const ms = z.number().int().min(0).max(600_000);

/** Validates a partial FaultSettings (admin API input). Unknown keys are refused. */
export const faultSettingsSchema = z
  .object({
    latencyMs: ms,
    errorRate: rate,
    rateLimitRate: rate,
    retryAfterSeconds: z.number().int().min(0).max(3600),
    dropRate: rate,
    dropAfterProcessing: z.boolean(),
    webhooksEnabled: z.boolean(),
    webhookLossRate: rate,
    webhookDuplicateRate: rate,
    webhookDelayMs: ms,
    webhookReorderBatch: z.number().int().min(0).max(1000),
    webhookReorderMaxHoldMs: ms,
    seed: z.number().int(),
  })
  .partial()
  .strict();

/** What fault injection did so far, by kind (reliability runs report these). */
export type FaultKind =
  | 'latency'
  | 'dropBeforeProcessing'
  | 'dropAfterProcessing'
  | 'rateLimited'
  | 'error500'
  | 'error503'
  | 'webhookLost'
  | 'webhookDuplicated'
  | 'webhookDelayed'
  | 'webhookReordered';

/** Current settings plus the seeded random sources (one for API faults, one for webhook faults). */
export class FaultInjector {
  private settings: FaultSettings;
  private readonly counts = new Map<FaultKind, number>();
  private apiRandom: Random;
  private webhookRandom: Random;

  constructor(initial: Partial<FaultSettings> = {}) {
    this.settings = { ...DEFAULT_FAULTS };
    this.apiRandom = createRandom(this.settings.seed);
    this.webhookRandom = createRandom(this.settings.seed ^ 0x9e3779b9);
    this.set(initial);
  }

  get(): FaultSettings {
    return { ...this.settings };
  }

  /** Merges the given settings; throws (zod) when a value is out of range. */
  set(partial: Partial<FaultSettings>): void {
    const parsed = faultSettingsSchema.parse(partial);
    this.settings = { ...this.settings, ...parsed };
    if (parsed.seed !== undefined) this.reseed();
  }

  reset(): void {
    this.settings = { ...DEFAULT_FAULTS };
    this.reseed();
  }

  /** Records one injected fault (the counts survive reset()). */
  count(kind: FaultKind, n = 1): void {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + n);
  }

  stats(): Partial<Record<FaultKind, number>> {
    return Object.fromEntries(this.counts);
  }

  /** A draw for an API request fault; consumes randomness only when the fault is on. */
  apiChance(rateValue: number): boolean {
    return rateValue > 0 && this.apiRandom() < rateValue;
  }

  apiDraw(): number {
    return this.apiRandom();
  }

  webhookChance(rateValue: number): boolean {
    return rateValue > 0 && this.webhookRandom() < rateValue;
  }

  get webhookRandomSource(): Random {
    return this.webhookRandom;
  }

  private reseed(): void {
    this.apiRandom = createRandom(this.settings.seed);
    this.webhookRandom = createRandom(this.settings.seed ^ 0x9e3779b9);
  }
}
