import { OmiseClient } from '../../src/omise/client.js';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';
import {
  ChargeDocument,
  ChargeQrImageDocument,
  ChargeThreeTimesDocument,
  ChargesDocument,
  CreateTrueMoneyChargeDocument,
  RefundChargeDocument,
  SimulateChargeOutcomeDocument,
  VoidChargeDocument,
  type ChargesQuery,
  type CreateTrueMoneyChargeInput,
} from '../generated/operations.js';
import { createTestDatabase } from '../persistence/test-database.js';
import { dataOf, startHarness, type Harness } from './support/harness.js';
import { wsFirstResult } from './support/ws-auth.js';

// jsqr is CommonJS: under NodeNext its default import is module.exports, whose `default` is the function.
const jsQR = jsQRModule.default;

/** Every query and mutation over real HTTP: gateway → real Omise client → real simulator. */

const DAY_MS = 24 * 60 * 60 * 1000;
let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

/** A distinct amount per charge, so that charges can be told apart in the shared simulator. */
let nextAmount = 20_000;
const uniqueAmount = () => (nextAmount += 100);

async function create(input: Partial<CreateTrueMoneyChargeInput> = {}) {
  const response = await h.gql(CreateTrueMoneyChargeDocument, {
    input: { amount: uniqueAmount(), ...input },
  });
  return dataOf(response).createTrueMoneyCharge;
}

async function createCharge(input: Partial<CreateTrueMoneyChargeInput> = {}) {
  const payload = await create(input);
  expect(payload.userErrors).toEqual([]);
  return payload.charge!;
}

async function paidCharge(amount = uniqueAmount()) {
  const charge = await createCharge({ amount });
  const paid = dataOf(
    await h.gql(SimulateChargeOutcomeDocument, { input: { chargeId: charge.id, outcome: 'SUCCESSFUL' } }),
  ).simulateChargeOutcome;
  expect(paid.userErrors).toEqual([]);
  return paid.charge!;
}

const codesOf = (payload: { userErrors: { code: string }[] }) => payload.userErrors.map((e) => e.code).sort();

/** Charges the simulator holds with this amount (its own list, not the gateway's). */
async function simulatorChargesWithAmount(amount: number): Promise<number> {
  const response = await fetch(`${h.sim.url}/charges?limit=100&order=reverse_chronological`, {
    headers: { authorization: `Basic ${Buffer.from(`${h.sim.secretKey}:`).toString('base64')}` },
  });
  const list = (await response.json()) as { data: { amount: number }[] };
  return list.data.filter((c) => c.amount === amount).length;
}

