import type { Logger } from 'pino';
import type pg from 'pg';
import { MIGRATIONS, type Migration } from './migrations.js';

/** Advisory lock key of the migrations (an arbitrary constant: "tmgw-mig"). */
const MIGRATION_LOCK_KEY = 0x746d67772d6d6967n;
/** How long an instance waits for another one that is migrating. */
const MIGRATION_LOCK_TIMEOUT = '60s';

/**
 * Applies the migrations this database does not have yet, each in its own transaction, under a
 * session advisory lock: instances starting at once migrate one after the other, and the later ones
 * find nothing left to do. Returns the versions applied by this call.
 */
export async function migrate(
  pool: pg.Pool,
  options: { logger?: Logger; migrations?: readonly Migration[] } = {},
): Promise<number[]> {
  const migrations = options.migrations ?? MIGRATIONS;
  const client = await pool.connect();
  try {
    // The pool's statement timeout would cut the wait for the lock short.
    await client.query(`SET statement_timeout = '${MIGRATION_LOCK_TIMEOUT}'`);
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY.toString()]);
    try {
      await client.query(`
        CREATE TABLE IF NOT EXISTS schema_migrations (
          version     integer PRIMARY KEY,
          name        text NOT NULL,
          applied_at  timestamptz NOT NULL DEFAULT now()
        )`);
      const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
      const have = new Set(rows.map((r) => r.version));
      const newest = Math.max(0, ...have);
      const known = Math.max(0, ...migrations.map((m) => m.version));
      if (newest > known) {
        options.logger?.warn(
          { databaseVersion: newest, knownVersion: known },
          'database: the schema is newer than this gateway knows (a newer version migrated it)',
        );
      }
      const applied: number[] = [];
      for (const migration of migrations) {
        if (have.has(migration.version)) continue;
        await client.query('BEGIN');
        try {
          await client.query(migration.sql);
          await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
            migration.version,
            migration.name,
          ]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw err;
        }
        applied.push(migration.version);
        options.logger?.info({ version: migration.version, name: migration.name }, 'database: migrated');
      }
      return applied;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY.toString()]);
    }
  } finally {
    // Never hand back a connection with another statement timeout (or a held lock after an error).
    client.release(true);
  }
}
