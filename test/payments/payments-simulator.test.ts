import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PNG } from 'pngjs';
import { OmiseClient } from '../../src/omise/client.js';
import type { OmiseApi } from '../../src/omise/api.js';
import {
  UpstreamRateLimitedError,
  UpstreamUnavailableError,
  type Result,
} from '../../src/payments/errors.js';
import { IDEMPOTENCY_METADATA_KEY } from '../../src/payments/omise-mapper.js';
import {
  createPaymentsService,
  type PaymentsServiceDeps,
} from '../../src/payments/omise-payments-service.js';
import { MemoryIdempotencyStore } from '../../src/persistence/memory-idempotency-store.js';
import { MemoryMoneyLedger } from '../../src/persistence/memory-money-ledger.js';
import type { ChargePage, PaymentsService } from '../../src/payments/payments-service.js';
import { MemoryKeyValueStore } from '../../src/realtime/memory-key-value-store.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/index.js';

/**
 * The payments service against the real simulator, through the real Omise client, over HTTP.
 * Time-dependent rules are driven by the simulator's clock (shared with the service).
 */

const DAY_MS = 24 * 60 * 60 * 1000;

let sim: RunningSimulator;
let omise: OmiseClient;
let kv: MemoryKeyValueStore;
let payments: PaymentsService;

/** One store for every service made here: like gateway instances sharing their database. */
const idempotencyStore = new MemoryIdempotencyStore();

function service(overrides: Partial<PaymentsServiceDeps> = {}): PaymentsService {
  return createPaymentsService({
    omise,
    kv,
    idempotencyStore,
    mode: 'simulator',
    idempotencyTtlMs: DAY_MS,
    now: () => new Date(sim.clock.now()),
    ...overrides,
  });
}

beforeAll(async () => {
  sim = await startSimulator();
  omise = new OmiseClient({
    baseUrl: sim.url,
    secretKey: sim.secretKey,
    publicKey: sim.publicKey,
    timeoutMs: 5000,
    maxAttempts: 1,
  });
  kv = new MemoryKeyValueStore();
  payments = service();
});

afterAll(async () => {
  kv.close();
  await sim.close();
});

function value<T>(result: Result<T>): T {
  if (!result.ok) throw new Error(`expected success, got ${JSON.stringify(result.errors)}`);
  return result.value;
}

function codes<T>(result: Result<T>): string[] {
  return result.ok ? [] : result.errors.map((e) => e.code);
}

/** A distinct amount per test, so that charges can be told apart in the shared simulator. */
let nextAmount = 10_000;
const uniqueAmount = () => (nextAmount += 100);

async function chargesWithAmount(amount: number): Promise<number> {
  const page = await omise.listCharges({ limit: 100 });
  return page.data.filter((c) => c.amount === amount).length;
}

async function paidCharge(amount = uniqueAmount()) {
  const charge = value(await payments.createTrueMoneyCharge({ amount, currency: 'THB' }));
  return value(await payments.simulateChargeOutcome({ chargeId: charge.id, outcome: 'SUCCESSFUL' }));
}

