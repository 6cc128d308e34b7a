import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import {
  LeaseLostError,
  type AttemptEnd,
  type AttemptLease,
  type BeginAttempt,
  type IdempotencyRecord,
  type IdempotencyStore,
} from '../ports.js';

const COLUMNS = `
  fingerprint, state, attempt, owner::text AS owner,
  (extract(epoch FROM first_started_at) * 1000)::float8 AS first_started_at,
  (extract(epoch FROM started_at) * 1000)::float8 AS started_at,
  (extract(epoch FROM last_write_at) * 1000)::float8 AS last_write_at,
  in_flight, result::text AS result,
  (extract(epoch FROM expires_at) * 1000)::float8 AS expires_at`;

interface Row {
  fingerprint: string;
  state: IdempotencyRecord['state'];
  attempt: number;
  owner: string;
  first_started_at: number;
  started_at: number;
  last_write_at: number | null;
  in_flight: boolean;
  result: string | null;
  expires_at: number;
}

const toRecord = (row: Row): IdempotencyRecord => ({
  fingerprint: row.fingerprint,
  state: row.state,
  attempt: row.attempt,
  owner: row.owner,
  firstStartedAt: Math.round(row.first_started_at),
  startedAt: Math.round(row.started_at),
  lastWriteAt: row.last_write_at === null ? undefined : Math.round(row.last_write_at),
  inFlight: row.in_flight,
  result: row.result ?? undefined,
  expiresAt: Math.round(row.expires_at),
});

const ts = (ms: number | undefined) => (ms === undefined ? null : new Date(ms));

/**
 * Idempotency records in PostgreSQL (table `idempotency_records`): durable across restarts of the
 * gateway and of Redis, shared by every instance.
 *
 * Claims are `INSERT … ON CONFLICT` (an expired record counts as absent), take-overs an `UPDATE`
 * compare-and-set on the owner. While an attempt runs, its connection holds a session advisory lock
 * on the key: when the process dies, PostgreSQL drops the connection and the lock with it, so the next
 * retry can tell the owner is gone and take over at once instead of waiting for the stale time. Each
 * running attempt therefore holds one pooled connection (size DATABASE_POOL_SIZE accordingly).
 */
export class PostgresIdempotencyStore implements IdempotencyStore {
  readonly kind = 'postgres';

  constructor(private readonly pool: pg.Pool) {}

  async read(key: string, nowMs: number): Promise<IdempotencyRecord | undefined> {
    const { rows } = await this.pool.query<Row>(
      `SELECT ${COLUMNS} FROM idempotency_records WHERE key = $1 AND expires_at > $2`,
      [key, new Date(nowMs)],
    );
    return rows[0] && toRecord(rows[0]);
  }

  async begin(key: string, attempt: BeginAttempt): Promise<AttemptLease | undefined> {
    const client = await this.pool.connect();
    // A checked-out connection that breaks (server restart, the network) emits 'error': without a
    // listener that would crash the process. The next query on it fails, which the attempt handles.
    client.on('error', ignoreBrokenConnection);
    let handedOver = false;
    let locked = false;
    try {
      const lock = await client.query<{ ok: boolean }>(
        'SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok',
        [key],
      );
      locked = lock.rows[0]?.ok === true;
      const from = attempt.takeOverFrom;
      // Without the lock, a live attempt (or a concurrent claim or take-over) has the key: only the
      // forced take-over of an attempt presumed dead goes on. The winner keeps the lock while it runs,
      // so that the others can tell it is alive.
      if (!locked && attempt.force !== true) return undefined;
      const owner = randomUUID();
      const { rows } =
        from === undefined
          ? await client.query<Row>(
              `INSERT INTO idempotency_records AS r
                 (key, fingerprint, state, attempt, owner, first_started_at, started_at, expires_at)
               VALUES ($1, $2, 'pending', 1, $3, $4, $4, $5)
               ON CONFLICT (key) DO UPDATE SET
                 fingerprint = EXCLUDED.fingerprint, state = 'pending', attempt = 1, owner = EXCLUDED.owner,
                 first_started_at = EXCLUDED.first_started_at, started_at = EXCLUDED.started_at,
                 last_write_at = NULL, in_flight = false, result = NULL, expires_at = EXCLUDED.expires_at,
                 updated_at = now()
               WHERE r.expires_at <= EXCLUDED.started_at
               RETURNING ${COLUMNS}`,
              [key, attempt.fingerprint, owner, new Date(attempt.nowMs), new Date(attempt.expiresAt)],
            )
          : await client.query<Row>(
              `UPDATE idempotency_records SET
                 state = 'pending', attempt = attempt + 1, owner = $3, started_at = $4, updated_at = now()
               WHERE key = $1 AND owner = $2::uuid AND state <> 'done'
               RETURNING ${COLUMNS}`,
              [key, from.owner, owner, new Date(attempt.nowMs)],
            );
      const row = rows[0];
      if (row === undefined) return undefined;
      handedOver = true;
      return new PostgresLease(client, key, toRecord(row), locked);
    } catch (err) {
      client.removeListener('error', ignoreBrokenConnection);
      client.release(err instanceof Error ? err : true);
      handedOver = true;
      throw err;
    } finally {
      if (!handedOver) await unlockAndRelease(client, key, locked);
    }
  }

