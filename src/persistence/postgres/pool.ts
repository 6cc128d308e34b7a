import type { Logger } from 'pino';
import pg from 'pg';

export interface DatabaseOptions {
  /** postgres://… (DATABASE_URL). Never logged: it may hold a password. */
  url: string;
  /** Most connections this process opens (DATABASE_POOL_SIZE). */
  poolSize: number;
  /** Server-side limit of one statement (DATABASE_STATEMENT_TIMEOUT_MS). */
  statementTimeoutMs: number;
  /** How long to wait for a connection (from the pool or a new one); default 5 s. */
  connectTimeoutMs?: number;
  logger?: Logger;
}

/**
 * A pg pool with bounded waits everywhere: connecting, waiting for a free connection, each statement
 * (server side) and each query (client side, in case the server cannot even answer).
 */
export function createDatabasePool(options: DatabaseOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    statement_timeout: options.statementTimeoutMs,
    query_timeout: options.statementTimeoutMs + 1_000,
    idleTimeoutMillis: 30_000,
    application_name: 'truemoney-graphql-gateway',
  });
  // An idle connection that breaks (server restart) must not crash the process; the pool replaces it.
  pool.on('error', (err) =>
    options.logger?.warn({ err: describeDatabaseError(err) }, 'database: connection lost'),
  );
  return pool;
}

/** What a log may say about a database error: its code and message, never the connection string. */
export function describeDatabaseError(err: unknown): { code?: string; message: string } {
  if (!(err instanceof Error)) return { message: String(err) };
  const code = (err as { code?: unknown }).code;
  return { ...(typeof code === 'string' && { code }), message: err.message };
}
