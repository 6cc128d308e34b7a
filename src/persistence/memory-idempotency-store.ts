import { randomUUID } from 'node:crypto';
import {
  LeaseLostError,
  type AttemptEnd,
  type AttemptLease,
  type BeginAttempt,
  type IdempotencyRecord,
  type IdempotencyStore,
} from './ports.js';

/**
 * Idempotency records in this process's memory: one instance in test mode, lost on restart (the
 * PostgreSQL store is the durable one). An attempt's owner is alive while it holds its lease.
 */
export class MemoryIdempotencyStore implements IdempotencyStore {
  readonly kind = 'memory';
  private readonly records = new Map<string, IdempotencyRecord>();
  /** Keys whose current attempt holds a lease (its owner is running). */
  private readonly leased = new Set<string>();

  async read(key: string, nowMs: number): Promise<IdempotencyRecord | undefined> {
    return this.current(key, nowMs);
  }

  async begin(key: string, attempt: BeginAttempt): Promise<AttemptLease | undefined> {
    const stored = this.current(key, attempt.nowMs);
    const from = attempt.takeOverFrom;
    let record: IdempotencyRecord;
    if (from === undefined) {
      if (stored !== undefined) return undefined;
      record = {
        fingerprint: attempt.fingerprint,
        state: 'pending',
        attempt: 1,
        owner: randomUUID(),
        firstStartedAt: attempt.nowMs,
        startedAt: attempt.nowMs,
        lastWriteAt: undefined,
        inFlight: false,
        result: undefined,
        expiresAt: attempt.expiresAt,
      };
    } else {
      if (stored === undefined || stored.owner !== from.owner || stored.state === 'done') return undefined;
      if (stored.state === 'pending' && this.leased.has(key) && attempt.force !== true) return undefined;
      record = {
        ...stored,
        state: 'pending',
        attempt: stored.attempt + 1,
        owner: randomUUID(),
        startedAt: attempt.nowMs,
      };
    }
    this.records.set(key, record);
    this.leased.add(key);
    return this.lease(key, record);
  }

  async deleteExpired(nowMs: number): Promise<number> {
    let deleted = 0;
    for (const [key, record] of this.records) {
      if (record.expiresAt <= nowMs) {
        this.records.delete(key);
        deleted++;
      }
    }
    return deleted;
  }

  async ping(): Promise<void> {}

  private current(key: string, nowMs: number): IdempotencyRecord | undefined {
    const record = this.records.get(key);
    return record !== undefined && record.expiresAt > nowMs ? record : undefined;
  }

  private lease(key: string, record: IdempotencyRecord): AttemptLease {
    const owned = () => {
      const stored = this.records.get(key);
      if (stored?.owner !== record.owner) throw new LeaseLostError();
      return stored;
    };
    const letGo = () => {
      if (this.records.get(key)?.owner === record.owner || !this.records.has(key)) this.leased.delete(key);
    };
    return {
      record,
      markWriteStarted: async (nowMs) => {
        const stored = owned();
        if (stored.state !== 'pending') throw new LeaseLostError();
        this.records.set(key, { ...stored, lastWriteAt: nowMs, inFlight: true });
      },
      finish: async (end: AttemptEnd) => {
        const stored = owned();
        this.records.set(
          key,
          end.state === 'done'
            ? { ...stored, state: 'done', result: end.result, inFlight: false }
            : { ...stored, state: 'uncertain', inFlight: end.inFlight, lastWriteAt: end.lastWriteAt },
        );
        letGo();
      },
      release: async () => {
        if (this.records.get(key)?.owner === record.owner) {
          this.records.delete(key);
          this.leased.delete(key);
        }
      },
      abandon: async () => letGo(),
    };
  }
}
