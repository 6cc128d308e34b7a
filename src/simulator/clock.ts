import type { Logger } from 'pino';

/** The simulator's notion of "now", which tests can move forward. */
export interface SimulatorClock {
  /** Simulated time in ms since the epoch. */
  now(): number;
  /** Moves the clock forward and runs everything that became due (expiries...) before resolving. */
  advance(ms: number): Promise<void>;
  /** Sets the clock to an absolute time (ms since the epoch); due work runs before resolving. */
  set(ms: number): Promise<void>;
}

interface Task {
  at: number;
  seq: number;
  run: () => void;
}

/** setTimeout cannot wait longer than this (about 24.8 days). */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * Simulated time = a source clock (wall clock by default) + an offset moved by advance()/set().
 * Scheduled work runs either when the real timer fires (time passing naturally) or synchronously
 * inside advance()/set(), so expiry happens without any API request.
 */
export class ControllableClock implements SimulatorClock {
  private offset = 0;
  private seq = 0;
  private tasks: Task[] = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly source: () => number = Date.now,
    private readonly logger?: Logger,
  ) {}

  now(): number {
    return this.source() + this.offset;
  }

  async advance(ms: number): Promise<void> {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError('advance(ms) needs a finite ms >= 0');
    this.offset += ms;
    this.runDue();
  }

  async set(ms: number): Promise<void> {
    if (!Number.isFinite(ms)) throw new RangeError('set(ms) needs a finite ms');
    this.offset = ms - this.source();
    this.runDue();
  }

  /** Runs `run` once the simulated time reaches `at`; returns a cancel function. */
  schedule(at: number, run: () => void): () => void {
    const task: Task = { at, seq: (this.seq += 1), run };
    // Kept sorted by (at, seq) with a binary insertion: many charges means many pending expiries.
    let low = 0;
    let high = this.tasks.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((this.tasks[mid] as Task).at <= at) low = mid + 1;
      else high = mid;
    }
    this.tasks.splice(low, 0, task);
    if (low === 0) this.arm();
    return () => {
      const index = this.tasks.indexOf(task);
      if (index >= 0) this.tasks.splice(index, 1);
      if (index === 0) this.arm();
    };
  }

  close(): void {
    this.closed = true;
    this.tasks = [];
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private runDue(): void {
    for (;;) {
      const due = this.tasks[0];
      if (!due || due.at > this.now()) break;
      this.tasks.shift();
      try {
        due.run();
      } catch (error) {
        this.logger?.error({ err: error }, 'simulator: scheduled task failed');
      }
    }
    this.arm();
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.closed || this.tasks.length === 0) return;
    const earliest = (this.tasks[0] as Task).at;
    const delay = Math.min(Math.max(earliest - this.now(), 0), MAX_TIMEOUT_MS);
    this.timer = setTimeout(() => this.runDue(), delay);
    // The HTTP server keeps the process alive; this timer alone must not.
    this.timer.unref();
  }
}