  async deleteExpired(nowMs: number): Promise<number> {
    const result = await this.pool.query('DELETE FROM idempotency_records WHERE expires_at <= $1', [
      new Date(nowMs),
    ]);
    return result.rowCount ?? 0;
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }
}

class PostgresLease implements AttemptLease {
  private ended = false;

  constructor(
    private readonly client: pg.PoolClient,
    private readonly key: string,
    readonly record: IdempotencyRecord,
    private readonly locked: boolean,
  ) {}

  async markWriteStarted(nowMs: number): Promise<void> {
    await this.fenced(
      `UPDATE idempotency_records SET last_write_at = $3, in_flight = true, updated_at = now()
       WHERE key = $1 AND owner = $2::uuid AND state = 'pending'`,
      [new Date(nowMs)],
    );
  }

  async finish(end: AttemptEnd): Promise<void> {
    if (end.state === 'done') {
      await this.fenced(
        `UPDATE idempotency_records SET state = 'done', result = $3::jsonb, in_flight = false, updated_at = now()
         WHERE key = $1 AND owner = $2::uuid`,
        [end.result],
      );
    } else {
      await this.fenced(
        `UPDATE idempotency_records SET state = 'uncertain', in_flight = $3, last_write_at = $4, updated_at = now()
         WHERE key = $1 AND owner = $2::uuid`,
        [end.inFlight, ts(end.lastWriteAt)],
      );
    }
    await this.end();
  }

  async release(): Promise<void> {
    await this.run('DELETE FROM idempotency_records WHERE key = $1 AND owner = $2::uuid', []);
    await this.end();
  }

  async abandon(): Promise<void> {
    await this.end().catch(() => undefined);
  }

  private async fenced(sql: string, params: unknown[]): Promise<void> {
    const result = await this.run(sql, params);
    if (result.rowCount === 0) {
      await this.end();
      throw new LeaseLostError();
    }
  }

  private async run(sql: string, params: unknown[]): Promise<pg.QueryResult> {
    if (this.ended) throw new LeaseLostError();
    try {
      return await this.client.query(sql, [this.key, this.record.owner, ...params]);
    } catch (err) {
      // A broken connection is destroyed, which also drops its lock.
      this.ended = true;
      this.client.removeListener('error', ignoreBrokenConnection);
      this.client.release(err instanceof Error ? err : true);
      throw err;
    }
  }

  private async end(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    await unlockAndRelease(this.client, this.key, this.locked);
  }
}

function ignoreBrokenConnection(): void {}

async function unlockAndRelease(client: pg.PoolClient, key: string, locked: boolean): Promise<void> {
  try {
    if (locked) await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [key]);
    client.removeListener('error', ignoreBrokenConnection);
    client.release();
  } catch (err) {
    // Destroying the connection releases the lock too.
    client.removeListener('error', ignoreBrokenConnection);
    client.release(err instanceof Error ? err : true);
  }
}