describe('createTrueMoneyCharge', () => {
  it('creates a pending charge with a QR code; currency defaults to THB; returns a clientToken', async () => {
    const amount = uniqueAmount();
    const payload = await create({
      amount,
      description: 'Order 42',
      metadata: { orderId: '42', items: [1, 2] },
      returnUri: 'https://shop.example/orders/42',
    });
    expect(payload.userErrors).toEqual([]);
    expect(payload.clientToken).toMatch(/^ctok_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(payload.charge).toMatchObject({
      status: 'PENDING',
      amount,
      currency: 'THB',
      sourceType: 'truemoney_qr',
      description: 'Order 42',
      metadata: { orderId: '42', items: [1, 2] },
      returnUri: 'https://shop.example/orders/42',
      paid: false,
      paidAt: null,
      refundedAmount: 0,
      refundable: false,
      voidable: false,
      voided: false,
      refunds: [],
      livemode: false,
    });
    const charge = payload.charge!;
    expect(charge.id).toMatch(/^chrg_test_/);
    expect(charge.qrCode?.imageUrl).toMatch(new RegExp(`^${h.sim.url}/`));
    expect(new Date(charge.createdAt).toISOString()).toBe(charge.createdAt);
    expect(charge.qrCode?.expiresAt).toBe(charge.expiresAt);
  });

  it('charges a source made client-side once; SOURCE_* errors for the rest', async () => {
    const amount = uniqueAmount();
    const response = await fetch(`${h.sim.url}/sources`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${h.sim.publicKey}:`).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ type: 'truemoney_qr', amount, currency: 'THB' }),
    });
    const source = (await response.json()) as { id: string };
    expect(codesOf(await create({ amount: amount + 1, sourceId: source.id }))).toEqual([
      'SOURCE_AMOUNT_MISMATCH',
    ]);
    const charge = await createCharge({ amount, sourceId: source.id });
    expect(charge.sourceType).toBe('truemoney_qr');
    expect(codesOf(await create({ amount, sourceId: source.id }))).toEqual(['SOURCE_ALREADY_USED']);
    expect(codesOf(await create({ amount, sourceId: 'src_test_0000000000000000000' }))).toEqual([
      'SOURCE_NOT_FOUND',
    ]);
    expect(await simulatorChargesWithAmount(amount)).toBe(1);
  });

  it('returns every input problem as a userError with its field, and no charge', async () => {
    const payload = await create({
      amount: 9_999,
      returnUri: 'ftp://x',
      description: 'd'.repeat(256),
      metadata: { gateway_idempotency_key: 'mine' },
      idempotencyKey: '',
    });
    expect(payload.charge).toBeNull();
    expect(codesOf(payload)).toEqual([
      'AMOUNT_OUT_OF_RANGE',
      'INVALID_DESCRIPTION',
      'INVALID_IDEMPOTENCY_KEY',
      'INVALID_METADATA',
      'INVALID_RETURN_URI',
    ]);
    expect(payload.userErrors.find((e) => e.code === 'AMOUNT_OUT_OF_RANGE')?.field).toEqual([
      'input',
      'amount',
    ]);
    const big = await create({
      amount: 5_000_001,
      metadata: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i])),
    });
    expect(codesOf(big)).toEqual(['AMOUNT_OUT_OF_RANGE', 'METADATA_TOO_LARGE']);
    expect(await simulatorChargesWithAmount(9_999)).toBe(0);
  });

  it("reports what Omise refuses that the gateway does not foresee as OMISE_REJECTED with Omise's reason", async () => {
    const payload = await create({ returnUri: `https://shop.example/${'a'.repeat(2010)}` });
    expect(codesOf(payload)).toEqual(['OMISE_REJECTED']);
    expect(payload.userErrors[0]?.message).toMatch(/return_uri/);
  });

  it('same idempotencyKey + same input → the first charge; other input → IDEMPOTENCY_KEY_REUSED', async () => {
    const amount = uniqueAmount();
    const input = { amount, metadata: { order: 'B' }, idempotencyKey: `order-B-${amount}` };
    const first = await createCharge(input);
    const replay = await createCharge(input);
    expect(replay).toEqual(first);
    expect(codesOf(await create({ ...input, amount: amount + 1 }))).toEqual(['IDEMPOTENCY_KEY_REUSED']);
    expect(await simulatorChargesWithAmount(amount)).toBe(1);
  });

  it('20 concurrent identical requests with one idempotencyKey → exactly one Omise charge', async () => {
    const amount = uniqueAmount();
    const input = { amount, idempotencyKey: `concurrent-${amount}` };
    const payloads = await Promise.all(
      Array.from({ length: 20 }, () => h.gql(CreateTrueMoneyChargeDocument, { input })),
    );
    const ids = new Set(payloads.map((p) => dataOf(p).createTrueMoneyCharge.charge?.id));
    expect([...ids]).toHaveLength(1);
    expect([...ids][0]).toMatch(/^chrg_test_/);
    expect(await simulatorChargesWithAmount(amount)).toBe(1);
  });
});

describe('charge(id)', () => {
  it('reads a charge; null for an unknown id', async () => {
    const created = await createCharge();
    expect(dataOf(await h.gql(ChargeDocument, { id: created.id })).charge).toEqual(created);
    expect(dataOf(await h.gql(ChargeDocument, { id: 'chrg_test_0000000000000000000' })).charge).toBeNull();
    expect(dataOf(await h.gql(ChargeDocument, { id: 'not-an-id' })).charge).toBeNull();
  });

  it('the same charge aliased three times costs one Omise GET; the next read none (charge cache)', async () => {
    // Made and paid at Omise directly, so that this gateway has never seen it.
    const admin = new OmiseClient({ baseUrl: h.sim.url, secretKey: h.sim.secretKey, maxAttempts: 1 });
    const { id } = await admin.createCharge({
      amount: 12_300,
      currency: 'THB',
      source: { type: 'truemoney_qr' },
    });
    await admin.markChargeAsPaid(id);
    const gets = () => h.omiseRequests.filter((r) => r.method === 'GET' && r.path === `/charges/${id}`);
    const data = dataOf(await h.gql(ChargeThreeTimesDocument, { id }));
    expect([data.a?.id, data.b?.id, data.c?.id]).toEqual([id, id, id]);
    expect(gets()).toHaveLength(1);
    // A paid charge stays in the charge cache: the next operation does not ask Omise again.
    expect(dataOf(await h.gql(ChargeDocument, { id })).charge?.status).toBe('SUCCESSFUL');
    expect(gets()).toHaveLength(1);
  });

  it('a charge this gateway created is read back from the charge cache, without asking Omise', async () => {
    const created = await createCharge();
    const before = h.omiseRequests.length;
    expect(dataOf(await h.gql(ChargeDocument, { id: created.id })).charge).toEqual(created);
    expect(h.omiseRequests.slice(before)).toEqual([]);
  });

  it('qrCode.imageDataUri is the QR PNG, fetched only when asked for', async () => {
    const { id } = await createCharge();
    const before = h.omiseRequests.length;
    await h.gql(ChargeDocument, { id }); // imageUrl only
    expect(h.omiseRequests.slice(before).some((r) => r.path.includes('/documents/'))).toBe(false);

    const data = dataOf(await h.gql(ChargeQrImageDocument, { id }));
    const dataUri = data.charge?.qrCode?.imageDataUri ?? '';
    expect(dataUri.startsWith('data:image/png;base64,')).toBe(true);
    const png = PNG.sync.read(Buffer.from(dataUri.slice('data:image/png;base64,'.length), 'base64'));
    const qr = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
    expect(qr?.data).toEqual(expect.any(String));
    expect(qr!.data.length).toBeGreaterThan(10);
  });
});

describe('charges', () => {
  it('cursors anchor on the last charge seen: charges created between reads shift nothing (HTTP and WebSocket)', async () => {
    const own = await startHarness();
    try {
      const create = async () =>
        dataOf(await own.gql(CreateTrueMoneyChargeDocument, { input: { amount: 10_000 } }))
          .createTrueMoneyCharge.charge!.id;
      const older: string[] = [];
      for (let i = 0; i < 6; i++) {
        older.unshift(await create());
        if (i % 2 === 1) await own.sim.clock.advance(1000); // two charges per second: ties
      }
      const PAGE =
        'query($after: String) { charges(first: 2, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } totalCount } }';
      type Page = {
        charges: {
          edges: { node: { id: string } }[];
          pageInfo: { hasNextPage: boolean; endCursor: string | null };
          totalCount: number;
        };
      };
      const seen: string[] = [];
      let after: string | null = null;
      for (let page = 0; page < 10; page++) {
        // Alternate the transports: the cursors are the same on both.
        let charges: Page['charges'];
        if (page % 2 === 0) {
          const response = await own.http('/graphql', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ query: PAGE, variables: { after } }),
          });
          charges = ((await response.json()) as { data: Page }).data.charges;
        } else {
          const ws = await wsFirstResult(own.gateway.url, undefined, PAGE, { after });
          if (ws.kind !== 'data') throw new Error(JSON.stringify(ws));
          charges = (ws.data as Page).charges;
        }
        seen.push(...charges.edges.map((e) => e.node.id));
        // A charge is created between every two reads; totalCount counts it.
        expect(charges.totalCount).toBe(6 + page);
        await create();
        if (!charges.pageInfo.hasNextPage) break;
        after = charges.pageInfo.endCursor;
      }
      // Each of the six charges that existed at the first read, once, newest first; none created later.
      expect(seen).toEqual(older);

      // The Omise call economy: a page is one list call; totalCount after the first page one more,
      // only when asked for.
      const listCalls = () =>
        own.omiseRequests.filter((r) => r.method === 'GET' && r.path === '/charges').length;
      const firstPage = dataOf(await own.gql(ChargesDocument, { first: 2 })).charges;
      const before = listCalls();
      const LEAN = 'query($after: String) { charges(first: 2, after: $after) { edges { node { id } } } }';
      const lean = await own.http('/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: LEAN, variables: { after: firstPage.pageInfo.endCursor } }),
      });
      expect(lean.status).toBe(200);
      await lean.arrayBuffer();
      expect(listCalls() - before).toBe(1);
      await own.gql(ChargesDocument, { first: 2, after: firstPage.pageInfo.endCursor });
      expect(listCalls() - before).toBe(3);
    } finally {
      await own.close();
    }
  });

  it('pages through more than one page with Relay cursors; from/to filter; bad paging is BAD_USER_INPUT', async () => {
    // A gateway and simulator of its own, so that the list holds exactly these charges.
    const own = await startHarness();
    try {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const response = await own.gql(CreateTrueMoneyChargeDocument, { input: { amount: 10_000 + i } });
        ids.push(dataOf(response).createTrueMoneyCharge.charge!.id);
        await own.sim.clock.advance(1000); // distinct creation times
      }
      const seen: string[] = [];
      let after: string | null = null;
      let pages = 0;
      for (;;) {
        const page: ChargesQuery['charges'] = dataOf(
          await own.gql(ChargesDocument, { first: 2, after }),
        ).charges;
        expect(page.totalCount).toBe(5);
        seen.push(...page.edges.map((e) => e.node.id));
        pages += 1;
        if (!page.pageInfo.hasNextPage) break;
        expect(page.pageInfo.endCursor).toBe(page.edges.at(-1)?.cursor);
        after = page.pageInfo.endCursor;
      }
      expect(pages).toBe(3);
      expect(seen).toEqual([...ids].reverse()); // newest first, each once

      const all = dataOf(await own.gql(ChargesDocument, {})).charges; // first defaults to 20
      expect(all.edges).toHaveLength(5);
      const created = all.edges.map((e) => e.node.createdAt).reverse();
      const window = dataOf(await own.gql(ChargesDocument, { from: created[1], to: created[3] })).charges;
      expect(window.edges.map((e) => e.node.id)).toEqual([ids[3], ids[2], ids[1]]);

      for (const variables of [{ first: 0 }, { first: 101 }, { first: 2, after: 'garbage' }]) {
        const bad = await own.gql(ChargesDocument, variables);
        expect(bad.body.data).toBeNull();
        expect(bad.body.errors?.[0]?.extensions).toMatchObject({
          code: 'BAD_USER_INPUT',
          userErrorCode: 'INVALID_PAGINATION',
        });
      }
    } finally {
      await own.close();
    }
  });
});

