import { beforeEach, describe, expect, it } from '@jest/globals';
import {
  LeaseLostError,
  type IdempotencyStore,
  type MoneyCallStart,
  type MoneyLedger,
} from '../../src/persistence/ports.js';

/**
 * The contract every IdempotencyStore and MoneyLedger adapter passes: run against the memory adapters
 * and against PostgreSQL (memory.test.ts, postgres.test.ts).
 */
export function idempotencyStoreContract(name: string, makeStore: () => Promise<IdempotencyStore>): void {
  describe(`${name}: IdempotencyStore contract`, () => {
    let store: IdempotencyStore;
    let n = 0;
    let key: string;
    const T0 = Date.parse('2026-01-01T00:00:00Z');
    const DAY = 24 * 3600_000;
    const claim = (at = T0, fingerprint = 'fp') =>
      store.begin(key, { fingerprint, nowMs: at, expiresAt: at + DAY });

    beforeEach(async () => {
      store = await makeStore();
      key = `create:contract-${Date.now()}-${(n += 1)}`;
    });

    it('claims an absent key once: pending attempt 1, the second claim loses', async () => {
      expect(await store.read(key, T0)).toBeUndefined();
      const lease = await claim();
      expect(lease?.record).toMatchObject({
        fingerprint: 'fp',
        state: 'pending',
        attempt: 1,
        firstStartedAt: T0,
        startedAt: T0,
        lastWriteAt: undefined,
        inFlight: false,
        expiresAt: T0 + DAY,
      });
      expect(await claim()).toBeUndefined();
      expect((await store.read(key, T0))?.owner).toBe(lease?.record.owner);
      await lease?.abandon();
    });

    it('concurrent claims: exactly one wins', async () => {
      const leases = await Promise.all(Array.from({ length: 10 }, () => claim()));
      const won = leases.filter((l) => l !== undefined);
      expect(won).toHaveLength(1);
      await won[0]?.abandon();
    });

    it('records the write start, then the result; a done record cannot be taken over', async () => {
      const lease = await claim();
      await lease?.markWriteStarted(T0 + 5);
      expect(await store.read(key, T0)).toMatchObject({ lastWriteAt: T0 + 5, inFlight: true });
      await lease?.finish({ state: 'done', result: '{"ok":true}' });
      const done = await store.read(key, T0);
      expect(done).toMatchObject({ state: 'done', inFlight: false });
      expect(JSON.parse(done?.result ?? 'null')).toEqual({ ok: true });
      expect(
        await store.begin(key, {
          fingerprint: 'fp',
          nowMs: T0,
          expiresAt: T0 + DAY,
          takeOverFrom: done,
          force: true,
        }),
      ).toBeUndefined();
    });

    it('release frees the key', async () => {
      const lease = await claim();
      await lease?.release();
      expect(await store.read(key, T0)).toBeUndefined();
      const again = await claim(T0 + 1);
      expect(again?.record.attempt).toBe(1);
      await again?.abandon();
    });

    it('an uncertain record is taken over once (compare-and-set on the owner); the old lease is fenced', async () => {
      const first = await claim();
      await first?.markWriteStarted(T0 + 1);
      await first?.finish({ state: 'uncertain', inFlight: true, lastWriteAt: T0 + 1 });
      const uncertain = await store.read(key, T0 + 2);
      expect(uncertain).toMatchObject({ state: 'uncertain', inFlight: true, lastWriteAt: T0 + 1 });
      const takeOver = () =>
        store.begin(key, { fingerprint: 'fp', nowMs: T0 + 10, expiresAt: T0 + DAY, takeOverFrom: uncertain });
      const [a, b] = await Promise.all([takeOver(), takeOver()]);
      const winner = a ?? b;
      expect([a, b].filter((l) => l !== undefined)).toHaveLength(1);
      expect(winner?.record).toMatchObject({
        state: 'pending',
        attempt: 2,
        startedAt: T0 + 10,
        firstStartedAt: T0,
        lastWriteAt: T0 + 1,
        inFlight: true,
      });
      expect(winner?.record.owner).not.toBe(uncertain?.owner);
      await expect(first?.markWriteStarted(T0 + 11)).rejects.toBeInstanceOf(LeaseLostError);
      await winner?.finish({ state: 'done', result: '1' });
    });

    it('a pending record with a live owner is taken over only by force; the forced-out attempt is fenced', async () => {
      const first = await claim();
      const pending = await store.read(key, T0);
      const begin = (force: boolean) =>
        store.begin(key, {
          fingerprint: 'fp',
          nowMs: T0 + 1,
          expiresAt: T0 + DAY,
          takeOverFrom: pending,
          force,
        });
      expect(await begin(false)).toBeUndefined();
      const forced = await begin(true);
      expect(forced?.record.attempt).toBe(2);
      await expect(first?.markWriteStarted(T0 + 2)).rejects.toBeInstanceOf(LeaseLostError);
      await expect(first?.finish({ state: 'done', result: '1' })).rejects.toBeInstanceOf(LeaseLostError);
      await forced?.release();
    });

    it('an abandoned attempt (its owner gone) is taken over without force', async () => {
      const first = await claim();
      await first?.abandon();
      const pending = await store.read(key, T0);
      expect(pending?.state).toBe('pending');
      const next = await store.begin(key, {
        fingerprint: 'fp',
        nowMs: T0 + 1,
        expiresAt: T0 + DAY,
        takeOverFrom: pending,
      });
      expect(next?.record.attempt).toBe(2);
      await next?.abandon();
    });

    it('an expired record reads as absent, can be claimed afresh, and is swept', async () => {
      const lease = await store.begin(key, { fingerprint: 'old', nowMs: T0, expiresAt: T0 + 1000 });
      await lease?.finish({ state: 'done', result: '1' });
      expect(await store.read(key, T0 + 999)).toBeDefined();
      expect(await store.read(key, T0 + 1000)).toBeUndefined();
      const fresh = await claim(T0 + 2000, 'new');
      expect(fresh?.record).toMatchObject({ fingerprint: 'new', attempt: 1, state: 'pending' });
      await fresh?.release();
      const other = await store.begin(`${key}:b`, { fingerprint: 'x', nowMs: T0, expiresAt: T0 + 1000 });
      await other?.finish({ state: 'done', result: '1' });
      expect(await store.deleteExpired(T0 + 1000)).toBeGreaterThanOrEqual(1);
      expect(await store.read(`${key}:b`, T0)).toBeUndefined();
    });
  });
}

