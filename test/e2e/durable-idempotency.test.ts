import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { OmiseClient } from '../../src/omise/client.js';
import type { OmiseCharge } from '../../src/omise/types.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/index.js';
import { createTestDatabase, type TestDatabase } from '../persistence/test-database.js';
import {
  closeRedisConnection,
  connect,
  deleteKeysWithPrefix,
  SHARED_REDIS_URL,
  uniquePrefix,
} from '../realtime/helpers.js';
import { startFaultyProxy, type FaultyProxy } from './support/faulty-proxy.js';
import { startNode, type NodeProcess } from './support/processes.js';

/**
 * Issue 8's "Done when", end to end: gateway processes (`src/main.ts`, as `npm start`) with DATABASE_URL
 * (a database made for this file) and REDIS_URL (the shared Redis, under a key prefix of this file's
 * own: only those keys are ever deleted), in front of a faulty HTTP proxy that loses or replaces
 * Omise's answers, in front of the simulator.
 */

jest.setTimeout(120_000);

let sim: RunningSimulator;
let proxy: FaultyProxy;
let db: TestDatabase;
let omise: OmiseClient;
const redisPrefix = uniquePrefix();
const gateways: NodeProcess[] = [];

beforeAll(async () => {
  sim = await startSimulator();
  proxy = await startFaultyProxy(sim.url);
  db = await createTestDatabase();
  omise = new OmiseClient({ baseUrl: sim.url, secretKey: sim.secretKey, maxAttempts: 1 });
});

afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.stop()));
  await sim.clock.set(Date.now());
});

/** One long-lived instance for the scenarios that kill nothing (a process start costs seconds). */
let shared: Promise<Gateway> | undefined;
const sharedGateway = () => (shared ??= startGatewayProcess('gateway-shared', {}, false));

afterAll(async () => {
  await Promise.all([...gateways, ...longLived].map((g) => g.stop()));
  const redis = await connect(SHARED_REDIS_URL, 'durable-idempotency-cleanup');
  try {
    await deleteKeysWithPrefix(redis, redisPrefix);
  } finally {
    await closeRedisConnection(redis);
  }
  await proxy?.close();
  await db?.drop();
  await sim?.close();
});

/** The GraphQL answers are read loosely here: the shapes are the contract's, checked by other tests. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;

interface Gateway {
  process: NodeProcess;
  url: string;
  /** The GraphQL answer: data and errors (codes), whatever the HTTP status. */
  gql(query: string, variables: Record<string, unknown>): Promise<{ data?: Loose; codes: string[] }>;
}

const longLived: NodeProcess[] = [];