describe('simulateChargeOutcome', () => {
  it('completes a pending charge as SUCCESSFUL or FAILED once; CHARGE_NOT_PENDING, CHARGE_NOT_FOUND', async () => {
    const paid = await paidCharge();
    expect(paid).toMatchObject({ status: 'SUCCESSFUL', paid: true, refundable: true, voidable: true });
    const again = dataOf(
      await h.gql(SimulateChargeOutcomeDocument, { input: { chargeId: paid.id, outcome: 'FAILED' } }),
    ).simulateChargeOutcome;
    expect(again.charge).toBeNull();
    expect(codesOf(again)).toEqual(['CHARGE_NOT_PENDING']);

    const pending = await createCharge();
    const failed = dataOf(
      await h.gql(SimulateChargeOutcomeDocument, { input: { chargeId: pending.id, outcome: 'FAILED' } }),
    ).simulateChargeOutcome;
    expect(failed.charge).toMatchObject({ status: 'FAILED', paid: false, failureCode: 'failed_processing' });

    const unknown = dataOf(
      await h.gql(SimulateChargeOutcomeDocument, {
        input: { chargeId: 'chrg_test_0000000000000000000', outcome: 'SUCCESSFUL' },
      }),
    ).simulateChargeOutcome;
    expect(codesOf(unknown)).toEqual(['CHARGE_NOT_FOUND']);
  });

  it('is refused with live keys (NOT_TEST_MODE), without calling Omise', async () => {
    const db = await createTestDatabase();
    const live = await startHarness({
      env: {
        OMISE_SECRET_KEY: 'skey_5xlivekey000000000000',
        OMISE_PUBLIC_KEY: 'pkey_5xlivekey000000000000',
        GATEWAY_API_KEYS: JSON.stringify([{ name: 'ops', key: 'k'.repeat(32), scopes: ['test:simulate'] }]),
        OMISE_WEBHOOK_SECRET: Buffer.from('w'.repeat(32)).toString('base64'),
        GATEWAY_TOKEN_SECRET: 't'.repeat(32),
        DATABASE_URL: db.url,
      },
    });
    try {
      const before = live.omiseRequests.length;
      const payload = dataOf(
        await live.gql(
          SimulateChargeOutcomeDocument,
          { input: { chargeId: 'chrg_test_0000000000000000001', outcome: 'SUCCESSFUL' } },
          { authorization: `Bearer ${'k'.repeat(32)}` },
        ),
      ).simulateChargeOutcome;
      expect(codesOf(payload)).toEqual(['NOT_TEST_MODE']);
      expect(live.omiseRequests.length).toBe(before);
    } finally {
      await live.close();
      await db.drop();
    }
  });
});

