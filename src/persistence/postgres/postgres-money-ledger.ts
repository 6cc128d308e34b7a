import type pg from 'pg';
import type { MoneyCallEnd, MoneyCallRow, MoneyCallStart, MoneyLedger } from '../ports.js';

interface Row {
  id: string;
  operation: MoneyCallRow['operation'];
  actor: string;
  idempotency_key: string | null;
  request_id: string | null;
  charge_id: string | null;
  refund_id: string | null;
  amount: string | null;
  outcome: MoneyCallRow['outcome'];
  error_code: string | null;
  started_at: Date;
  finished_at: Date | null;
}

/** The ledger of money-moving calls in PostgreSQL (table `money_calls`, docs/operations.md). */
export class PostgresMoneyLedger implements MoneyLedger {
  readonly kind = 'postgres';

  constructor(private readonly pool: pg.Pool) {}

  async start(call: MoneyCallStart): Promise<string> {
    const { rows } = await this.pool.query<{ id: string }>(
      `INSERT INTO money_calls (operation, actor, idempotency_key, request_id, charge_id, amount, started_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
      [
        call.operation,
        call.actor,
        call.idempotencyKey ?? null,
        call.requestId ?? null,
        call.chargeId ?? null,
        call.amount ?? null,
        call.startedAt,
      ],
    );
    return (rows[0] as { id: string }).id;
  }

  async finish(id: string, end: MoneyCallEnd): Promise<void> {
    await this.pool.query(
      `UPDATE money_calls SET outcome = $2, charge_id = COALESCE($3, charge_id), refund_id = COALESCE($4, refund_id),
         amount = COALESCE($5, amount), error_code = $6, finished_at = $7
       WHERE id = $1`,
      [
        id,
        end.outcome,
        end.chargeId ?? null,
        end.refundId ?? null,
        end.amount ?? null,
        end.errorCode ?? null,
        end.finishedAt,
      ],
    );
  }

  async recent(filter: { chargeId?: string; limit?: number } = {}): Promise<MoneyCallRow[]> {
    const { rows } = await this.pool.query<Row>(
      `SELECT * FROM money_calls WHERE ($1::text IS NULL OR charge_id = $1) ORDER BY id DESC LIMIT $2`,
      [filter.chargeId ?? null, filter.limit ?? 100],
    );
    return rows.map((r) => ({
      id: r.id,
      operation: r.operation,
      actor: r.actor,
      idempotencyKey: r.idempotency_key ?? undefined,
      requestId: r.request_id ?? undefined,
      chargeId: r.charge_id ?? undefined,
      refundId: r.refund_id ?? undefined,
      amount: r.amount === null ? undefined : Number(r.amount),
      outcome: r.outcome,
      errorCode: r.error_code ?? undefined,
      startedAt: r.started_at,
      finishedAt: r.finished_at ?? undefined,
    }));
  }
}
