import type { Logger } from 'pino';
import type pg from 'pg';
import { MemoryIdempotencyStore } from './memory-idempotency-store.js';
import { MemoryMoneyLedger } from './memory-money-ledger.js';
import type { IdempotencyStore, MoneyLedger } from './ports.js';
import { migrate } from './postgres/migrate.js';
import { createDatabasePool, describeDatabaseError } from './postgres/pool.js';
import { PostgresIdempotencyStore } from './postgres/postgres-idempotency-store.js';
import { PostgresMoneyLedger } from './postgres/postgres-money-ledger.js';

export type * from './ports.js';
export { LeaseLostError } from './ports.js';
export { MemoryIdempotencyStore } from './memory-idempotency-store.js';
export { MemoryMoneyLedger } from './memory-money-ledger.js';
export { PostgresIdempotencyStore } from './postgres/postgres-idempotency-store.js';
export { PostgresMoneyLedger } from './postgres/postgres-money-ledger.js';
export { migrate } from './postgres/migrate.js';
export { MIGRATIONS } from './postgres/migrations.js';
export { createDatabasePool, describeDatabaseError } from './postgres/pool.js';

/** How often expired idempotency records are deleted. */
export const DEFAULT_RETENTION_SWEEP_MS = 10 * 60 * 1000;

export interface PersistenceOptions {
  /** Unset → in memory (test mode, one instance, lost on restart). */
  databaseUrl: string | undefined;
  poolSize: number;
  statementTimeoutMs: number;
  logger?: Logger;
  /** Clock of the retention sweep (the payments clock); default the system clock. */
  now?: () => Date;
  retentionSweepMs?: number;
}

/** A dependency readiness depends on (GET /readyz): resolves when it answers. */
export interface PersistenceReadinessCheck {
  name: string;
  check(): Promise<void>;
}

export interface Persistence {
  readonly kind: 'memory' | 'postgres';
  /** PostgreSQL only: `database` answers. */
  readonly readinessChecks: PersistenceReadinessCheck[];
  readonly idempotency: IdempotencyStore;
  readonly ledger: MoneyLedger;
  /** The pool when on PostgreSQL (tests, tooling). */
  readonly pool: pg.Pool | undefined;
  /** Resolves when the database answers (readiness). */
  ping(): Promise<void>;
  /** Deletes expired idempotency records now; returns how many. */
  sweep(): Promise<number>;
  close(): Promise<void>;
}

/**
 * The durable state of the payments: on PostgreSQL when a database URL is given (migrated before use;
 * a failure to reach it or to migrate rejects, so that the gateway does not start without it), in
 * memory otherwise. Expired idempotency records are swept periodically by every instance.
 */
export async function createPersistence(options: PersistenceOptions): Promise<Persistence> {
  const now = options.now ?? (() => new Date());
  if (options.databaseUrl === undefined) {
    const idempotency = new MemoryIdempotencyStore();
    return withSweep(options, {
      kind: 'memory',
      readinessChecks: [],
      idempotency,
      ledger: new MemoryMoneyLedger(),
      pool: undefined,
      ping: async () => undefined,
      sweep: () => idempotency.deleteExpired(now().getTime()),
      close: async () => undefined,
    });
  }
  const pool = createDatabasePool({
    url: options.databaseUrl,
    poolSize: options.poolSize,
    statementTimeoutMs: options.statementTimeoutMs,
    ...(options.logger && { logger: options.logger }),
  });
  try {
    await migrate(pool, options.logger ? { logger: options.logger } : {});
  } catch (err) {
    await pool.end().catch(() => undefined);
    const { code, message } = describeDatabaseError(err);
    throw new Error(`DATABASE_URL: cannot use the database (${code ? `${code}: ` : ''}${message})`, {
      cause: err,
    });
  }
  const idempotency = new PostgresIdempotencyStore(pool);
  return withSweep(options, {
    kind: 'postgres',
    readinessChecks: [{ name: 'database', check: () => idempotency.ping() }],
    idempotency,
    ledger: new PostgresMoneyLedger(pool),
    pool,
    ping: () => idempotency.ping(),
    sweep: () => idempotency.deleteExpired(now().getTime()),
    close: () => pool.end(),
  });
}

function withSweep(options: PersistenceOptions, persistence: Persistence): Persistence {
  const timer = setInterval(() => {
    persistence
      .sweep()
      .then((deleted) => {
        if (deleted > 0) options.logger?.info({ deleted }, 'idempotency: expired records deleted');
      })
      .catch((err: unknown) =>
        options.logger?.warn({ err: describeDatabaseError(err) }, 'idempotency: retention sweep failed'),
      );
  }, options.retentionSweepMs ?? DEFAULT_RETENTION_SWEEP_MS);
  timer.unref();
  return {
    ...persistence,
    close: async () => {
      clearInterval(timer);
      await persistence.close();
    },
  };
}