describe('refundCharge and voidCharge', () => {
  it('refunds part, then the rest by default; refusals come back as userErrors', async () => {
    const charge = await paidCharge(100_000);
    const first = dataOf(
      await h.gql(RefundChargeDocument, {
        input: { chargeId: charge.id, amount: 30_000, metadata: { why: 'x' } },
      }),
    ).refundCharge;
    expect(first.userErrors).toEqual([]);
    expect(first.refund).toMatchObject({
      chargeId: charge.id,
      amount: 30_000,
      voided: false,
      metadata: { why: 'x' },
    });
    expect(first.charge).toMatchObject({ refundedAmount: 30_000, voidable: false });
    expect(first.charge?.refunds.map((r) => r.id)).toEqual([first.refund?.id]);

    const tooMuch = dataOf(
      await h.gql(RefundChargeDocument, { input: { chargeId: charge.id, amount: 70_001 } }),
    ).refundCharge;
    expect(tooMuch).toMatchObject({ refund: null, charge: null });
    expect(codesOf(tooMuch)).toEqual(['REFUND_EXCEEDS_REMAINING']);

    const rest = dataOf(await h.gql(RefundChargeDocument, { input: { chargeId: charge.id } })).refundCharge;
    expect(rest.refund?.amount).toBe(70_000);
    expect(rest.charge?.refundedAmount).toBe(100_000);

    const refuse = async (input: { chargeId: string; amount?: number }) =>
      codesOf(dataOf(await h.gql(RefundChargeDocument, { input })).refundCharge);
    expect(await refuse({ chargeId: charge.id, amount: 1 })).toEqual(['CHARGE_NOT_REFUNDABLE']);
    expect(await refuse({ chargeId: 'chrg_test_0000000000000000000' })).toEqual(['CHARGE_NOT_FOUND']);
    expect(await refuse({ chargeId: (await paidCharge()).id, amount: 0 })).toEqual(['INVALID_AMOUNT']);
  });

  it('voids on the day of payment; then CHARGE_NOT_VOIDABLE; a replayed void makes no second refund', async () => {
    const charge = await paidCharge();
    const input = { chargeId: charge.id, idempotencyKey: `void-${charge.id}` };
    const voided = dataOf(await h.gql(VoidChargeDocument, { input })).voidCharge;
    expect(voided.userErrors).toEqual([]);
    expect(voided.refund).toMatchObject({ amount: charge.amount, voided: true });
    expect(voided.charge).toMatchObject({ voided: true, refundedAmount: charge.amount, voidable: false });
    const replay = dataOf(await h.gql(VoidChargeDocument, { input })).voidCharge;
    expect(replay.refund?.id).toBe(voided.refund?.id);
    expect(replay.charge?.refunds).toHaveLength(1);

    const second = dataOf(await h.gql(VoidChargeDocument, { input: { chargeId: charge.id } })).voidCharge;
    expect(codesOf(second)).toEqual(['CHARGE_NOT_VOIDABLE']);
    const pending = await createCharge();
    expect(
      codesOf(dataOf(await h.gql(VoidChargeDocument, { input: { chargeId: pending.id } })).voidCharge),
    ).toEqual(['CHARGE_NOT_VOIDABLE']);
  });

  it('a replayed refund makes no second refund; the same key with another amount is IDEMPOTENCY_KEY_REUSED', async () => {
    const charge = await paidCharge(50_000);
    const input = { chargeId: charge.id, amount: 1000, idempotencyKey: `refund-${charge.id}` };
    const first = dataOf(await h.gql(RefundChargeDocument, { input })).refundCharge;
    const again = dataOf(await h.gql(RefundChargeDocument, { input })).refundCharge;
    expect(again.refund?.id).toBe(first.refund?.id);
    const read = dataOf(await h.gql(ChargeDocument, { id: charge.id })).charge;
    expect(read?.refunds).toHaveLength(1);
    const other = dataOf(
      await h.gql(RefundChargeDocument, { input: { ...input, amount: 2000 } }),
    ).refundCharge;
    expect(codesOf(other)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
  });

  it('at most 15 refunds per charge: TOO_MANY_REFUNDS', async () => {
    const charge = await paidCharge(10_000);
    for (let i = 0; i < 15; i++) {
      const r = dataOf(await h.gql(RefundChargeDocument, { input: { chargeId: charge.id, amount: 100 } }));
      expect(r.refundCharge.userErrors).toEqual([]);
    }
    const last = dataOf(await h.gql(RefundChargeDocument, { input: { chargeId: charge.id, amount: 100 } }));
    expect(codesOf(last.refundCharge)).toEqual(['TOO_MANY_REFUNDS']);
  });

  it('31 days after payment: REFUND_WINDOW_EXPIRED; an unpaid charge expires (EXPIRED)', async () => {
    const charge = await paidCharge();
    const pending = await createCharge();
    await h.sim.clock.advance(31 * DAY_MS);
    const late = dataOf(await h.gql(RefundChargeDocument, { input: { chargeId: charge.id, amount: 100 } }));
    expect(codesOf(late.refundCharge)).toEqual(['REFUND_WINDOW_EXPIRED']);
    const expired = dataOf(await h.gql(ChargeDocument, { id: pending.id })).charge;
    expect(expired?.status).toBe('EXPIRED');
    expect(expired?.expiredAt).toEqual(expect.any(String));
  });
});