async function startGatewayProcess(
  name: string,
  env: Record<string, string> = {},
  stopAfterTest = true,
): Promise<Gateway> {
  const process = startNode(name, 'src/main.ts', [], {
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'info',
    OMISE_SECRET_KEY: sim.secretKey,
    OMISE_PUBLIC_KEY: sim.publicKey,
    OMISE_API_URL: proxy.url,
    OMISE_MAX_ATTEMPTS: '1',
    OMISE_TIMEOUT_MS: '5000',
    DATABASE_URL: db.url,
    REDIS_URL: SHARED_REDIS_URL,
    REDIS_KEY_PREFIX: redisPrefix,
    ...env,
  });
  (stopAfterTest ? gateways : longLived).push(process);
  const [, url] = await process.waitFor(/GraphQL gateway:\s+(\S+)\n/, 60_000);
  await process.waitFor(/Idempotency, ledger: PostgreSQL \(DATABASE_URL\)/);
  return {
    process,
    url: url!,
    async gql(query, variables) {
      const response = await fetch(url!, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as {
        data?: Loose;
        errors?: { extensions?: { code?: string } }[];
      };
      return { data: body.data, codes: (body.errors ?? []).map((e) => String(e.extensions?.code)) };
    },
  };
}

const CREATE = `mutation ($input: CreateTrueMoneyChargeInput!) {
  createTrueMoneyCharge(input: $input) { charge { id amount } userErrors { code } } }`;
const REFUND = `mutation ($input: RefundChargeInput!) {
  refundCharge(input: $input) { refund { id amount } charge { refundedAmount } userErrors { code } } }`;
const SIMULATE = `mutation ($input: SimulateChargeOutcomeInput!) {
  simulateChargeOutcome(input: $input) { charge { id status } userErrors { code } } }`;

/** A distinct amount per scenario: the simulator's charges are told apart by it. */
let nextAmount = 50_000;
const uniqueAmount = () => (nextAmount += 100);
const uniqueKey = (name: string) => `${name}-${randomBytes(4).toString('hex')}`;

async function chargesAtOmise(amount: number): Promise<OmiseCharge[]> {
  const page = await omise.listCharges({ limit: 100, order: 'reverse_chronological' });
  return page.data.filter((c) => c.amount === amount);
}

async function sigkill(gateway: Gateway): Promise<void> {
  gateway.process.child.kill('SIGKILL');
  await gateway.process.exited;
}

describe('issue 8: idempotency that survives restarts (gateway + PostgreSQL + Redis + faulty Omise)', () => {
  it('same key after a SIGKILL of the gateway and its Redis keys wiped → the same charge and refund, one of each at Omise', async () => {
    const amount = uniqueAmount();
    const createKey = uniqueKey('order-101');
    const refundKey = uniqueKey('refund-101');
    const first = await startGatewayProcess('gateway-1');
    const created = await first.gql(CREATE, { input: { amount, idempotencyKey: createKey } });
    const chargeId = created.data.createTrueMoneyCharge.charge.id as string;
    await first.gql(SIMULATE, { input: { chargeId, outcome: 'SUCCESSFUL' } });
    const refunded = await first.gql(REFUND, {
      input: { chargeId, amount: 5000, idempotencyKey: refundKey },
    });
    const refundId = refunded.data.refundCharge.refund.id as string;

    await sigkill(first);
    // What FLUSHALL does to this gateway's state, without touching the other users of the shared Redis.
    const redis = await connect(SHARED_REDIS_URL, 'durable-idempotency-flush');
    try {
      await deleteKeysWithPrefix(redis, redisPrefix);
    } finally {
      await closeRedisConnection(redis);
    }

    const second = await startGatewayProcess('gateway-2');
    const again = await second.gql(CREATE, { input: { amount, idempotencyKey: createKey } });
    expect(again.data.createTrueMoneyCharge.charge.id).toBe(chargeId);
    const refundAgain = await second.gql(REFUND, {
      input: { chargeId, amount: 5000, idempotencyKey: refundKey },
    });
    expect(refundAgain.data.refundCharge.refund.id).toBe(refundId);
    expect(await chargesAtOmise(amount)).toHaveLength(1);
    const refunds = await omise.listRefunds(chargeId);
    expect(refunds.data.map((r) => r.amount)).toEqual([5000]);
  });

  it('Omise charged but its answer was lost, the gateway was then killed, the client retries → that charge, one at Omise', async () => {
    const amount = uniqueAmount();
    const key = uniqueKey('lost-answer');
    const first = await startGatewayProcess('gateway-1');
    proxy.script(/^POST \/charges$/, [{ kind: 'drop-after' }]);
    const lost = await first.gql(CREATE, { input: { amount, idempotencyKey: key } });
    expect(lost.codes).toEqual(['UPSTREAM_UNAVAILABLE']);
    expect(await chargesAtOmise(amount)).toHaveLength(1);
    await sigkill(first);

    const second = await startGatewayProcess('gateway-2');
    const retried = await second.gql(CREATE, { input: { amount, idempotencyKey: key } });
    const [charge] = await chargesAtOmise(amount);
    expect(retried.data.createTrueMoneyCharge.charge.id).toBe(charge?.id);
    expect(await chargesAtOmise(amount)).toHaveLength(1);
  });

  it('the gateway killed while its create was in flight at Omise → the retry waits for it to settle, then gets that charge', async () => {
    const amount = uniqueAmount();
    const key = uniqueKey('killed-in-flight');
    const first = await startGatewayProcess('gateway-1');
    sim.faults.set({ latencyMs: 2_000 });
    try {
      const inFlight = first.gql(CREATE, { input: { amount, idempotencyKey: key } }).catch(() => undefined);
      await waitUntil(() => proxy.seen.some((s) => s.request === 'POST /charges'));
      await sigkill(first);
      void inFlight;
      const second = await startGatewayProcess('gateway-2');
      sim.faults.set({ latencyMs: 0 });
      // Taken over at once (the dead owner's database session is gone), then settled once Omise has it.
      let retried = await second.gql(CREATE, { input: { amount, idempotencyKey: key } });
      const started = Date.now();
      while (retried.codes.length > 0 && Date.now() - started < 60_000) {
        expect(retried.codes).toEqual(['UPSTREAM_UNAVAILABLE']);
        await new Promise((r) => setTimeout(r, 500));
        retried = await second.gql(CREATE, { input: { amount, idempotencyKey: key } });
      }
      const charges = await chargesAtOmise(amount);
      expect(charges).toHaveLength(1);
      expect(retried.data.createTrueMoneyCharge.charge.id).toBe(charges[0]?.id);
    } finally {
      sim.faults.reset();
    }
  });

  it('500, then 429, then a 500 after Omise acted, on one key; Omise recovers → the retry settles on the one charge (well within 150 s)', async () => {
    const amount = uniqueAmount();
    const key = uniqueKey('flaky');
    const gateway = await sharedGateway();
    proxy.script(/^POST \/charges$/, [
      { kind: 'fail-before', status: 500 },
      { kind: 'fail-before', status: 429, retryAfterSeconds: 1 },
      { kind: 'fail-after', status: 500 },
    ]);
    const create = () => gateway.gql(CREATE, { input: { amount, idempotencyKey: key } });
    expect((await create()).codes).toEqual(['UPSTREAM_UNAVAILABLE']); // 500
    expect((await create()).codes).toEqual(['RATE_LIMITED']); // 429
    expect((await create()).codes).toEqual(['UPSTREAM_UNAVAILABLE']); // 500, but charged
    const started = Date.now();
    const settled = await create();
    expect(Date.now() - started).toBeLessThan(150_000);
    const charges = await chargesAtOmise(amount);
    expect(charges).toHaveLength(1);
    expect(settled.data.createTrueMoneyCharge.charge.id).toBe(charges[0]?.id);
    expect((await create()).data.createTrueMoneyCharge.charge.id).toBe(charges[0]?.id);
  });

  it('20 concurrent creates with one key split over two instances → one charge', async () => {
    const amount = uniqueAmount();
    const key = uniqueKey('concurrent');
    const [a, b] = await Promise.all([startGatewayProcess('gateway-A'), startGatewayProcess('gateway-B')]);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 === 0 ? a : b).gql(CREATE, { input: { amount, idempotencyKey: key } }),
      ),
    );
    const ids = new Set(results.map((r) => r.data?.createTrueMoneyCharge?.charge?.id ?? r.codes.join()));
    expect(ids.size).toBe(1);
    const charges = await chargesAtOmise(amount);
    expect(charges).toHaveLength(1);
    expect([...ids][0]).toBe(charges[0]?.id);
  });

  it("Omise's clock 120 s behind the gateway's, answer lost, retried → that charge, one at Omise", async () => {
    await sim.clock.set(Date.now() - 120_000);
    const amount = uniqueAmount();
    const key = uniqueKey('skewed');
    const gateway = await sharedGateway();
    proxy.script(/^POST \/charges$/, [{ kind: 'drop-after' }]);
    expect((await gateway.gql(CREATE, { input: { amount, idempotencyKey: key } })).codes).toEqual([
      'UPSTREAM_UNAVAILABLE',
    ]);
    const retried = await gateway.gql(CREATE, { input: { amount, idempotencyKey: key } });
    const charges = await chargesAtOmise(amount);
    expect(charges).toHaveLength(1);
    expect(retried.data.createTrueMoneyCharge.charge.id).toBe(charges[0]?.id);
  });

  it("Omise's clock 2 h behind (the reconciliation window's start is in Omise's future) → still that charge", async () => {
    await sim.clock.set(Date.now() - 2 * 3600_000);
    const amount = uniqueAmount();
    const key = uniqueKey('very-skewed');
    const gateway = await sharedGateway();
    proxy.script(/^POST \/charges$/, [{ kind: 'drop-after' }]);
    await gateway.gql(CREATE, { input: { amount, idempotencyKey: key } });
    const retried = await gateway.gql(CREATE, { input: { amount, idempotencyKey: key } });
    const charges = await chargesAtOmise(amount);
    expect(charges).toHaveLength(1);
    expect(retried.data.createTrueMoneyCharge.charge.id).toBe(charges[0]?.id);
  });
});

async function waitUntil(check: () => boolean, limitMs = 10_000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > limitMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
