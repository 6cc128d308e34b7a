import type { Logger } from 'pino';
import type { Charge } from '../model.js';
import { isTerminalStatus } from './charge-status-event.js';
import type { ChargeStatusPublisher } from './charge-status-publisher.js';

/** The timer functions the poller uses; inject a controllable one in tests. */
export interface Scheduler {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realScheduler: Scheduler = {
  setTimeout: (callback, ms) => {
    const handle = setTimeout(callback, ms);
    // A poll must never keep the process alive on its own.
    handle.unref();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface ReconciliationPollerOptions {
  /** Re-fetches a charge from Omise; null when Omise does not know it. */
  loadCharge: (chargeId: string) => Promise<Charge | null>;
  /** Where every fetched state goes; the publisher drops what was already published. */
  publisher: Pick<ChargeStatusPublisher, 'publish'>;
  /** Mean time between polls of one charge (config.reconcileIntervalSeconds × 1000). */
  intervalMs: number;
  /**
   * Each delay is intervalMs × (1 ± jitterRatio), uniformly.
   * @default 0.2
   */
  jitterRatio?: number;
  random?: () => number;
  scheduler?: Scheduler;
  logger: Logger;
}

/** Receives each state a poll fetched; subscribers drop what they already have. */
export type ChargeListener = (charge: Charge) => void;

interface Watch {
  chargeId: string;
  listeners: Set<ChargeListener>;
  timer: unknown;
  stopped: boolean;
}

/**
 * Polls pending charges that have subscribers on this instance, slowly, so that an outcome whose
 * webhook never arrives (a developer behind NAT, a lost delivery) and an expiry (Omise marks a charge
 * expired once past expires_at) still reach the subscribers. One loop per charge however many
 * subscribers it has; the first poll comes one interval after the first subscriber; the loop stops at a
 * terminal status or when the last subscriber leaves.
 *
 * Each fetched state goes to the local subscribers directly (so a message missed on the broker, or a
 * broker that is down, does not leave them waiting) and to the publisher (for other instances).
 */
export class ReconciliationPoller {
  private readonly watches = new Map<string, Watch>();
  private readonly scheduler: Scheduler;
  private readonly random: () => number;
  private readonly jitterRatio: number;

  constructor(private readonly options: ReconciliationPollerOptions) {
    if (!(options.intervalMs > 0)) throw new RangeError('intervalMs must be positive');
    this.scheduler = options.scheduler ?? realScheduler;
    this.random = options.random ?? Math.random;
    this.jitterRatio = options.jitterRatio ?? 0.2;
  }

  /** Starts (or joins) the poll loop of a charge; call the returned function to leave it. Idempotent. */
  watch(chargeId: string, listener: ChargeListener): () => void {
    let watch = this.watches.get(chargeId);
    if (!watch) {
      watch = { chargeId, listeners: new Set(), timer: undefined, stopped: false };
      this.watches.set(chargeId, watch);
      this.schedule(watch);
    }
    watch.listeners.add(listener);
    const joined = watch;
    return () => {
      joined.listeners.delete(listener);
      if (joined.listeners.size === 0) this.stop(joined);
    };
  }

  /** Charges with a running poll loop. */
  get watchedCount(): number {
    return this.watches.size;
  }

  /** Stops every loop (shutdown). */
  close(): void {
    for (const watch of [...this.watches.values()]) this.stop(watch);
  }

  private delayMs(): number {
    const spread = (this.random() * 2 - 1) * this.jitterRatio;
    return Math.max(1, Math.round(this.options.intervalMs * (1 + spread)));
  }

  private schedule(watch: Watch): void {
    if (watch.stopped) return;
    watch.timer = this.scheduler.setTimeout(() => {
      this.poll(watch).catch((error: unknown) => {
        // Never crash the process from a timer; the loop is over for this charge only.
        this.options.logger.error({ chargeId: watch.chargeId, err: error }, 'reconciliation poll crashed');
        this.stop(watch);
      });
    }, this.delayMs());
  }

  private stop(watch: Watch): void {
    if (watch.stopped) return;
    watch.stopped = true;
    if (watch.timer !== undefined) this.scheduler.clearTimeout(watch.timer);
    watch.timer = undefined;
    // A new subscriber after this gets a fresh loop.
    if (this.watches.get(watch.chargeId) === watch) this.watches.delete(watch.chargeId);
  }

  private async poll(watch: Watch): Promise<void> {
    watch.timer = undefined;
    const { chargeId } = watch;
    const log = this.options.logger;
    let charge: Charge | null;
    try {
      charge = await this.options.loadCharge(chargeId);
    } catch (error) {
      log.warn({ chargeId, err: error }, 'reconciliation poll failed; retrying next interval');
      this.schedule(watch);
      return;
    }
    if (watch.stopped) return;
    if (charge === null) {
      log.warn({ chargeId }, 'reconciliation poll: Omise does not know this charge');
      this.schedule(watch);
      return;
    }
    for (const listener of [...watch.listeners]) {
      try {
        listener(charge);
      } catch (error) {
        log.error({ chargeId, err: error }, 'charge status listener threw');
      }
    }
    try {
      await this.options.publisher.publish(charge);
    } catch (error) {
      // Local subscribers already have it; other instances poll on their own.
      log.warn({ chargeId, err: error }, 'reconciliation poll could not publish');
    }
    if (isTerminalStatus(charge.status)) this.stop(watch);
    else this.schedule(watch);
  }
}
