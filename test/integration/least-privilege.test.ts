import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  CreateTrueMoneyChargeDocument,
  RefundChargeDocument,
  SimulateChargeOutcomeDocument,
  VoidChargeDocument,
} from '../generated/operations.js';
import { dataOf, startHarness, type Harness } from './support/harness.js';
import { wsFirstResult } from './support/ws-auth.js';

/**
 * Nested fields need their own scope: a mutation's payload shows the charge only to a caller who may
 * read it. Over real HTTP and WebSocket against a real simulator.
 */

const key = (name: string) => `least-privilege-${name}-${'k'.repeat(20)}`;
const API_KEYS = [
  { name: 'setup', key: key('setup'), scopes: ['charges:create', 'test:simulate', 'charges:read'] },
  { name: 'refunder', key: key('refunder'), scopes: ['charges:refund'] },
  { name: 'voider', key: key('voider'), scopes: ['charges:void'] },
  { name: 'simulator', key: key('simulator'), scopes: ['test:simulate'] },
  { name: 'creator', key: key('creator'), scopes: ['charges:create'] },
  { name: 'back-office', key: key('back-office'), scopes: ['charges:refund', 'charges:read'] },
];
const as = (name: string) => ({ authorization: `Bearer ${key(name)}` });

const REFUND_WITH_CHARGE = `mutation($input: RefundChargeInput!) {
  refundCharge(input: $input) { refund { id amount } charge { id amount metadata } userErrors { code } }
}`;

let h: Harness;

async function paidCharge(): Promise<string> {
  const created = dataOf(
    await h.gql(
      CreateTrueMoneyChargeDocument,
      { input: { amount: 30_000, metadata: { order: 'secret-order-7' } } },
      as('setup'),
    ),
  ).createTrueMoneyCharge.charge!.id;
  dataOf(
    await h.gql(
      SimulateChargeOutcomeDocument,
      { input: { chargeId: created, outcome: 'SUCCESSFUL' } },
      as('setup'),
    ),
  );
  return created;
}

beforeAll(async () => {
  h = await startHarness({ env: { GATEWAY_API_KEYS: JSON.stringify(API_KEYS), RATE_LIMIT_PER_MINUTE: '0' } });
});
afterAll(async () => {
  await h?.close();
});

describe('a mutation payload shows the charge only to a caller who may read it', () => {
  it('a charges:refund-only key gets its refund and userErrors, not the charge (HTTP)', async () => {
    const chargeId = await paidCharge();
    const response = await h.gql(
      RefundChargeDocument,
      { input: { chargeId, amount: 10_000 } },
      as('refunder'),
    );
    expect(response.body.errors).toBeUndefined();
    const payload = response.body.data!.refundCharge;
    expect(payload.refund).toMatchObject({ chargeId, amount: 10_000 });
    expect(payload.userErrors).toEqual([]);
    expect(payload.charge).toBeNull();
    expect(JSON.stringify(response.body)).not.toContain('secret-order-7');

    // With charges:read as well, the same mutation shows the charge.
    const reader = await h.gql(
      RefundChargeDocument,
      { input: { chargeId, amount: 5_000 } },
      as('back-office'),
    );
    expect(reader.body.data?.refundCharge.charge).toMatchObject({
      id: chargeId,
      refundedAmount: 15_000,
      metadata: { order: 'secret-order-7' },
    });
  });

  it('the same over WebSocket', async () => {
    const chargeId = await paidCharge();
    const ws = await wsFirstResult(h.gateway.url, as('refunder').authorization, REFUND_WITH_CHARGE, {
      input: { chargeId, amount: 10_000 },
    });
    expect(ws).toEqual({
      kind: 'data',
      data: {
        refundCharge: { refund: { id: expect.any(String), amount: 10_000 }, charge: null, userErrors: [] },
      },
    });
  });

  it('voidCharge and simulateChargeOutcome follow the same rule; the creator sees what it created', async () => {
    const voided = await paidCharge();
    const voidPayload = dataOf(
      await h.gql(VoidChargeDocument, { input: { chargeId: voided } }, as('voider')),
    ).voidCharge;
    expect(voidPayload.refund).toMatchObject({ chargeId: voided, voided: true });
    expect(voidPayload.charge).toBeNull();

    const created = dataOf(
      await h.gql(CreateTrueMoneyChargeDocument, { input: { amount: 12_000 } }, as('creator')),
    ).createTrueMoneyCharge;
    // Everything in it is the creator's own input, or the new id, status and QR code to show.
    expect(created.charge).toMatchObject({ amount: 12_000, status: 'PENDING' });
    expect(created.charge?.qrCode?.imageUrl).toEqual(expect.any(String));

    const simulated = dataOf(
      await h.gql(
        SimulateChargeOutcomeDocument,
        { input: { chargeId: created.charge!.id, outcome: 'FAILED' } },
        as('simulator'),
      ),
    ).simulateChargeOutcome;
    expect(simulated).toEqual({ charge: null, userErrors: [] });
  });

  it('a business failure still reaches the caller without read scope (userErrors)', async () => {
    const response = await h.gql(
      RefundChargeDocument,
      { input: { chargeId: 'chrg_test_0000000000000000none', amount: 10_000 } },
      as('refunder'),
    );
    const payload = dataOf(response).refundCharge;
    expect(payload.charge).toBeNull();
    expect(payload.userErrors.map((e) => e.code)).toEqual(['CHARGE_NOT_FOUND']);
  });
});
