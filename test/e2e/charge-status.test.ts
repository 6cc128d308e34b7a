import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  CreateTrueMoneyChargeDocument,
  SimulateChargeOutcomeDocument,
  type PaymentOutcome,
} from '../generated/operations.js';
import { signWebhook } from '../../src/omise/webhook-signature.js';
import { subscribeToChargeStatus } from '../integration/support/ws-client.js';
import { startTopology, type Mode, type Topology } from './support/topology.js';

/**
 * End to end with real processes: the simulator CLI, and the gateway's `src/main.ts` (two instances on
 * Redis, or one in memory). Omise's webhook reaches A; the subscriber is on B.
 */

const MODES: Mode[] = ['redis-two-instances', 'memory-one-instance'];
const START_MS = 40_000;
const DAY_MS = 24 * 60 * 60 * 1000;

interface SimEvent {
  id: string;
  key: string;
}
interface Delivery {
  eventId: string;
  eventKey: string;
  url: string;
  status: number | null;
  outcome: 'delivered' | 'failed' | 'lost';
  duplicate: boolean;
}

let nextAmount = 40_000;

async function createCharge(t: Topology): Promise<string> {
  const data = await t.a.gql(CreateTrueMoneyChargeDocument, { input: { amount: (nextAmount += 100) } });
  expect(data.createTrueMoneyCharge.userErrors).toEqual([]);
  return data.createTrueMoneyCharge.charge!.id;
}

async function simulate(t: Topology, chargeId: string, outcome: PaymentOutcome): Promise<void> {
  const data = await t.a.gql(SimulateChargeOutcomeDocument, { input: { chargeId, outcome } });
  expect(data.simulateChargeOutcome.userErrors).toEqual([]);
}

async function eventsOf(t: Topology, chargeId: string): Promise<SimEvent[]> {
  const list = await t.sim.call<{ data: SimEvent[] }>('GET', `/charges/${chargeId}/events`);
  return list.data;
}

/** Every webhook attempt for the charge's events, once the simulator has nothing left to send. */
async function deliveriesOf(t: Topology, chargeId: string): Promise<Delivery[]> {
  const all = await t.sim.call<{ data: Delivery[] }>('POST', '/_simulator/deliveries/wait', {
    timeoutMs: 15_000,
  });
  const ids = new Set((await eventsOf(t, chargeId)).map((e) => e.id));
  return all.data.filter((d) => ids.has(d.eventId));
}

function logsAbout(process: Topology['a']['process'], msg: string, match: Record<string, unknown>) {
  return process
    .logs()
    .filter((line) => line.msg === msg && Object.entries(match).every(([k, v]) => line[k] === v));
}

function signedPost(secret: string, body: string, timestamp = Math.floor(Date.now() / 1000)): RequestInit {
  return {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'omise-signature': signWebhook(secret, timestamp, body),
      'omise-signature-timestamp': String(timestamp),
    },
    body,
  };
}