describe('createTrueMoneyCharge', () => {
  it('creates a pending TrueMoney QR charge in one call, with a scannable QR', async () => {
    const amount = uniqueAmount();
    const charge = value(
      await payments.createTrueMoneyCharge({
        amount,
        currency: 'THB',
        returnUri: 'https://shop.example/orders/1/complete',
        description: 'Order 1',
        metadata: { orderId: '1' },
      }),
    );
    expect(charge).toMatchObject({
      status: 'PENDING',
      amount,
      currency: 'THB',
      sourceType: 'truemoney_qr',
      description: 'Order 1',
      metadata: { orderId: '1' },
      returnUri: 'https://shop.example/orders/1/complete',
      paid: false,
      refundedAmount: 0,
      voidable: false,
      livemode: false,
    });
    expect(charge.id).toMatch(/^chrg_test_/);
    expect(charge.qrCode?.imageUrl).toMatch(/^http/);
    expect(charge.qrCode?.expiresAt).toEqual(charge.expiresAt);
    expect(charge.createdAt).toBeInstanceOf(Date);

    const again = await payments.getCharge(charge.id);
    expect(again).toEqual(charge);

    const png = await payments.getQrImage(charge.qrCode!.imageUrl);
    const image = PNG.sync.read(Buffer.from(png)); // a real PNG (the simulator's tests check its QR content)
    expect(image.width).toBeGreaterThan(20);
    expect(image.width).toBe(image.height);
    expect(await payments.getQrImage(charge.qrCode!.imageUrl)).toBe(png); // cached
  });

  it('charges a client-made source once; refuses a used, a mismatched and an unknown source', async () => {
    const amount = uniqueAmount();
    const source = await omise.createSource({ type: 'truemoney_qr', amount, currency: 'THB' });
    const mismatch = await payments.createTrueMoneyCharge({
      amount: amount + 1,
      currency: 'THB',
      sourceId: source.id,
    });
    expect(codes(mismatch)).toEqual(['SOURCE_AMOUNT_MISMATCH']);
    const charge = value(
      await payments.createTrueMoneyCharge({ amount, currency: 'THB', sourceId: source.id }),
    );
    expect(charge.sourceType).toBe('truemoney_qr');
    expect(charge.qrCode).not.toBeNull();
    const reused = await payments.createTrueMoneyCharge({ amount, currency: 'THB', sourceId: source.id });
    expect(codes(reused)).toEqual(['SOURCE_ALREADY_USED']);
    const unknown = await payments.createTrueMoneyCharge({
      amount,
      currency: 'THB',
      sourceId: 'src_test_0000000000000000000',
    });
    expect(codes(unknown)).toEqual(['SOURCE_NOT_FOUND']);
    expect(await chargesWithAmount(amount)).toBe(1);
  });

  it('refuses invalid input before calling Omise', async () => {
    const result = await payments.createTrueMoneyCharge({
      amount: 9_999,
      currency: 'USD' as 'THB',
      returnUri: 'ftp://x',
      description: 'd'.repeat(256),
      metadata: { [IDEMPOTENCY_METADATA_KEY]: 'mine' },
      idempotencyKey: '',
    });
    expect(codes(result).sort()).toEqual(
      [
        'AMOUNT_OUT_OF_RANGE',
        'UNSUPPORTED_CURRENCY',
        'INVALID_RETURN_URI',
        'INVALID_DESCRIPTION',
        'INVALID_METADATA',
        'INVALID_IDEMPOTENCY_KEY',
      ].sort(),
    );
    const tooBig = await payments.createTrueMoneyCharge({
      amount: 5_000_001,
      currency: 'THB',
      metadata: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i])),
    });
    expect(codes(tooBig).sort()).toEqual(['AMOUNT_OUT_OF_RANGE', 'METADATA_TOO_LARGE']);
    expect(await chargesWithAmount(9_999)).toBe(0);
  });

  it('reports what Omise refuses that the gateway does not foresee as OMISE_REJECTED with Omise’s message', async () => {
    // The simulator caps return_uri at 2000 characters; the gateway's own rule allows 2048.
    const result = await payments.createTrueMoneyCharge({
      amount: uniqueAmount(),
      currency: 'THB',
      returnUri: `https://shop.example/${'a'.repeat(2010)}`,
    });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.errors[0]?.code).toBe('OMISE_REJECTED');
      expect(result.errors[0]?.message).toMatch(/return_uri/);
    }
  });
});

describe('getCharge', () => {
  it('is null for unknown and malformed ids', async () => {
    expect(await payments.getCharge('chrg_test_0000000000000000000')).toBeNull();
    expect(await payments.getCharge('../sources/x')).toBeNull();
    expect(await payments.getCharge('')).toBeNull();
  });
});

