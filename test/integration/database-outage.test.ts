import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import {
  ChargeDocument,
  CreateTrueMoneyChargeDocument,
  RefundChargeDocument,
  SimulateChargeOutcomeDocument,
} from '../generated/operations.js';
import { freePort } from '../realtime/private-redis-server.js';
import { waitFor } from '../realtime/helpers.js';
import { createTestDatabase, type TestDatabase } from '../persistence/test-database.js';
import { dataOf, startHarness, type Harness } from './support/harness.js';

/**
 * PostgreSQL goes away (issue 13's "PostgreSQL down"): the gateway reaches the real server through a TCP
 * relay that the test cuts and restores, so the shared server itself is never stopped. Money-moving
 * mutations refuse cleanly (nothing charged or refunded, a retryable UPSTREAM_UNAVAILABLE), reads keep
 * working, readiness reports the database, and all is well again once it is back.
 */

const PASSWORD = 'hunter2-db-secret'; // trust auth ignores it; it must never appear in a log line
let db: TestDatabase;
let relay: TcpRelay;
let h: Harness;

beforeAll(async () => {
  db = await createTestDatabase();
  relay = await TcpRelay.start(await freePort(), 5432);
  const url = new URL(db.url);
  url.port = String(relay.port);
  url.password = PASSWORD;
  h = await startHarness({
    env: { DATABASE_URL: url.toString(), DATABASE_STATEMENT_TIMEOUT_MS: '2000' },
    overrides: { readinessTimeoutMs: 3000 },
  });
});

afterAll(async () => {
  await h?.close();
  await relay?.close();
  await db?.drop();
});

async function readiness(): Promise<{ status: number; checks: Record<string, string> }> {
  const response = await h.http('/readyz');
  return {
    status: response.status,
    checks: ((await response.json()) as { checks: Record<string, string> }).checks,
  };
}

async function chargesWithAmount(amount: number): Promise<number> {
  const response = await fetch(`${h.sim.url}/charges?limit=100`, {
    headers: { authorization: `Basic ${Buffer.from(`${h.sim.secretKey}:`).toString('base64')}` },
  });
  const list = (await response.json()) as { data: { amount: number }[] };
  return list.data.filter((c) => c.amount === amount).length;
}

describe('PostgreSQL down', () => {
  it('money moves refuse cleanly (nothing done, retryable), reads keep working, then all recovers', async () => {
    expect(await readiness()).toMatchObject({ status: 200, checks: { database: 'ok' } });
    const created = dataOf(await h.gql(CreateTrueMoneyChargeDocument, { input: { amount: 33_300 } }));
    const chargeId = created.createTrueMoneyCharge.charge!.id;
    dataOf(await h.gql(SimulateChargeOutcomeDocument, { input: { chargeId, outcome: 'SUCCESSFUL' } }));

    await relay.cut();
    const refused = await h.gql(CreateTrueMoneyChargeDocument, {
      input: { amount: 33_400, idempotencyKey: 'during-db-outage' },
    });
    expect(refused.body.errors?.map((e) => e.extensions?.code)).toEqual(['UPSTREAM_UNAVAILABLE']);
    const refusedWithoutKey = await h.gql(CreateTrueMoneyChargeDocument, { input: { amount: 33_400 } });
    expect(refusedWithoutKey.body.errors?.map((e) => e.extensions?.code)).toEqual(['UPSTREAM_UNAVAILABLE']);
    const refundRefused = await h.gql(RefundChargeDocument, {
      input: { chargeId, amount: 1000, idempotencyKey: 'refund-during-db-outage' },
    });
    expect(refundRefused.body.errors?.map((e) => e.extensions?.code)).toEqual(['UPSTREAM_UNAVAILABLE']);
    expect(await chargesWithAmount(33_400)).toBe(0);
    const read = dataOf(await h.gql(ChargeDocument, { id: chargeId }));
    expect(read.charge).toMatchObject({ id: chargeId, status: 'SUCCESSFUL', refundedAmount: 0 });
    const down = await readiness();
    expect(down.status).toBe(503);
    expect(down.checks['database']).not.toBe('ok');

    await relay.restore();
    await waitFor(async () => (await readiness()).status === 200, 15_000);
    const retried = dataOf(
      await h.gql(CreateTrueMoneyChargeDocument, {
        input: { amount: 33_400, idempotencyKey: 'during-db-outage' },
      }),
    );
    expect(retried.createTrueMoneyCharge.charge?.amount).toBe(33_400);
    const refunded = dataOf(
      await h.gql(RefundChargeDocument, {
        input: { chargeId, amount: 1000, idempotencyKey: 'refund-during-db-outage' },
      }),
    );
    expect(refunded.refundCharge.charge?.refundedAmount).toBe(1000);
    expect(await chargesWithAmount(33_400)).toBe(1);

    expect(JSON.stringify(h.logs)).not.toContain(PASSWORD);
  });
});

/** A TCP relay to the local PostgreSQL that can be cut (connections refused, open ones reset) and restored. */
class TcpRelay {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  private constructor(
    readonly port: number,
    private readonly target: number,
  ) {}

  static async start(port: number, target: number): Promise<TcpRelay> {
    const relay = new TcpRelay(port, target);
    await relay.restore();
    return relay;
  }

  async restore(): Promise<void> {
    const server = createServer((client) => {
      const upstream = tcpConnect(this.target, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.server = server;
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  close(): Promise<void> {
    return this.cut();
  }
}