describe.each(MODES)('%s', (mode) => {
  describe('webhooks deliver the outcome (reconciliation poll every hour)', () => {
    let t: Topology;
    beforeAll(async () => {
      t = await startTopology(mode, { reconcileIntervalSeconds: 3600 });
    }, START_MS);
    afterAll(async () => {
      const codes = await t?.close();
      // SIGTERM: every process shuts down cleanly.
      if (codes) expect(Object.values(codes).every((code) => code === 0)).toBe(true);
    }, START_MS);

    it.each(['SUCCESSFUL', 'FAILED'] as const)(
      'a subscriber on B gets PENDING then %s, then completion, after the webhook reached A',
      async (outcome) => {
        const chargeId = await createCharge(t);
        const sub = subscribeToChargeStatus(t.b.url, chargeId);
        try {
          await sub.received(1);
          expect(sub.events[0]).toMatchObject({ chargeId, status: 'PENDING', terminal: false });
          await simulate(t, chargeId, outcome);
          expect(await sub.ended).toBe('complete');
          expect(sub.events.map((e) => e.status)).toEqual(['PENDING', outcome]);
          expect(sub.events[1]).toMatchObject({ terminal: true, charge: { id: chargeId } });
          expect(sub.errors).toEqual([]);
        } finally {
          await sub.close();
        }
        const delivered = (await deliveriesOf(t, chargeId)).filter((d) => d.status === 200);
        expect(delivered.map((d) => d.url)).toContain(`${t.a.origin}/webhooks/omise`);
        // A logs after publishing, and its stdout may reach us after B's subscriber has its events; the
        // line of the charge's earlier (pending) event may come first, so the status is part of the match.
        await t.a.process.waitFor(
          new RegExp(
            `^(?=[^\\n]*"chargeId":"${chargeId}")(?=[^\\n]*"status":"${outcome}")[^\\n]*"msg":"webhook processed"`,
            'm',
          ),
          10_000,
        );
        expect(logsAbout(t.a.process, 'webhook processed', { chargeId, status: outcome })).not.toEqual([]);
        if (t.b !== t.a) {
          // B never saw a webhook: the event crossed Redis.
          expect(logsAbout(t.b.process, 'webhook processed', { chargeId })).toEqual([]);
        }
      },
    );

    it('duplicate deliveries give the subscriber one event and are processed once', async () => {
      await t.sim.call('POST', '/_simulator/faults', { webhookDuplicateRate: 1 });
      try {
        const chargeId = await createCharge(t);
        const sub = subscribeToChargeStatus(t.b.url, chargeId);
        try {
          await sub.received(1);
          await simulate(t, chargeId, 'SUCCESSFUL');
          expect(await sub.ended).toBe('complete');
          expect(sub.events.map((e) => e.status)).toEqual(['PENDING', 'SUCCESSFUL']);
        } finally {
          await sub.close();
        }
        const deliveries = await deliveriesOf(t, chargeId);
        const complete = deliveries.filter((d) => d.eventKey === 'charge.complete');
        expect(complete.some((d) => d.duplicate)).toBe(true);
        expect(complete.filter((d) => d.status === 200).length).toBeGreaterThanOrEqual(2);
        const eventId = complete[0]!.eventId;
        // The gateway's stdout may reach us a little after the subscriber's last event: wait for the line.
        await t.a.process.waitFor(
          new RegExp(`"eventId":"${eventId}"[^\\n]*"msg":"webhook processed"`),
          10_000,
        );
        expect(logsAbout(t.a.process, 'webhook processed', { eventId })).toHaveLength(1);
      } finally {
        await t.sim.call('POST', '/_simulator/faults/reset');
      }
    });

    it('a forged or stale signature is 401 and publishes nothing; the genuine delivery does', async () => {
      await t.sim.call('POST', '/_simulator/faults', { webhooksEnabled: false });
      try {
        const chargeId = await createCharge(t);
        const sub = subscribeToChargeStatus(t.b.url, chargeId);
        try {
          await sub.received(1);
          // Omise has the outcome; its webhook is held back, so only the posts below can tell the gateway.
          await simulate(t, chargeId, 'SUCCESSFUL');
          const event = (await eventsOf(t, chargeId)).find((e) => e.key === 'charge.complete')!;
          const body = JSON.stringify({
            object: 'event',
            id: event.id,
            key: event.key,
            data: { object: 'charge', id: chargeId },
          });
          const forgedSecret = Buffer.from('not the webhook secret, 32 bytes').toString('base64');
          const forged = await fetch(`${t.a.origin}/webhooks/omise`, signedPost(forgedSecret, body));
          expect(forged.status).toBe(401);
          const tenMinutesAgo = Math.floor(Date.now() / 1000) - 600;
          const stale = await fetch(
            `${t.a.origin}/webhooks/omise`,
            signedPost(t.webhookSecret, body, tenMinutesAgo),
          );
          expect(stale.status).toBe(401);
          await Promise.all([forged.arrayBuffer(), stale.arrayBuffer()]);
          // A 401 is answered before anything is parsed, fetched or published.
          expect(logsAbout(t.a.process, 'webhook processed', { chargeId })).toEqual([]);
          expect(sub.events.map((e) => e.status)).toEqual(['PENDING']);

          const genuine = await fetch(`${t.a.origin}/webhooks/omise`, signedPost(t.webhookSecret, body));
          expect(genuine.status).toBe(200);
          await genuine.arrayBuffer();
          expect(await sub.ended).toBe('complete');
          expect(sub.events.map((e) => e.status)).toEqual(['PENDING', 'SUCCESSFUL']);
        } finally {
          await sub.close();
        }
        const refusals = t.a.process.logs().filter((l) => l.msg === 'webhook refused: invalid signature');
        expect(refusals.map((l) => l.reason)).toEqual(
          expect.arrayContaining(['mismatch', 'stale_timestamp']),
        );
      } finally {
        await t.sim.call('POST', '/_simulator/faults/reset');
      }
    });

    it('a late subscriber gets the outcome first thing, and the stream completes', async () => {
      const chargeId = await createCharge(t);
      await simulate(t, chargeId, 'FAILED');
      await deliveriesOf(t, chargeId);
      const sub = subscribeToChargeStatus(t.b.url, chargeId);
      try {
        expect(await sub.ended).toBe('complete');
        expect(sub.events.map((e) => [e.status, e.terminal])).toEqual([['FAILED', true]]);
      } finally {
        await sub.close();
      }
    });

    // Last in this block: advancing the simulator's clock a day expires every pending charge.
    it('EXPIRED when the simulator clock passes expires_at (charge.expire webhook)', async () => {
      const chargeId = await createCharge(t);
      const sub = subscribeToChargeStatus(t.b.url, chargeId);
      try {
        await sub.received(1);
        await t.sim.call('POST', '/_simulator/clock/advance', { ms: DAY_MS + 60_000 });
        expect(await sub.ended).toBe('complete');
        expect(sub.events.map((e) => e.status)).toEqual(['PENDING', 'EXPIRED']);
        expect(sub.events[1]!.charge.expiredAt).not.toBeNull();
      } finally {
        await sub.close();
      }
      const expire = (await deliveriesOf(t, chargeId)).filter((d) => d.eventKey === 'charge.expire');
      expect(expire.some((d) => d.status === 200 && d.url === `${t.a.origin}/webhooks/omise`)).toBe(true);
    });
  });

  describe('the reconciliation poll delivers when no webhook arrives (poll every second)', () => {
    let t: Topology;
    beforeAll(async () => {
      t = await startTopology(mode, { reconcileIntervalSeconds: 1 });
      await t.sim.call('POST', '/_simulator/faults', { webhooksEnabled: false });
    }, START_MS);
    afterAll(async () => {
      const codes = await t?.close();
      if (codes) expect(Object.values(codes).every((code) => code === 0)).toBe(true);
    }, START_MS);

    it('a subscriber on B gets PENDING then SUCCESSFUL with webhooks switched off', async () => {
      const chargeId = await createCharge(t);
      const sub = subscribeToChargeStatus(t.b.url, chargeId);
      try {
        await sub.received(1);
        await simulate(t, chargeId, 'SUCCESSFUL');
        expect(await sub.ended).toBe('complete');
        expect(sub.events.map((e) => e.status)).toEqual(['PENDING', 'SUCCESSFUL']);
      } finally {
        await sub.close();
      }
      expect((await deliveriesOf(t, chargeId)).filter((d) => d.outcome === 'delivered')).toEqual([]);
      expect(logsAbout(t.a.process, 'webhook processed', { chargeId })).toEqual([]);
    });
  });
});
