import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ChargeDocument, ChargesDocument, CreateTrueMoneyChargeDocument } from '../generated/operations.js';
import { dataOf, startHarness, type Harness } from './support/harness.js';
import { wsFirstResult } from './support/ws-auth.js';

/**
 * Every charge an Omise account can hold is readable: TrueMoney charges are THB, but the same account
 * may hold card charges in JPY, USD... (made here through the simulator's admin route, which stands for
 * another payment method of the account). Creation stays THB. A charge the gateway cannot represent
 * never makes a webhook fail in a loop.
 */

let h: Harness;

async function importForeignCharge(amount: number, currency: string): Promise<string> {
  const response = await fetch(`${h.sim.url}/_simulator/charges/foreign`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Basic ${Buffer.from(`${h.sim.secretKey}:`).toString('base64')}`,
    },
    body: JSON.stringify({ amount, currency }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { id: string }).id;
}

beforeAll(async () => {
  h = await startHarness({ env: { RATE_LIMIT_PER_MINUTE: '0' } });
  h.sim.setWebhookUrls([`${h.gateway.origin}/webhooks/omise`]);
});
afterAll(async () => {
  await h?.close();
});

describe('reading charges in any currency Omise supports', () => {
  it('a JPY charge reads with its amount in yen (exponent 0), over HTTP and WebSocket', async () => {
    const id = await importForeignCharge(1234, 'JPY');
    const charge = dataOf(await h.gql(ChargeDocument, { id })).charge;
    expect(charge).toMatchObject({ id, amount: 1234, currency: 'JPY', status: 'SUCCESSFUL' });
    const ws = await wsFirstResult(
      h.gateway.url,
      undefined,
      'query($id: ID!) { charge(id: $id) { amount currency } }',
      {
        id,
      },
    );
    expect(ws).toEqual({ kind: 'data', data: { charge: { amount: 1234, currency: 'JPY' } } });
  });

  it('a charges page mixing THB, USD and JPY charges reads whole', async () => {
    const thb = dataOf(await h.gql(CreateTrueMoneyChargeDocument, { input: { amount: 10_000 } }))
      .createTrueMoneyCharge.charge!.id;
    const usd = await importForeignCharge(1999, 'usd');
    const page = await h.gql(ChargesDocument, { first: 5 });
    expect(page.body.errors).toBeUndefined();
    const response = await h.http('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ charges(first: 5) { edges { node { id amount currency } } } }' }),
    });
    const body = (await response.json()) as {
      data: { charges: { edges: { node: { id: string; amount: number; currency: string } }[] } };
    };
    const nodes = body.data.charges.edges.map((e) => e.node);
    expect(nodes.find((n) => n.id === usd)).toMatchObject({ amount: 1999, currency: 'USD' });
    expect(nodes.find((n) => n.id === thb)).toMatchObject({ amount: 10_000, currency: 'THB' });
  });

  it('creating stays THB only: another currency is a userError, and nothing is created', async () => {
    const before = h.omiseRequests.filter((r) => r.method === 'POST').length;
    const payload = dataOf(
      await h.gql(CreateTrueMoneyChargeDocument, { input: { amount: 10_000, currency: 'JPY' } }),
    ).createTrueMoneyCharge;
    expect(payload.charge).toBeNull();
    expect(payload.userErrors.map((e) => e.code)).toEqual(['UNSUPPORTED_CURRENCY']);
    expect(h.omiseRequests.filter((r) => r.method === 'POST').length).toBe(before);
  });
});

describe('webhooks of charges the gateway cannot represent', () => {
  it('are acknowledged (200) and logged, never answered 5xx for Omise to redeliver for ever', async () => {
    await h.sim.waitForIdle(10_000);
    const before = h.sim.deliveries().length;
    const id = await importForeignCharge(500, 'XTS');
    await h.sim.waitForIdle(10_000);
    const deliveries = h.sim.deliveries().slice(before);
    expect(deliveries.map((d) => d.eventKey)).toEqual(['charge.complete']);
    expect(deliveries.every((d) => d.status === 200)).toBe(true);
    expect(
      h.logs.some(
        (l) =>
          l['chargeId'] === id &&
          l['msg'] === 'webhook acknowledged but not published: the gateway cannot represent this charge',
      ),
    ).toBe(true);
  });

  it('a webhook of a JPY charge is processed as any other', async () => {
    const id = await importForeignCharge(800, 'JPY');
    await h.sim.waitForIdle(10_000);
    expect(h.logs.some((l) => l['chargeId'] === id && l['msg'] === 'webhook processed')).toBe(true);
  });
});
