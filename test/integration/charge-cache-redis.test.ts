import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { print } from 'graphql';
import { loadConfig } from '../../src/config/config.js';
import { OmiseClient } from '../../src/omise/client.js';
import { createLogger } from '../../src/server/logger.js';
import { startGateway, type RunningGateway } from '../../src/server/gateway.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/index.js';
import {
  ChargeDocument,
  CreateTrueMoneyChargeDocument,
  RefundChargeDocument,
} from '../generated/operations.js';
import { countingFetch } from '../status-feed/support/harness.js';

/**
 * Two gateway instances sharing the real Redis in front of one simulator: the charge cache's rules
 * across instances. Omise's webhooks reach instance A only; B learns through Redis.
 */

interface Instance {
  gateway: RunningGateway;
  /** GETs of one charge this instance sent to Omise. */
  gets(chargeId: string): number;
  gql<T>(document: { kind: 'Document' }, variables: Record<string, unknown>): Promise<T>;
}

let sim: RunningSimulator;
let admin: OmiseClient;
let a: Instance;
let b: Instance;

async function startInstance(keyPrefix: string): Promise<Instance> {
  const counting = countingFetch();
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    OMISE_SECRET_KEY: sim.secretKey,
    OMISE_PUBLIC_KEY: sim.publicKey,
    OMISE_API_URL: sim.url,
    REDIS_URL: 'redis://127.0.0.1:6379',
    REDIS_KEY_PREFIX: keyPrefix,
    // Long, so that only webhooks, mutations and Redis can make a pending charge change here.
    CHARGE_CACHE_PENDING_TTL_MS: '600000',
  });
  const omise = new OmiseClient({
    baseUrl: sim.url,
    secretKey: sim.secretKey,
    publicKey: sim.publicKey,
    maxAttempts: 1,
    fetch: counting.fetch,
  });
  const gateway = await startGateway(config, { omise, logger: createLogger({ level: 'silent' }) });
  return {
    gateway,
    gets: (id) => counting.calls().filter((c) => c === `GET /charges/${id}`).length,
    async gql<T>(document: { kind: 'Document' }, variables: Record<string, unknown>): Promise<T> {
      const response = await fetch(gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: print(document as never), variables }),
      });
      const body = (await response.json()) as { data?: T; errors?: unknown[] };
      if (body.errors || !body.data) throw new Error(JSON.stringify(body));
      return body.data;
    },
  };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

type ChargeData = { charge: { status: string; refundedAmount: number } | null };
const read = (instance: Instance, id: string) => instance.gql<ChargeData>(ChargeDocument, { id });

beforeAll(async () => {
  sim = await startSimulator();
  admin = new OmiseClient({ baseUrl: sim.url, secretKey: sim.secretKey, maxAttempts: 1 });
  const keyPrefix = `tmgw-test:${randomUUID()}:`;
  a = await startInstance(keyPrefix);
  b = await startInstance(keyPrefix);
  sim.setWebhookUrls([`${a.gateway.origin}/webhooks/omise`]);
});
afterAll(async () => {
  await a?.gateway.close();
  await b?.gateway.close();
  await sim?.close();
});

describe('charge cache across instances (Redis)', () => {
  it('a webhook received by A updates the cache of B, which then answers without asking Omise', async () => {
    const created = await admin.createCharge({
      amount: 31_000,
      currency: 'THB',
      source: { type: 'truemoney_qr' },
    });
    await sim.waitForIdle(10_000);
    // charge.create reached A, which re-fetched the charge and handed it to B over Redis.
    expect((await read(b, created.id)).charge?.status).toBe('PENDING');
    expect(b.gets(created.id)).toBe(0);

    await admin.markChargeAsPaid(created.id); // → charge.complete delivered to A only
    await until(
      () => b.gateway.payments.charges.cache.fresh(created.id)?.charge.status === 'SUCCESSFUL',
      'the paid state to reach B over Redis',
    );
    expect((await read(b, created.id)).charge?.status).toBe('SUCCESSFUL');
    expect(b.gets(created.id)).toBe(0);
    expect(a.gets(created.id)).toBe(2); // A re-fetched once per webhook
  });

  it('read-your-writes: a refund answered by A is in the very next read on B', async () => {
    const created = await a.gql<{ createTrueMoneyCharge: { charge: { id: string } } }>(
      CreateTrueMoneyChargeDocument,
      { input: { amount: 32_000 } },
    );
    const id = created.createTrueMoneyCharge.charge.id;
    await admin.markChargeAsPaid(id);
    await until(
      () => b.gateway.payments.charges.cache.fresh(id)?.charge.status === 'SUCCESSFUL',
      'the paid state to reach B',
    );
    expect((await read(b, id)).charge).toMatchObject({ status: 'SUCCESSFUL', refundedAmount: 0 });

    await a.gql(RefundChargeDocument, { input: { chargeId: id, amount: 5_000 } });
    // No waiting: A raised the charge's shared version before it answered.
    expect((await read(b, id)).charge?.refundedAmount).toBe(5_000);
    expect((await read(a, id)).charge?.refundedAmount).toBe(5_000);
  });

  it('a refund made at Omise directly (refund.create webhook) reaches the cached paid charge on both', async () => {
    const { id } = await admin.createCharge({
      amount: 33_000,
      currency: 'THB',
      source: { type: 'truemoney_qr' },
    });
    await admin.markChargeAsPaid(id);
    await sim.waitForIdle(10_000);
    expect((await read(a, id)).charge?.refundedAmount).toBe(0);
    expect((await read(b, id)).charge?.refundedAmount).toBe(0);

    await admin.createRefund(id, { amount: 7_000 });
    await sim.waitForIdle(10_000);
    expect((await read(a, id)).charge?.refundedAmount).toBe(7_000);
    expect((await read(b, id)).charge?.refundedAmount).toBe(7_000);
  });
});
