import { request as httpRequest, type ClientRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Logger } from 'pino';
import { signWebhook } from '../omise/webhook-signature.js';
import type { FaultInjector } from './faults.js';
import { newId } from './ids.js';
import { shuffle } from './random.js';

/** One attempt (or a deliberately lost delivery) as recorded by the simulator. */
export interface DeliveryAttempt {
  /** `whdl_test_…`, the same id as in the event's `webhook_deliveries` (lost ones are only here). */
  id: string;
  eventId: string;
  eventKey: string;
  url: string;
  /** 1 for the first try of a delivery, 2 for its first retry... */
  attempt: number;
  /** HTTP status answered, null when the request failed (refused, reset, timeout) or was lost. */
  status: number | null;
  error: string | null;
  /** `delivered` = 2xx; `failed` = anything else (a retry follows unless attempts are used up); `lost` = fault. */
  outcome: 'delivered' | 'failed' | 'lost';
  /** true for the extra copy sent by the duplicate fault. */
  duplicate: boolean;
  /** Order in which deliveries were dispatched (1, 2, ...; all attempts of one delivery share it). */
  dispatchSeq: number;
  /** Wall-clock time of the attempt, ISO 8601. */
  at: string;
}

export interface WebhookRetryOptions {
  /**
   * Delay before the first retry; doubles each time.
   * @default 100 ms (the CLI uses 1 s)
   */
  baseDelayMs?: number;
  /**
   * Attempts per delivery, the first included.
   * @default 8
   */
  maxAttempts?: number;
  /**
   * Per-attempt timeout.
   * @default 10_000 ms
   */
  timeoutMs?: number;
}

export interface WebhookJob {
  eventId: string;
  eventKey: string;
  /** The exact bytes POSTed (the event JSON at creation time). */
  body: string;
  /** Per-charge `webhook_endpoints`, delivered to in addition to the configured URLs. */
  extraUrls: string[];
}

interface DispatcherOptions {
  secret: string;
  faults: FaultInjector;
  retry?: WebhookRetryOptions;
  getUrls: () => string[];
  /** Called for every real attempt, so the event's `webhook_deliveries` can record it. */
  onAttempt: (attempt: DeliveryAttempt) => void;
  logger?: Logger;
}

/**
 * Delivers events to webhook URLs: signed POSTs, retried with exponential backoff until a 2xx, with
 * the webhook faults (off, lost, duplicated, delayed, reordered) applied. Uses real timers: delivery
 * is about real sockets, not simulated time.
 */
