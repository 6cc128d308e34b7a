import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import type { OmiseCharge } from '../../../src/omise/types.js';
import type { PubSub, TopicSubscription } from '../../../src/realtime/ports.js';

/** A recorded Omise charge from test/fixtures/omise. */
export function fixtureCharge(path: string): OmiseCharge {
  return JSON.parse(
    readFileSync(new URL(`../../fixtures/omise/${path}`, import.meta.url), 'utf8'),
  ) as OmiseCharge;
}

/** A pino logger writing JSON lines into memory, so tests can read what was logged. */
export function memoryLogger(): { logger: Logger; lines: () => string[]; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString('utf8'));
      callback();
    },
  });
  const logger = pino({ level: 'debug' }, stream);
  const text = () => chunks.join('');
  return { logger, text, lines: () => text().split('\n').filter(Boolean) };
}

/**
 * Fault injection around a real PubSub: while `failing` is set, publish rejects as a broker outage
 * would; everything else is the real adapter. Counts what was really published.
 */
export class FlakyPubSub<T = unknown> implements PubSub<T> {
  failing = false;
  /** While set, publish never settles: an instance stuck (or crashed) mid-way. */
  stalled = false;
  private onStalled: (() => void) | undefined;
  published: Array<{ topic: string; message: T }> = [];
  constructor(private readonly inner: PubSub<T>) {}
  async publish(topic: string, message: T): Promise<void> {
    if (this.failing) throw new Error('broker unavailable (injected)');
    if (this.stalled) {
      this.onStalled?.();
      return new Promise<void>(() => {});
    }
    await this.inner.publish(topic, message);
    this.published.push({ topic, message });
  }
  /** Makes the next publishes hang; resolves once one is hanging. */
  stall(): Promise<void> {
    this.stalled = true;
    return new Promise((resolve) => (this.onStalled = resolve));
  }
  subscribe(topic: string): Promise<TopicSubscription<T>> {
    return this.inner.subscribe(topic);
  }
  ping(): Promise<void> {
    return this.inner.ping();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** Lets queued promise callbacks and I/O callbacks run (no timer involved). */
export function flushAsync(rounds = 5): Promise<void> {
  return new Promise((resolve) => {
    const step = (left: number) => (left === 0 ? resolve() : setImmediate(() => step(left - 1)));
    step(rounds);
  });
}

/**
 * A scheduler the test moves by hand: timers fire only in `runNext()`. Replaces setTimeout for the
 * reconciliation poller so that "one interval later" takes no real time.
 */
export class ManualScheduler {
  private seq = 0;
  private readonly timers = new Map<number, { callback: () => void; ms: number }>();
  private waiters: Array<() => void> = [];
  readonly delays: number[] = [];

  setTimeout = (callback: () => void, ms: number): unknown => {
    const id = (this.seq += 1);
    this.timers.set(id, { callback, ms });
    this.delays.push(ms);
    for (const wake of this.waiters.splice(0)) wake();
    return id;
  };

  clearTimeout = (handle: unknown): void => {
    this.timers.delete(handle as number);
  };

  get pending(): number {
    return this.timers.size;
  }

  /** Resolves once at least `count` timers are pending (a poll loop has (re)armed). */
  async untilPending(count = 1): Promise<void> {
    while (this.timers.size < count) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** Fires every pending timer once (each poll loop polls once). */
  runAll(): void {
    const due = [...this.timers.entries()];
    for (const [id] of due) this.timers.delete(id);
    for (const [, timer] of due) timer.callback();
  }
}
