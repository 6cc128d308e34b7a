import { afterEach, describe, expect, it } from '@jest/globals';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { verifyWebhookSignature } from '../../src/omise/webhook-signature.js';
import type { RunningSimulator } from '../../src/simulator/index.js';
import { call, createCharge, DAY, OMISE_ID, startTestSimulator } from './helpers.js';
import { startReceiver, type Receiver } from './receiver.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(answers: number[] = [], options: Parameters<typeof startTestSimulator>[0] = {}) {
  const receiver = await startReceiver(answers);
  cleanups.push(() => receiver.close());
  const sim = await startTestSimulator({ webhookUrls: [receiver.url], ...options });
  cleanups.push(() => sim.close());
  return { receiver, sim };
}

/** A port nothing listens on (bound, then released). */
async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/hook`;
}

function verify(sim: RunningSimulator, receiver: Receiver, index: number) {
  const delivery = receiver.received[index];
  if (!delivery) throw new Error(`no delivery #${index}`);
  return verifyWebhookSignature({
    secretBase64: sim.webhookSecret,
    rawBody: delivery.rawBody,
    signatureHeader: delivery.headers['omise-signature'] as string | undefined,
    timestampHeader: delivery.headers['omise-signature-timestamp'] as string | undefined,
  });
}

describe('webhook delivery', () => {
  it('POSTs signed events that verify with verifyWebhookSignature', async () => {
    const { sim, receiver } = await setup();
    const id = (await createCharge(sim)).body.id as string;
    await call(sim, 'POST', `/charges/${id}/mark_as_paid`);
    await sim.waitForIdle();

    expect(receiver.received.map((r) => r.json.key)).toEqual(['charge.create', 'charge.complete']);
    for (let i = 0; i < receiver.received.length; i += 1)
      expect(verify(sim, receiver, i)).toEqual({ ok: true });
    const first = receiver.received[0];
    expect(first?.headers['content-type']).toBe('application/json');
    expect(Number(first?.headers['omise-signature-timestamp'])).toBeGreaterThan(
      Date.parse('2025-01-01') / 1000,
    );
    expect(first?.json).toMatchObject({ object: 'event', data: { object: 'charge', id, status: 'pending' } });

    // The delivered event is the one the API serves (apart from the deliveries recorded since).
    const served = await call(sim, 'GET', `/events/${first?.json.id}`);
    expect({ ...served.body, webhook_deliveries: [] }).toEqual(first?.json);
    expect(served.body.webhook_deliveries).toEqual([
      {
        object: 'webhook_delivery',
        id: expect.stringMatching(OMISE_ID('whdl')),
        uri: receiver.url,
        status: 200,
        key: 'charge.create',
        error: null,
        created_at: '2024-09-23T03:18:47Z',
      },
    ]);

    // A tampered body or another secret does not verify.
    const tampered = verifyWebhookSignature({
      secretBase64: sim.webhookSecret,
      rawBody: Buffer.concat([first?.rawBody ?? Buffer.alloc(0), Buffer.from(' ')]),
      signatureHeader: first?.headers['omise-signature'] as string,
      timestampHeader: first?.headers['omise-signature-timestamp'] as string,
    });
    expect(tampered).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('retries with backoff until a 2xx and records every attempt in webhook_deliveries', async () => {
    const { sim, receiver } = await setup([500, 503, 404]);
    const id = (await createCharge(sim)).body.id as string;
    await sim.waitForIdle();
    expect(receiver.received).toHaveLength(4);
    expect(new Set(receiver.received.map((r) => r.json.id)).size).toBe(1);
    for (let i = 0; i < 4; i += 1) expect(verify(sim, receiver, i)).toEqual({ ok: true });

    const events = (await call(sim, 'GET', `/charges/${id}/events`)).body.data;
    expect(events[0].webhook_deliveries.map((d: { status: number }) => d.status)).toEqual([
      500, 503, 404, 200,
    ]);
    expect(sim.deliveries().map((d) => [d.attempt, d.status, d.outcome])).toEqual([
      [1, 500, 'failed'],
      [2, 503, 'failed'],
      [3, 404, 'failed'],
      [4, 200, 'delivered'],
    ]);
  });

  it('gives up after maxAttempts and records unreachable endpoints with status null', async () => {
    const url = await closedPortUrl();
    const sim = await startTestSimulator({
      webhookUrls: [url],
      webhookRetry: { baseDelayMs: 1, maxAttempts: 3 },
    });
    cleanups.push(() => sim.close());
    const id = (await createCharge(sim)).body.id as string;
    await sim.waitForIdle();
    const event = (await call(sim, 'GET', `/charges/${id}/events`)).body.data[0];
    expect(event.webhook_deliveries).toHaveLength(3);
    for (const d of event.webhook_deliveries) {
      expect(d).toMatchObject({ uri: url, status: null });
      expect(d.error).toBe('ECONNREFUSED');
    }
  });

  it("also delivers to the charge's webhook_endpoints, and to URLs set at run time", async () => {
    const { sim, receiver } = await setup();
    const extra = await startReceiver();
    cleanups.push(() => extra.close());
    const id = (await createCharge(sim, { webhook_endpoints: [extra.url] })).body.id as string;
    await sim.waitForIdle();
    expect(receiver.received).toHaveLength(1);
    expect(extra.received).toHaveLength(1);

    const later = await startReceiver();
    cleanups.push(() => later.close());
    sim.setWebhookUrls([later.url]);
    expect(sim.webhookUrls()).toEqual([later.url]);
    await call(sim, 'POST', `/charges/${id}/mark_as_paid`);
    await sim.waitForIdle();
    expect(receiver.received).toHaveLength(1);
    expect(later.received.map((r) => r.json.key)).toEqual(['charge.complete']);
    expect(extra.received.map((r) => r.json.key)).toEqual(['charge.create', 'charge.complete']);
  });

  it('delivers charge.expire when the clock passes expires_at', async () => {
    const { sim, receiver } = await setup();
    const id = (await createCharge(sim)).body.id as string;
    await sim.clock.advance(DAY);
    await sim.waitForIdle();
    expect(receiver.received.map((r) => r.json.key)).toEqual(['charge.create', 'charge.expire']);
    expect(receiver.received[1]?.json.data).toMatchObject({ id, status: 'expired', expired: true });
  });
});