export class WebhookDispatcher {
  private readonly attempts: DeliveryAttempt[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly requests = new Set<ClientRequest>();
  private held: WebhookJob[] = [];
  private holdTimer: NodeJS.Timeout | undefined;
  private pending = 0;
  private dispatchCounter = 0;
  private idleWaiters: Array<() => void> = [];
  private closed = false;
  private readonly baseDelayMs: number;
  private readonly maxAttempts: number;
  private readonly timeoutMs: number;

  constructor(private readonly options: DispatcherOptions) {
    this.baseDelayMs = options.retry?.baseDelayMs ?? 100;
    this.maxAttempts = options.retry?.maxAttempts ?? 8;
    this.timeoutMs = options.retry?.timeoutMs ?? 10_000;
  }

  /** Every attempt so far, oldest first. */
  deliveries(): DeliveryAttempt[] {
    return this.attempts.map((a) => ({ ...a }));
  }

  enqueue(job: WebhookJob): void {
    if (this.closed) return;
    const faults = this.options.faults.get();
    if (!faults.webhooksEnabled) return;
    if (faults.webhookReorderBatch > 1) {
      this.held.push(job);
      this.pending += 1;
      if (this.held.length >= faults.webhookReorderBatch) this.flushHeld();
      else if (!this.holdTimer) {
        this.holdTimer = setTimeout(() => this.flushHeld(), faults.webhookReorderMaxHoldMs);
      }
      return;
    }
    this.dispatch(job);
  }

  /** Resolves once nothing is queued, held, in flight or waiting for a retry. */
  waitForIdle(timeoutMs = 30_000): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== done);
        reject(new Error(`webhook deliveries still pending after ${timeoutMs} ms`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.idleWaiters.push(done);
    });
  }

  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    if (this.holdTimer) clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
    this.held = [];
    for (const req of this.requests) req.destroy();
    this.requests.clear();
    this.pending = 0;
    this.notifyIdle();
  }

  private flushHeld(): void {
    if (this.holdTimer) clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
    const batch = shuffle(this.held, this.options.faults.webhookRandomSource);
    if (batch.length > 1) this.options.faults.count('webhookReordered', batch.length);
    this.held = [];
    for (const job of batch) {
      this.dispatch(job);
      this.finishOne();
    }
  }

  private dispatch(job: WebhookJob): void {
    const urls = [...new Set([...this.options.getUrls(), ...job.extraUrls])];
    const faults = this.options.faults.get();
    for (const url of urls) {
      const dispatchSeq = (this.dispatchCounter += 1);
      if (this.options.faults.webhookChance(faults.webhookLossRate)) {
        this.options.faults.count('webhookLost');
        this.attempts.push({
          dispatchSeq,
          id: newId('whdl'),
          eventId: job.eventId,
          eventKey: job.eventKey,
          url,
          attempt: 1,
          status: null,
          error: 'lost (fault injection)',
          outcome: 'lost',
          duplicate: false,
          at: new Date().toISOString(),
        });
        continue;
      }
      const copies = this.options.faults.webhookChance(faults.webhookDuplicateRate) ? 2 : 1;
      if (copies > 1) this.options.faults.count('webhookDuplicated');
      if (faults.webhookDelayMs > 0) this.options.faults.count('webhookDelayed', copies);
      for (let copy = 0; copy < copies; copy += 1) {
        this.pending += 1;
        const seq = copy === 0 ? dispatchSeq : (this.dispatchCounter += 1);
        this.later(faults.webhookDelayMs, () => this.attempt(job, url, 1, copy > 0, seq));
      }
    }
  }

  private attempt(
    job: WebhookJob,
    url: string,
    attempt: number,
    duplicate: boolean,
    dispatchSeq: number,
  ): void {
    if (this.closed) return;
    void this.post(url, job.body).then(({ status, error }) => {
      if (this.closed) return;
      const ok = status !== null && status >= 200 && status < 300;
      const record: DeliveryAttempt = {
        id: newId('whdl'),
        eventId: job.eventId,
        eventKey: job.eventKey,
        url,
        attempt,
        status,
        error,
        outcome: ok ? 'delivered' : 'failed',
        duplicate,
        dispatchSeq,
        at: new Date().toISOString(),
      };
      this.attempts.push(record);
      try {
        this.options.onAttempt(record);
      } catch (err) {
        // Recording is bookkeeping: a failure there must not stop retries or reject unhandled.
        this.options.logger?.error({ err, eventId: job.eventId }, 'simulator: recording a delivery failed');
      }
      if (!ok && attempt < this.maxAttempts) {
        const delay = this.baseDelayMs * 2 ** (attempt - 1);
        this.later(delay, () => this.attempt(job, url, attempt + 1, duplicate, dispatchSeq));
        return;
      }
      if (!ok)
        this.options.logger?.warn({ url, eventId: job.eventId }, 'simulator: webhook delivery gave up');
      this.finishOne();
    });
  }

  private post(url: string, body: string): Promise<{ status: number | null; error: string | null }> {
    return new Promise((resolve) => {
      let target: URL;
      try {
        target = new URL(url);
      } catch {
        resolve({ status: null, error: 'invalid URL' });
        return;
      }
      // Wall clock, not simulated time: receivers check freshness against their own clock.
      const timestamp = Math.floor(Date.now() / 1000);
      const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = request(target, {
        method: 'POST',
        // No keep-alive: nothing lingers after close().
        agent: false,
        timeout: this.timeoutMs,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'user-agent': 'OmiseSimulator/1.0',
          'omise-signature': signWebhook(this.options.secret, timestamp, body),
          'omise-signature-timestamp': String(timestamp),
        },
      });
      this.requests.add(req);
      let settled = false;
      const settle = (result: { status: number | null; error: string | null }) => {
        if (settled) return;
        settled = true;
        this.requests.delete(req);
        resolve(result);
      };
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => settle({ status: res.statusCode ?? null, error: null }));
        res.on('error', () => settle({ status: res.statusCode ?? null, error: null }));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (err: NodeJS.ErrnoException) =>
        settle({ status: null, error: err.code ?? err.message }),
      );
      req.end(body);
    });
  }

  private later(delayMs: number, run: () => void): void {
    if (delayMs <= 0) {
      queueMicrotask(run);
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, delayMs);
    this.timers.add(timer);
  }

  private finishOne(): void {
    this.pending = Math.max(0, this.pending - 1);
    if (this.pending === 0) this.notifyIdle();
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
