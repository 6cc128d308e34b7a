import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Phone, sleep, within } from './support/clients.js';
import { startCluster, type Cluster } from './support/cluster.js';

/**
 * Redis going away under real gateway processes (a private redis-server, SIGKILLed and started again,
 * empty): /readyz fails, webhooks answer 503 so that Omise delivers them again, open subscriptions
 * stay and resume, and the outcome that happened meanwhile still reaches the phone.
 */
async function readiness(origin: string): Promise<number> {
  const response = await fetch(`${origin}/readyz`).catch(() => undefined);
  await response?.arrayBuffer();
  return response?.status ?? 0;
}

async function until(check: () => Promise<boolean>, limitMs: number, what: string): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${limitMs} ms`);
    await sleep(100);
  }
}

describe('Redis down and back', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    // The poll is an hour away: only the webhook, delivered again by Omise, can bring the outcome.
    cluster = await startCluster({ instances: 2, reconcileIntervalSeconds: 3600, database: false });
  }, 90_000);
  afterAll(() => cluster?.close(), 30_000);

  it('fails /readyz, answers webhooks 503, keeps the subscription, and delivers the outcome once Redis is back', async () => {
    const [gateway, other] = cluster.gateways as [Cluster['gateways'][0], Cluster['gateways'][0]];
    // Webhooks reach A; the phone is on B: the outcome must cross Redis.
    await cluster.sim.call('PUT', '/_simulator/webhook-urls', { urls: [`${gateway.origin}/webhooks/omise`] });
    const created = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: 'mutation { createTrueMoneyCharge(input: {amount: 12345}) { charge { id } } }',
      }),
    });
    const chargeId = (
      (await created.json()) as { data: { createTrueMoneyCharge: { charge: { id: string } } } }
    ).data.createTrueMoneyCharge.charge.id;
    const phone = new Phone(chargeId, () => [other], 0);
    try {
      await until(async () => phone.events.length > 0, 10_000, 'first state');
      expect(phone.events.map((e) => e.status)).toEqual(['PENDING']);
      expect(await readiness(gateway.origin)).toBe(200);

      await cluster.redis.kill();
      await until(async () => (await readiness(gateway.origin)) === 503, 10_000, '/readyz 503 on A');
      await until(async () => (await readiness(other.origin)) === 503, 10_000, '/readyz 503 on B');

      // Omise has the outcome; its webhook cannot be recorded or published now: 503, delivered again later.
      await cluster.sim.call('POST', `/charges/${chargeId}/mark_as_paid`);
      await until(
        async () => {
          const log = await cluster.sim.call<{ data: { eventKey: string; status: number | null }[] }>(
            'GET',
            '/_simulator/deliveries',
          );
          return log.data.some((d) => d.eventKey === 'charge.complete' && d.status === 503);
        },
        10_000,
        'a webhook answered 503',
      );
      expect(phone.finished).toBe(false);

      await cluster.redis.start();
      await until(async () => (await readiness(gateway.origin)) === 200, 15_000, '/readyz 200 again on A');
      await until(async () => (await readiness(other.origin)) === 200, 15_000, '/readyz 200 again on B');
      // The simulator's retry of the webhook (1 s doubling) reaches A once Redis is back; A publishes
      // over Redis, and B's subscription (its Redis connection re-subscribed) gets the outcome.
      await within(phone.done, 40_000);
      expect(phone.events.map((e) => e.status)).toEqual(['PENDING', 'SUCCESSFUL']);
      // Still the one subscription: it was never ended and re-made.
      expect(phone.resubscribes).toBe(0);
      // And Omise's next delivery of the 503'd event is taken (200): nothing is left for it to retry.
      await until(
        async () => {
          const log = await cluster.sim.call<{ data: { eventKey: string; status: number | null }[] }>(
            'GET',
            '/_simulator/deliveries',
          );
          return log.data.some((d) => d.eventKey === 'charge.complete' && d.status === 200);
        },
        30_000,
        'the webhook delivered again and answered 200',
      );
    } finally {
      await phone.close();
    }
  }, 120_000);
});
