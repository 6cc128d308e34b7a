import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import {
  createDatabasePool,
  createPersistence,
  migrate,
  MIGRATIONS,
  PostgresIdempotencyStore,
  PostgresMoneyLedger,
} from '../../src/persistence/index.js';
import { idempotencyStoreContract, moneyLedgerContract } from './store-contract.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

/** The PostgreSQL adapters against the real server (127.0.0.1:5432), in a database made for this file. */

let db: TestDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  db = await createTestDatabase();
  pool = createDatabasePool({ url: db.url, poolSize: 20, statementTimeoutMs: 5000 });
  await migrate(pool);
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

idempotencyStoreContract('postgres', async () => new PostgresIdempotencyStore(pool));
moneyLedgerContract('postgres', async () => new PostgresMoneyLedger(pool));

describe('postgres: owner liveness', () => {
  it('a pending attempt whose connection died (process killed) is taken over without waiting', async () => {
    const store = new PostgresIdempotencyStore(pool);
    const key = `create:killed-${Date.now()}`;
    const lease = await store.begin(key, { fingerprint: 'fp', nowMs: 1000, expiresAt: Date.now() + 60_000 });
    const pending = await store.read(key, 1000);
    expect(
      await store.begin(key, { fingerprint: 'fp', nowMs: 2000, expiresAt: 0, takeOverFrom: pending }),
    ).toBeUndefined();
    try {
      // What a SIGKILL does to the owner's session: PostgreSQL ends it, and its advisory lock with it.
      const { rows } = await pool.query<{ pid: number }>(
        `SELECT pid FROM pg_locks
         WHERE locktype = 'advisory' AND pid <> pg_backend_pid()
           AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      );
      expect(rows).toHaveLength(1);
      const pid = (rows[0] as { pid: number }).pid;
      await pool.query('SELECT pg_terminate_backend($1)', [pid]);
      // Termination is a signal: wait until the session is gone.
      for (let i = 0; i < 200; i++) {
        const alive = await pool.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid]);
        if (alive.rowCount === 0) break;
        await new Promise((r) => setTimeout(r, 25));
      }
      const next = await store.begin(key, {
        fingerprint: 'fp',
        nowMs: 3000,
        expiresAt: 0,
        takeOverFrom: pending,
      });
      expect(next?.record.attempt).toBe(2);
      await next?.finish({ state: 'done', result: '1' });
    } finally {
      await lease?.abandon();
    }
  });
});

describe('postgres: migrations', () => {
  it('several instances migrating one fresh database at once: applied once, all start', async () => {
    const fresh = await createTestDatabase();
    const pools = Array.from({ length: 4 }, () =>
      createDatabasePool({ url: fresh.url, poolSize: 2, statementTimeoutMs: 5000 }),
    );
    try {
      const applied = await Promise.all(pools.map((p) => migrate(p)));
      expect(applied.flat()).toEqual(MIGRATIONS.map((m) => m.version));
      const { rows } = await (pools[0] as pg.Pool).query('SELECT version FROM schema_migrations');
      expect(rows).toHaveLength(MIGRATIONS.length);
      expect(await migrate(pools[0] as pg.Pool)).toEqual([]);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
      await fresh.drop();
    }
  });

  it('an unreachable database refuses start-up, naming DATABASE_URL and never showing it', async () => {
    const url = 'postgres://gateway:s3cretpass@127.0.0.1:1/payments';
    const error = await createPersistence({ databaseUrl: url, poolSize: 1, statementTimeoutMs: 1000 }).catch(
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/^DATABASE_URL: cannot use the database/);
    expect((error as Error).message).not.toContain('s3cretpass');
  });
});
