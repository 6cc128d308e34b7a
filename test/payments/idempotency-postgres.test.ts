import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type pg from 'pg';
import { OmiseClient } from '../../src/omise/client.js';
import { createPaymentsService } from '../../src/payments/omise-payments-service.js';
import {
  createDatabasePool,
  migrate,
  PostgresIdempotencyStore,
  PostgresMoneyLedger,
} from '../../src/persistence/index.js';
import { MemoryKeyValueStore } from '../../src/realtime/memory-key-value-store.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/index.js';
import { createTestDatabase, type TestDatabase } from '../persistence/test-database.js';

/**
 * Two gateway instances (two payments services, two connection pools) sharing idempotency records in
 * the real PostgreSQL at 127.0.0.1:5432 (a database made for this file), in front of the real simulator.
 */

let sim: RunningSimulator;
let db: TestDatabase;
let poolA: pg.Pool;
let poolB: pg.Pool;

beforeAll(async () => {
  sim = await startSimulator();
  db = await createTestDatabase();
  poolA = createDatabasePool({ url: db.url, poolSize: 20, statementTimeoutMs: 5000 });
  poolB = createDatabasePool({ url: db.url, poolSize: 20, statementTimeoutMs: 5000 });
  await Promise.all([migrate(poolA), migrate(poolB)]);
});

afterAll(async () => {
  await Promise.all([poolA?.end(), poolB?.end()]);
  await db?.drop();
  await sim?.close();
});

function instance(pool: pg.Pool) {
  return createPaymentsService({
    omise: new OmiseClient({ baseUrl: sim.url, secretKey: sim.secretKey, maxAttempts: 1 }),
    kv: new MemoryKeyValueStore(),
    idempotencyStore: new PostgresIdempotencyStore(pool),
    ledger: new PostgresMoneyLedger(pool),
    mode: 'simulator',
    idempotencyTtlMs: 24 * 3600_000,
  });
}

describe('idempotency across gateway instances (PostgreSQL)', () => {
  it('20 concurrent identical creates on two instances → one Omise charge; Dates survive the database', async () => {
    const a = instance(poolA);
    const b = instance(poolB);
    const input = { amount: 12_345, currency: 'THB' as const, idempotencyKey: 'multi-instance' };
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).createTrueMoneyCharge(input)),
    );
    const ids = new Set(results.map((r) => (r.ok ? r.value.id : 'failed')));
    expect([...ids]).toHaveLength(1);
    expect(ids.has('failed')).toBe(false);
    const page = await new OmiseClient({ baseUrl: sim.url, secretKey: sim.secretKey }).listCharges({
      limit: 100,
    });
    expect(page.total).toBe(1);
    const replay = await b.createTrueMoneyCharge(input);
    expect(replay.ok && replay.value.createdAt).toBeInstanceOf(Date);
    expect(replay).toEqual(results[0]);
    expect(codes(await a.createTrueMoneyCharge({ ...input, amount: 12_346 }))).toEqual([
      'IDEMPOTENCY_KEY_REUSED',
    ]);
    // The ledger: 21 calls, one made the charge, the others were answered from the record.
    const rows = await new PostgresMoneyLedger(poolA).recent({ limit: 100 });
    const outcomes = rows.filter((r) => r.amount === 12_345).map((r) => r.outcome);
    expect(outcomes.filter((o) => o === 'succeeded')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'replayed')).toHaveLength(20);
  });
});

function codes(result: { ok: boolean; errors?: { code: string }[] }): string[] {
  return result.errors?.map((e) => e.code) ?? [];
}
