/**
 * The database schema, as numbered migrations applied in order at start-up (see migrate.ts). A
 * migration is never edited once released: change the schema with a new one at the end.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'idempotency records and the ledger of money-moving calls',
    sql: `
      -- One row per idempotency key (per caller scope and operation: key = '<operation>:<handle>', the
      -- handle being a hash of scope + operation + key). Deleted once expired (24 h by default).
      CREATE TABLE idempotency_records (
        key               text PRIMARY KEY,
        fingerprint       text NOT NULL,
        state             text NOT NULL CHECK (state IN ('pending', 'done', 'uncertain')),
        attempt           integer NOT NULL CHECK (attempt > 0),
        owner             uuid NOT NULL,
        first_started_at  timestamptz NOT NULL,
        started_at        timestamptz NOT NULL,
        last_write_at     timestamptz,
        in_flight         boolean NOT NULL DEFAULT false,
        result            jsonb,
        expires_at        timestamptz NOT NULL,
        updated_at        timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX idempotency_records_expires_at ON idempotency_records (expires_at);

      -- Every money-moving call (create, refund, void, simulate), written before Omise is called and
      -- completed with its outcome. Kept until an operator archives it: it is the audit trail.
      CREATE TABLE money_calls (
        id               bigserial PRIMARY KEY,
        operation        text NOT NULL CHECK (operation IN ('create', 'refund', 'void', 'simulate')),
        actor            text NOT NULL,
        idempotency_key  text,
        request_id       text,
        charge_id        text,
        refund_id        text,
        amount           bigint CHECK (amount >= 0),
        outcome          text NOT NULL DEFAULT 'started'
                         CHECK (outcome IN ('started', 'succeeded', 'replayed', 'rejected', 'failed', 'uncertain')),
        error_code       text,
        started_at       timestamptz NOT NULL,
        finished_at      timestamptz
      );
      CREATE INDEX money_calls_charge_id ON money_calls (charge_id, started_at);
      CREATE INDEX money_calls_actor ON money_calls (actor, started_at);
      CREATE INDEX money_calls_idempotency_key ON money_calls (idempotency_key) WHERE idempotency_key IS NOT NULL;
    `,
  },
];