export function moneyLedgerContract(name: string, makeLedger: () => Promise<MoneyLedger>): void {
  describe(`${name}: MoneyLedger contract`, () => {
    it('starts a row, then completes it with the outcome; newest first, by charge', async () => {
      const ledger = await makeLedger();
      const chargeId = `chrg_test_${Date.now()}contract`;
      const start: MoneyCallStart = {
        operation: 'refund',
        actor: 'service:backoffice',
        idempotencyKey: 'refund-1',
        requestId: 'req-1',
        chargeId,
        amount: undefined,
        startedAt: new Date('2026-01-01T00:00:00Z'),
      };
      const first = await ledger.start(start);
      const second = await ledger.start({
        ...start,
        requestId: 'req-2',
        startedAt: new Date('2026-01-01T00:00:01Z'),
      });
      await ledger.finish(first, {
        outcome: 'succeeded',
        refundId: 'rfnd_test_1',
        amount: 5000,
        finishedAt: new Date('2026-01-01T00:00:02Z'),
      });
      await ledger.finish(second, {
        outcome: 'replayed',
        refundId: 'rfnd_test_1',
        amount: 5000,
        finishedAt: new Date('2026-01-01T00:00:03Z'),
      });
      const rows = await ledger.recent({ chargeId });
      expect(rows.map((r) => [r.requestId, r.outcome, r.amount, r.refundId])).toEqual([
        ['req-2', 'replayed', 5000, 'rfnd_test_1'],
        ['req-1', 'succeeded', 5000, 'rfnd_test_1'],
      ]);
      expect(rows[1]).toMatchObject({
        operation: 'refund',
        actor: 'service:backoffice',
        idempotencyKey: 'refund-1',
        chargeId,
        startedAt: new Date('2026-01-01T00:00:00Z'),
        finishedAt: new Date('2026-01-01T00:00:02Z'),
      });
    });

    it('a started row without an end stays "started" (a crash shows)', async () => {
      const ledger = await makeLedger();
      const chargeId = `chrg_test_${Date.now()}crash`;
      await ledger.start({
        operation: 'void',
        actor: 'client:x',
        idempotencyKey: undefined,
        requestId: undefined,
        chargeId,
        amount: undefined,
        startedAt: new Date(),
      });
      expect((await ledger.recent({ chargeId }))[0]).toMatchObject({
        outcome: 'started',
        finishedAt: undefined,
      });
    });
  });
}
