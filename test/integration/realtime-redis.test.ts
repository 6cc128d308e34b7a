import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { CreateTrueMoneyChargeDocument, SimulateChargeOutcomeDocument } from '../generated/operations.js';
import { signWebhook } from '../../src/omise/webhook-signature.js';
import { freePort, PrivateRedisServer } from '../realtime/private-redis-server.js';
import { uniquePrefix, waitFor } from '../realtime/helpers.js';
import { dataOf, startHarness, type Harness } from './support/harness.js';
import { subscribeToChargeStatus } from './support/ws-client.js';

/**
 * The gateway on a private redis-server that the test kills and restarts: readiness follows Redis,
 * webhooks answer 5xx while it is down, and subscriptions work again once it is back.
 */

const webhookSecret = randomBytes(32).toString('base64');
let redis: PrivateRedisServer;
let h: Harness;

beforeAll(async () => {
  redis = new PrivateRedisServer(await freePort());
  await redis.start();
  h = await startHarness({
    simulator: { webhookSecret },
    env: {
      OMISE_WEBHOOK_SECRET: webhookSecret,
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: uniquePrefix(),
      RECONCILE_INTERVAL_SECONDS: '3600',
    },
    overrides: { readinessTimeoutMs: 1000 },
  });
  h.sim.setWebhookUrls([`${h.gateway.origin}/webhooks/omise`]);
});
afterAll(async () => {
  await h?.close();
  await redis?.kill();
});

async function readiness(): Promise<{ status: number; body: { checks: Record<string, string> } }> {
  const response = await h.http('/readyz');
  return { status: response.status, body: (await response.json()) as { checks: Record<string, string> } };
}

function signedEvent(chargeId: string) {
  const body = JSON.stringify({
    object: 'event',
    id: `evnt_test_${randomBytes(8).toString('hex')}`,
    key: 'charge.complete',
    data: { object: 'charge', id: chargeId },
  });
  const timestamp = Math.floor(Date.now() / 1000);
  return {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'omise-signature': signWebhook(webhookSecret, timestamp, body),
      'omise-signature-timestamp': String(timestamp),
    },
    body,
  };
}

describe('gateway on Redis that goes away and comes back', () => {
  it('is ready, then not ready (webhooks 503) while Redis is down, then ready; an open subscription still gets the outcome', async () => {
    expect(await readiness()).toMatchObject({
      status: 200,
      body: { checks: { keyValueStore: 'ok', pubSub: 'ok' } },
    });
    const created = await h.gql(CreateTrueMoneyChargeDocument, { input: { amount: 12_300 } });
    const chargeId = dataOf(created).createTrueMoneyCharge.charge!.id;
    const other = await h.gql(CreateTrueMoneyChargeDocument, { input: { amount: 12_500 } });
    const otherId = dataOf(other).createTrueMoneyCharge.charge!.id;
    // Subscribed before the outage: the gateway must subscribe to the topic again by itself.
    const sub = subscribeToChargeStatus(h.gateway.url, chargeId);
    try {
      await sub.received(1);

      await redis.kill();
      const down = await readiness();
      expect(down.status).toBe(503);
      expect(down.body.checks.keyValueStore).not.toBe('ok');
      expect(down.body.checks.pubSub).not.toBe('ok');
      const webhook = await h.http('/webhooks/omise', signedEvent(chargeId));
      expect(webhook.status).toBe(503);
      await webhook.arrayBuffer();
      // Idempotency records live in the durable store (memory here, PostgreSQL in production), not in
      // Redis: money-moving calls go on while Redis is down.
      const mutation = await h.gql(CreateTrueMoneyChargeDocument, {
        input: { amount: 12_400, idempotencyKey: 'during-redis-outage' },
      });
      expect(dataOf(mutation).createTrueMoneyCharge.charge?.amount).toBe(12_400);
      // A charge nobody here watches needs a new topic subscription, which Redis cannot give now.
      const refused = subscribeToChargeStatus(h.gateway.url, otherId);
      await refused.ended;
      expect(refused.errors.map((e) => e.extensions?.code)).toEqual(['UPSTREAM_UNAVAILABLE']);
      await refused.close();
      // One more subscriber of the watched charge shares its topic subscription: it gets the current
      // state now and the outcome once Redis is back, like the first one.
      const late = subscribeToChargeStatus(h.gateway.url, chargeId);
      await late.received(1);

      await redis.start();
      // Ready again means both connections answer a PING, which the subscriber connection sends after
      // its SUBSCRIBEs (the adapter resubscribes on 'ready').
      await waitFor(async () => (await readiness()).status === 200, 15_000);

      const outcome = await h.gql(SimulateChargeOutcomeDocument, {
        input: { chargeId, outcome: 'SUCCESSFUL' },
      });
      expect(dataOf(outcome).simulateChargeOutcome.userErrors).toEqual([]);
      expect(await sub.ended).toBe('complete');
      expect(sub.events.map((e) => e.status)).toEqual(['PENDING', 'SUCCESSFUL']);
      expect(await late.ended).toBe('complete');
      expect(late.events.map((e) => e.status)).toEqual(['PENDING', 'SUCCESSFUL']);
      await late.close();
    } finally {
      await sub.close();
    }
  });
});