describe('listCharges', () => {
  it('pages neither repeat nor skip when charges are created between reads, in the same second too', async () => {
    const own = await startSimulator();
    const ownOmise = new OmiseClient({ baseUrl: own.url, secretKey: own.secretKey, maxAttempts: 1 });
    const ownKv = new MemoryKeyValueStore();
    try {
      const list = createPaymentsService({
        omise: ownOmise,
        kv: ownKv,
        mode: 'simulator',
        idempotencyTtlMs: DAY_MS,
      });
      const create = async () =>
        value(await list.createTrueMoneyCharge({ amount: 10_000, currency: 'THB' })).id;
      // Three seconds with three charges each: ties that only the rank inside a second tells apart.
      const older: string[] = [];
      for (let second = 0; second < 3; second++) {
        for (let i = 0; i < 3; i++) older.unshift(await create());
        await own.clock.advance(1000);
      }
      const seen: string[] = [];
      let after: string | null = null;
      let pages = 0;
      do {
        const page: ChargePage = value(await list.listCharges({ first: 2, after }));
        seen.push(...page.edges.map((e) => e.node.id));
        // Someone creates charges while we page: one now (in the second being read next, on the
        // first page), then later ones.
        await create();
        if (pages === 1) await own.clock.advance(1000);
        after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
        pages += 1;
      } while (after !== null && pages < 20);
      expect(seen).toEqual(older);
      expect(pages).toBe(5);
    } finally {
      await ownKv.close();
      await own.close();
    }
  });

  it("finds its anchor when a charge was created in the anchor's very second after the page was read", async () => {
    const own = await startSimulator();
    const ownOmise = new OmiseClient({ baseUrl: own.url, secretKey: own.secretKey, maxAttempts: 1 });
    const ownKv = new MemoryKeyValueStore();
    try {
      const list = createPaymentsService({
        omise: ownOmise,
        kv: ownKv,
        mode: 'simulator',
        idempotencyTtlMs: DAY_MS,
      });
      const create = async () =>
        value(await list.createTrueMoneyCharge({ amount: 10_000, currency: 'THB' })).id;
      const ids = [await create(), await create(), await create(), await create()].reverse();
      // All four in the current second; the first page's anchor is the 2nd of that second.
      const first = value(await list.listCharges({ first: 2 }));
      expect(first.edges.map((e) => e.node.id)).toEqual(ids.slice(0, 2));
      // Created in the same second: it goes before the anchor, which is no longer at its place.
      await create();
      const second = value(await list.listCharges({ first: 2, after: first.pageInfo.endCursor }));
      expect(second.edges.map((e) => e.node.id)).toEqual(ids.slice(2, 4));
      expect(second.pageInfo.hasNextPage).toBe(false);
    } finally {
      await ownKv.close();
      await own.close();
    }
  });

  it('pages newest first with opaque cursors, totals and hasNextPage', async () => {
    // A fresh simulator, so that the list holds exactly these charges.
    const own = await startSimulator();
    const ownOmise = new OmiseClient({ baseUrl: own.url, secretKey: own.secretKey, maxAttempts: 1 });
    const ownKv = new MemoryKeyValueStore();
    try {
      const list = createPaymentsService({
        omise: ownOmise,
        kv: ownKv,
        mode: 'simulator',
        idempotencyTtlMs: DAY_MS,
      });
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        ids.push(value(await list.createTrueMoneyCharge({ amount: 10_000 + i, currency: 'THB' })).id);
        await own.clock.advance(1000); // distinct creation times
      }
      const first = value(await list.listCharges({ first: 2 }));
      expect(await first.totalCount()).toBe(5);
      expect(first.edges.map((e) => e.node.id)).toEqual([ids[4], ids[3]]);
      expect(first.pageInfo).toEqual({ hasNextPage: true, endCursor: first.edges[1]?.cursor });
      const second = value(await list.listCharges({ first: 2, after: first.pageInfo.endCursor }));
      expect(second.edges.map((e) => e.node.id)).toEqual([ids[2], ids[1]]);
      const third = value(await list.listCharges({ first: 2, after: second.pageInfo.endCursor }));
      expect(third.edges.map((e) => e.node.id)).toEqual([ids[0]]);
      expect(third.pageInfo.hasNextPage).toBe(false);
      const past = value(await list.listCharges({ first: 2, after: third.pageInfo.endCursor }));
      expect(past).toMatchObject({ edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
      expect(await past.totalCount()).toBe(5);

      const created = await Promise.all(ids.map((id) => list.getCharge(id)));
      const from = created[1]!.createdAt;
      const to = created[3]!.createdAt;
      const window = value(await list.listCharges({ first: 10, from, to }));
      expect(window.edges.map((e) => e.node.id)).toEqual([ids[3], ids[2], ids[1]]);
      expect(await window.totalCount()).toBe(3);

      expect(codes(await list.listCharges({ first: 0 }))).toEqual(['INVALID_PAGINATION']);
      expect(codes(await list.listCharges({ first: 101 }))).toEqual(['INVALID_PAGINATION']);
      expect(codes(await list.listCharges({ first: 2, after: 'garbage' }))).toEqual(['INVALID_PAGINATION']);
      expect(codes(await list.listCharges({ first: 2, from: to, to: from }))).toEqual(['INVALID_PAGINATION']);
    } finally {
      ownKv.close();
      await own.close();
    }
  });
});

describe('simulateChargeOutcome', () => {
  it('completes a pending charge as successful or failed, once', async () => {
    const a = value(await payments.createTrueMoneyCharge({ amount: uniqueAmount(), currency: 'THB' }));
    const paid = value(await payments.simulateChargeOutcome({ chargeId: a.id, outcome: 'SUCCESSFUL' }));
    expect(paid).toMatchObject({ status: 'SUCCESSFUL', paid: true, refundable: true, voidable: true });
    expect(paid.paidAt).toBeInstanceOf(Date);
    const again = await payments.simulateChargeOutcome({ chargeId: a.id, outcome: 'FAILED' });
    expect(codes(again)).toEqual(['CHARGE_NOT_PENDING']);

    const b = value(await payments.createTrueMoneyCharge({ amount: uniqueAmount(), currency: 'THB' }));
    const failed = value(await payments.simulateChargeOutcome({ chargeId: b.id, outcome: 'FAILED' }));
    expect(failed).toMatchObject({ status: 'FAILED', paid: false, failureCode: 'failed_processing' });

    const unknown = await payments.simulateChargeOutcome({
      chargeId: 'chrg_test_0000000000000000000',
      outcome: 'SUCCESSFUL',
    });
    expect(codes(unknown)).toEqual(['CHARGE_NOT_FOUND']);
  });

  it('is refused in live mode without calling Omise', async () => {
    const c = value(await payments.createTrueMoneyCharge({ amount: uniqueAmount(), currency: 'THB' }));
    const live = service({ mode: 'live' });
    expect(codes(await live.simulateChargeOutcome({ chargeId: c.id, outcome: 'SUCCESSFUL' }))).toEqual([
      'NOT_TEST_MODE',
    ]);
    expect((await payments.getCharge(c.id))?.status).toBe('PENDING');
  });

  it('an expired charge cannot be completed', async () => {
    const c = value(await payments.createTrueMoneyCharge({ amount: uniqueAmount(), currency: 'THB' }));
    await sim.clock.advance(DAY_MS + 1000);
    expect((await payments.getCharge(c.id))?.status).toBe('EXPIRED');
    expect(codes(await payments.simulateChargeOutcome({ chargeId: c.id, outcome: 'SUCCESSFUL' }))).toEqual([
      'CHARGE_NOT_PENDING',
    ]);
  });
});

describe('refundCharge and voidCharge', () => {
  it('refunds partially, then what is left by default; the returned charge reflects each refund', async () => {
    const charge = await paidCharge(100_000);
    const first = value(
      await payments.refundCharge({ chargeId: charge.id, amount: 30_000, metadata: { why: 'x' } }),
    );
    expect(first.refund).toMatchObject({
      chargeId: charge.id,
      amount: 30_000,
      voided: false,
      metadata: { why: 'x' },
    });
    expect(first.charge).toMatchObject({ refundedAmount: 30_000, voidable: false });
    expect(first.charge.refunds.map((r) => r.id)).toEqual([first.refund.id]);

    const tooMuch = await payments.refundCharge({ chargeId: charge.id, amount: 70_001 });
    expect(codes(tooMuch)).toEqual(['REFUND_EXCEEDS_REMAINING']);

    const rest = value(await payments.refundCharge({ chargeId: charge.id }));
    expect(rest.refund.amount).toBe(70_000);
    expect(rest.charge.refundedAmount).toBe(100_000);
    expect(codes(await payments.refundCharge({ chargeId: charge.id, amount: 1 }))).toEqual([
      'CHARGE_NOT_REFUNDABLE',
    ]);
  });

  it('refuses refunds of pending and unknown charges, and bad amounts', async () => {
    const pending = value(await payments.createTrueMoneyCharge({ amount: uniqueAmount(), currency: 'THB' }));
    expect(codes(await payments.refundCharge({ chargeId: pending.id }))).toEqual(['CHARGE_NOT_REFUNDABLE']);
    expect(codes(await payments.refundCharge({ chargeId: 'chrg_test_0000000000000000000' }))).toEqual([
      'CHARGE_NOT_FOUND',
    ]);
    expect(codes(await payments.refundCharge({ chargeId: 'nope' }))).toEqual(['CHARGE_NOT_FOUND']);
    expect(codes(await payments.refundCharge({ chargeId: pending.id, amount: 0 }))).toEqual([
      'INVALID_AMOUNT',
    ]);
    expect(codes(await payments.voidCharge({ chargeId: 'chrg_test_0000000000000000000' }))).toEqual([
      'CHARGE_NOT_FOUND',
    ]);
    expect(codes(await payments.voidCharge({ chargeId: pending.id }))).toEqual(['CHARGE_NOT_VOIDABLE']);
  });

  it('voids on the day of payment; a second void is refused', async () => {
    const charge = await paidCharge();
    const voided = value(await payments.voidCharge({ chargeId: charge.id }));
    expect(voided.refund).toMatchObject({ amount: charge.amount, voided: true });
    expect(voided.charge).toMatchObject({ voided: true, refundedAmount: charge.amount, voidable: false });
    expect(codes(await payments.voidCharge({ chargeId: charge.id }))).toEqual(['CHARGE_NOT_VOIDABLE']);
    expect(codes(await payments.refundCharge({ chargeId: charge.id }))).toEqual(['CHARGE_NOT_REFUNDABLE']);
  });

  it('the next Bangkok day: void refused, full refund accepted', async () => {
    const charge = await paidCharge();
    await sim.clock.advance(DAY_MS);
    const current = await payments.getCharge(charge.id);
    expect(current?.voidable).toBe(false);
    expect(codes(await payments.voidCharge({ chargeId: charge.id }))).toEqual(['CHARGE_NOT_VOIDABLE']);
    const refund = value(await payments.refundCharge({ chargeId: charge.id }));
    expect(refund.refund).toMatchObject({ amount: charge.amount, voided: false });
    expect(refund.charge.refundedAmount).toBe(charge.amount);
  });

  it('31 days after payment: REFUND_WINDOW_EXPIRED', async () => {
    const charge = await paidCharge();
    await sim.clock.advance(31 * DAY_MS);
    expect(codes(await payments.refundCharge({ chargeId: charge.id, amount: 100 }))).toEqual([
      'REFUND_WINDOW_EXPIRED',
    ]);
  });

  it('two concurrent refunds that together exceed the charge: one succeeds, one is REFUND_EXCEEDS_REMAINING', async () => {
    // Both may pass the gateway's own check before either reaches Omise; then Omise's refusal is mapped.
    const charge = await paidCharge(10_000);
    const results = await Promise.all([
      payments.refundCharge({ chargeId: charge.id, amount: 6000 }),
      payments.refundCharge({ chargeId: charge.id, amount: 6000 }),
    ]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.flatMap(codes)).toEqual(['REFUND_EXCEEDS_REMAINING']);
    expect((await payments.getCharge(charge.id))?.refundedAmount).toBe(6000);
  });

  it('at most 15 refunds per charge', async () => {
    const charge = await paidCharge(10_000);
    for (let i = 0; i < 15; i++) value(await payments.refundCharge({ chargeId: charge.id, amount: 100 }));
    expect(codes(await payments.refundCharge({ chargeId: charge.id, amount: 100 }))).toEqual([
      'TOO_MANY_REFUNDS',
    ]);
    expect((await payments.getCharge(charge.id))?.refundedAmount).toBe(1500);
  });
});

describe('idempotency keys', () => {
  it('same key + same input → the first charge again; other input → IDEMPOTENCY_KEY_REUSED', async () => {
    const amount = uniqueAmount();
    const input = { amount, currency: 'THB' as const, metadata: { order: 'A' }, idempotencyKey: 'order-A' };
    const first = value(await payments.createTrueMoneyCharge(input));
    expect(first.metadata).toEqual({ order: 'A' });
    const raw = await omise.retrieveCharge(first.id);
    expect(raw.metadata[IDEMPOTENCY_METADATA_KEY]).toEqual(expect.any(String));
    expect(JSON.stringify(raw.metadata)).not.toContain('order-A'); // only a hash of the key leaves the gateway
    const replay = value(await payments.createTrueMoneyCharge({ ...input, metadata: { order: 'A' } }));
    expect(replay).toEqual(first);
    const other = await payments.createTrueMoneyCharge({ ...input, amount: amount + 1 });
    expect(codes(other)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
    // Another caller may use the same key for its own charge.
    const otherCaller = value(await payments.createTrueMoneyCharge(input, { principal: 'mobile-app' }));
    expect(otherCaller.id).not.toBe(first.id);
    expect(await chargesWithAmount(amount)).toBe(2);
  });

  it('20 concurrent identical creates → exactly one Omise charge, the same result for all', async () => {
    const amount = uniqueAmount();
    const input = { amount, currency: 'THB' as const, idempotencyKey: 'concurrent-1' };
    const results = await Promise.all(
      Array.from({ length: 20 }, () => payments.createTrueMoneyCharge(input)),
    );
    const ids = new Set(results.map((r) => value(r).id));
    expect(ids.size).toBe(1);
    expect(await chargesWithAmount(amount)).toBe(1);
  });

  it('a replayed refund or void makes no second refund; a rejected one is replayed with its userErrors', async () => {
    const charge = await paidCharge(50_000);
    const refund = { chargeId: charge.id, amount: 1000, idempotencyKey: 'refund-1' };
    const first = value(await payments.refundCharge(refund));
    const again = value(await payments.refundCharge(refund));
    expect(again.refund.id).toBe(first.refund.id);
    const refunds = await omise.listRefunds(charge.id);
    expect(refunds.total).toBe(1);

    const tooMuch = { chargeId: charge.id, amount: 60_000, idempotencyKey: 'refund-2' };
    const rejected = await payments.refundCharge(tooMuch);
    expect(codes(rejected)).toEqual(['REFUND_EXCEEDS_REMAINING']);
    expect(await payments.refundCharge(tooMuch)).toEqual(rejected);

    const other = await paidCharge();
    const voidInput = { chargeId: other.id, idempotencyKey: 'void-1' };
    const voided = value(await payments.voidCharge(voidInput));
    expect(value(await payments.voidCharge(voidInput)).refund.id).toBe(voided.refund.id);
    expect((await omise.listRefunds(other.id)).total).toBe(1);
  });

  it('an answer lost after Omise created the charge: the retry finds it instead of charging twice', async () => {
    const amount = uniqueAmount();
    const input = { amount, currency: 'THB' as const, idempotencyKey: 'lost-answer' };
    sim.faults.set({ dropRate: 1, dropAfterProcessing: true });
    try {
      await expect(payments.createTrueMoneyCharge(input)).rejects.toBeInstanceOf(UpstreamUnavailableError);
    } finally {
      sim.faults.reset();
    }
    expect(await chargesWithAmount(amount)).toBe(1);
    const retried = value(await payments.createTrueMoneyCharge(input));
    expect(retried.amount).toBe(amount);
    expect(await chargesWithAmount(amount)).toBe(1);
    expect(value(await payments.createTrueMoneyCharge(input)).id).toBe(retried.id);
  });

  it('Omise created the charge but its 200 answer is unreadable: the retry finds it instead of charging twice', async () => {
    const amount = uniqueAmount();
    const input = { amount, currency: 'THB' as const, idempotencyKey: 'unreadable-answer' };
    // The POST reaches Omise (the charge is made); its answer is replaced by a body the client cannot read.
    const garbling: typeof fetch = async (request, init) => {
      const response = await fetch(request, init);
      const method = request instanceof Request ? request.method : (init?.method ?? 'GET');
      if (method !== 'POST') return response;
      await response.arrayBuffer();
      return new Response('{"object":"charge"', {
        status: 200,
        headers: { 'content-type': 'application/json' },
      });
    };
    const garbled = new OmiseClient({
      baseUrl: sim.url,
      secretKey: sim.secretKey,
      publicKey: sim.publicKey,
      timeoutMs: 5000,
      maxAttempts: 1,
      fetch: garbling,
    });
    await expect(service({ omise: garbled }).createTrueMoneyCharge(input)).rejects.toBeInstanceOf(
      UpstreamUnavailableError,
    );
    expect(await chargesWithAmount(amount)).toBe(1);
    const retried = value(await payments.createTrueMoneyCharge(input));
    expect(retried.amount).toBe(amount);
    expect(await chargesWithAmount(amount)).toBe(1);
  });

  it('a request dropped before Omise processed it: the retry waits for it to settle, then creates once', async () => {
    const amount = uniqueAmount();
    const input = { amount, currency: 'THB' as const, idempotencyKey: 'dropped-request' };
    sim.faults.set({ dropRate: 1, dropAfterProcessing: false });
    try {
      await expect(payments.createTrueMoneyCharge(input)).rejects.toBeInstanceOf(UpstreamUnavailableError);
    } finally {
      sim.faults.reset();
    }
    expect(await chargesWithAmount(amount)).toBe(0);
    // The connection was reset after sending: the request might still complete at Omise. Not yet safe.
    await expect(payments.createTrueMoneyCharge(input)).rejects.toThrow(/not known yet/);
    await sim.clock.advance(61_000);
    const created = value(await payments.createTrueMoneyCharge(input));
    expect(created.amount).toBe(amount);
    expect(await chargesWithAmount(amount)).toBe(1);
  });

  it('a lost refund answer: the retry finds the refund by its handle', async () => {
    const charge = await paidCharge(40_000);
    const input = { chargeId: charge.id, amount: 500, idempotencyKey: 'lost-refund' };
    // Drop only the refund POST: the charge read before it must succeed, so fault after reading it.
    const createRefund: OmiseApi['createRefund'] = async (id, params) => {
      sim.faults.set({ dropRate: 1, dropAfterProcessing: true });
      try {
        return await omise.createRefund(id, params);
      } finally {
        sim.faults.reset();
      }
    };
    const flaky = new Proxy(omise, {
      get(target, prop) {
        if (prop === 'createRefund') return createRefund;
        const member: unknown = Reflect.get(target, prop, target);
        return typeof member === 'function' ? (member as (...a: unknown[]) => unknown).bind(target) : member;
      },
    }) as OmiseApi;
    const flakyPayments = service({ omise: flaky });
    await expect(flakyPayments.refundCharge(input)).rejects.toBeInstanceOf(UpstreamUnavailableError);
    expect((await omise.listRefunds(charge.id)).total).toBe(1);
    const retried = value(await payments.refundCharge(input));
    expect(retried.refund.amount).toBe(500);
    expect(retried.charge.refundedAmount).toBe(500);
    expect((await omise.listRefunds(charge.id)).total).toBe(1);
  });
  it('the refund is made but the charge re-read after it fails: reported as made, never as a failure', async () => {
    const charge = await paidCharge(40_000);
    // Fail every call after the refund POST (the re-read of the charge).
    const createRefund: OmiseApi['createRefund'] = async (id, params) => {
      const made = await omise.createRefund(id, params);
      sim.faults.set({ errorRate: 1 });
      return made;
    };
    const flaky = new Proxy(omise, {
      get(target, prop) {
        if (prop === 'createRefund') return createRefund;
        const member: unknown = Reflect.get(target, prop, target);
        return typeof member === 'function' ? (member as (...a: unknown[]) => unknown).bind(target) : member;
      },
    }) as OmiseApi;
    let outcome;
    try {
      outcome = value(await service({ omise: flaky }).refundCharge({ chargeId: charge.id, amount: 700 }));
    } finally {
      sim.faults.reset();
    }
    expect(outcome.refund.amount).toBe(700);
    expect(outcome.charge.id).toBe(charge.id);
    expect(outcome.charge.refundedAmount).toBe(700);
    expect(outcome.charge.refunds.map((r) => r.id)).toContain(outcome.refund.id);
    expect((await omise.listRefunds(charge.id)).total).toBe(1);
  });
});

describe('the ledger of money-moving calls', () => {
  it('records who did what, with which key and request, and how it ended (replays and failures too)', async () => {
    const ledger = new MemoryMoneyLedger();
    const audited = service({ ledger });
    const who = { principal: 'service:backoffice', requestId: 'req-1' };
    const charge = value(await audited.createTrueMoneyCharge({ amount: 20_000, currency: 'THB' }, who));
    value(await audited.simulateChargeOutcome({ chargeId: charge.id, outcome: 'SUCCESSFUL' }, who));
    const refundInput = { chargeId: charge.id, amount: 700, idempotencyKey: 'ledger-refund' };
    const refund = value(await audited.refundCharge(refundInput, who)).refund;
    value(await audited.refundCharge(refundInput, { ...who, requestId: 'req-2' }));
    expect(codes(await audited.refundCharge({ chargeId: charge.id, amount: 999_999 }, who))).toEqual([
      'REFUND_EXCEEDS_REMAINING',
    ]);
    const rows = await ledger.recent({ chargeId: charge.id });
    expect(rows.map((r) => [r.operation, r.outcome, r.amount, r.refundId ?? null, r.requestId])).toEqual([
      ['refund', 'rejected', 999_999, null, 'req-1'],
      ['refund', 'replayed', 700, refund.id, 'req-2'],
      ['refund', 'succeeded', 700, refund.id, 'req-1'],
      ['simulate', 'succeeded', 20_000, null, 'req-1'],
      ['create', 'succeeded', 20_000, null, 'req-1'],
    ]);
    expect(rows.every((r) => r.actor === 'service:backoffice' && r.finishedAt instanceof Date)).toBe(true);
    expect(rows[1]?.idempotencyKey).toBe('ledger-refund');

    sim.faults.set({ errorRate: 1 });
    try {
      await expect(
        audited.createTrueMoneyCharge({ amount: 20_100, currency: 'THB', idempotencyKey: 'ledger-5xx' }, who),
      ).rejects.toBeInstanceOf(UpstreamUnavailableError);
    } finally {
      sim.faults.reset();
    }
    const [failed] = await ledger.recent({ limit: 1 });
    expect(failed).toMatchObject({
      operation: 'create',
      outcome: 'uncertain',
      errorCode: 'UPSTREAM_UNAVAILABLE',
    });
  });

  it('a ledger that cannot be written: nothing is sent to Omise, a retryable error', async () => {
    const ledger = new MemoryMoneyLedger();
    ledger.start = async () => {
      throw new Error('database unavailable');
    };
    const amount = uniqueAmount();
    await expect(
      service({ ledger }).createTrueMoneyCharge({ amount, currency: 'THB', idempotencyKey: 'no-ledger' }),
    ).rejects.toBeInstanceOf(UpstreamUnavailableError);
    expect(await chargesWithAmount(amount)).toBe(0);
  });
});

describe('system failures', () => {
  it('5xx → UpstreamUnavailableError, 429 → UpstreamRateLimitedError, with safe messages', async () => {
    const id = (await paidCharge()).id;
    sim.faults.set({ errorRate: 1 });
    try {
      // Another instance's service: the charge is not in its charge cache, so it asks Omise.
      const err = await service()
        .getCharge(id)
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UpstreamUnavailableError);
      expect((err as Error).message).not.toMatch(/skey|pkey|chrg_|\/charges/);
      await expect(
        payments.createTrueMoneyCharge({ amount: uniqueAmount(), currency: 'THB' }),
      ).rejects.toBeInstanceOf(UpstreamUnavailableError);
    } finally {
      sim.faults.reset();
    }
    sim.faults.set({ rateLimitRate: 1, retryAfterSeconds: 3 });
    try {
      const err = await payments.listCharges({ first: 1 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UpstreamRateLimitedError);
      expect((err as UpstreamRateLimitedError).retryAfterSeconds).toBe(3);
    } finally {
      sim.faults.reset();
    }
  });

  it('Omise unreachable → UpstreamUnavailableError', async () => {
    const closed = await startSimulator();
    const url = closed.url;
    await closed.close();
    const offline = createPaymentsService({
      omise: new OmiseClient({ baseUrl: url, secretKey: sim.secretKey, maxAttempts: 1 }),
      kv,
      mode: 'simulator',
      idempotencyTtlMs: DAY_MS,
    });
    await expect(offline.getCharge('chrg_test_0000000000000000000')).rejects.toBeInstanceOf(
      UpstreamUnavailableError,
    );
  });
});
