import type { KeyValueStore } from './ports.js';
import { checkFiniteNumber, checkTtl } from './validation.js';

interface Entry {
  value: string;
  expiresAt: number;
}

/**
 * In-process {@link KeyValueStore} for a single gateway instance. Expired entries are dropped when read
 * and swept periodically so that an idle map does not grow. Every method does its work synchronously,
 * which makes it atomic in Node's single thread.
 */
export class MemoryKeyValueStore implements KeyValueStore {
  private readonly entries = new Map<string, Entry>();
  private readonly sweeper: NodeJS.Timeout;

  /**
   * @param now clock in ms (injectable so that tests control expiry); default `Date.now`
   * @param sweepIntervalMs how often expired entries are removed; default 60 s
   */
  constructor(
    private readonly now: () => number = Date.now,
    sweepIntervalMs = 60_000,
  ) {
    this.sweeper = setInterval(() => this.sweep(), sweepIntervalMs);
    this.sweeper.unref();
  }

  async get(key: string): Promise<string | undefined> {
    return this.live(key)?.value;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    this.entries.set(key, { value, expiresAt: this.now() + checkTtl(ttlMs) });
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    const ttl = checkTtl(ttlMs);
    if (this.live(key)) return false;
    this.entries.set(key, { value, expiresAt: this.now() + ttl });
    return true;
  }

  async setIfGreater(key: string, n: number, ttlMs: number): Promise<boolean> {
    const ttl = checkTtl(ttlMs);
    checkFiniteNumber(n);
    const current = this.live(key);
    // A non-numeric current value (NaN) never blocks, as in the Redis script.
    if (current && Number(current.value) >= n) return false;
    this.entries.set(key, { value: String(n), expiresAt: this.now() + ttl });
    return true;
  }

  async delete(key: string): Promise<void> {
    this.entries.delete(key);
  }

  async ping(): Promise<void> {}

  /** Stops the periodic sweep. */
  close(): void {
    clearInterval(this.sweeper);
  }

  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private sweep(): void {
    const now = this.now();
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
  }
}
