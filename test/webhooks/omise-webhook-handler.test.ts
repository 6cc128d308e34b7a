import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { signWebhook } from '../../src/omise/webhook-signature.js';
import {
  chargeStatusTopic,
  fromChargeStatusMessage,
  type ChargeStatusEvent,
} from '../../src/payments/status-feed/index.js';
import { ChargeReader } from '../../src/payments/charge-reader.js';
import { MemoryKeyValueStore } from '../../src/realtime/index.js';
import {
  createOmiseWebhookHandler,
  OMISE_WEBHOOK_MAX_BODY_BYTES,
  type WebhookRequest,
} from '../../src/webhooks/index.js';
import { memoryLogger } from '../status-feed/support/helpers.js';
import { startHarness, type Harness } from '../status-feed/support/harness.js';

function signedRequest(
  secret: string,
  body: string | Buffer,
  options: { timestamp?: number; contentType?: string } = {},
): WebhookRequest {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  return {
    headers: {
      'content-type': options.contentType ?? 'application/json',
      'omise-signature': signWebhook(secret, timestamp, body),
      'omise-signature-timestamp': String(timestamp),
    },
    rawBody: Buffer.isBuffer(body) ? body : Buffer.from(body),
  };
}

describe('Omise webhook handler against the simulator', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  /** What was really handed to the broker for a charge, in order. */
  const publishedFor = (chargeId: string): ChargeStatusEvent[] =>
    h.pubsub.published
      .filter((p) => p.topic === chargeStatusTopic(chargeId))
      .map((p) => fromChargeStatusMessage(p.message));

  /** The recorded event of a charge, exactly as Omise (the simulator) serves it. */
  async function eventBody(chargeId: string, key: string): Promise<string> {
    const events = await h.admin.listChargeEvents(chargeId);
    const event = events.data.find((e) => e.key === key);
    if (!event) throw new Error(`no ${key} event for ${chargeId}`);
    return JSON.stringify(event);
  }

  it('turns a real signed charge.complete delivery into one SUCCESSFUL event, re-fetched from Omise', async () => {
    const chargeId = await h.createCharge();
    expect(publishedFor(chargeId).map((e) => e.status)).toEqual(['PENDING']);
    const callsBefore = h.omiseCalls().length;

    await h.admin.markChargeAsPaid(chargeId);
    await h.simulator.waitForIdle(10_000);

    const [complete] = h.receiver.eventsOf('charge.complete');
    expect(complete).toMatchObject({ status: 200, body: { received: true } });
    const events = publishedFor(chargeId);
    expect(events.map((e) => e.status)).toEqual(['PENDING', 'SUCCESSFUL']);
    expect(events[1]).toMatchObject({ chargeId, terminal: true, charge: { id: chargeId, paid: true } });
    expect(events[1]!.charge.paidAt).toBeInstanceOf(Date);
    // The charge was re-fetched, not taken from the webhook body.
    expect(h.omiseCalls().slice(callsBefore)).toEqual([`GET /charges/${chargeId}`]);
  });

  it('publishes once when Omise delivers the same event twice', async () => {
    h.simulator.faults.set({ webhookDuplicateRate: 1 });
    const chargeId = await h.createCharge();
    await h.admin.markChargeAsPaid(chargeId);
    await h.simulator.waitForIdle(10_000);

    const completes = h.receiver.eventsOf('charge.complete');
    expect(completes.length).toBeGreaterThanOrEqual(2);
    expect(completes.at(-1)).toMatchObject({ status: 200 });
    expect(publishedFor(chargeId).filter((e) => e.status === 'SUCCESSFUL')).toHaveLength(1);

    // A replay of an already processed delivery: acknowledged, nothing published, Omise not asked.
    const calls = h.omiseCalls().length;
    const published = h.pubsub.published.length;
    const replay = await h.handler({ headers: completes[0]!.headers, rawBody: completes[0]!.rawBody });
    expect(replay).toEqual({ status: 200, body: { received: true, duplicate: true } });
    expect(h.omiseCalls()).toHaveLength(calls);
    expect(h.pubsub.published).toHaveLength(published);
  });

  describe('refuses unauthenticated deliveries before reading them: 401, nothing published, Omise not called', () => {
    let body: string;
    let chargeId: string;
    beforeEach(async () => {
      h.simulator.faults.set({ webhooksEnabled: false });
      chargeId = await h.createCharge();
      await h.admin.markChargeAsPaid(chargeId);
      body = await eventBody(chargeId, 'charge.complete');
    });

    const cases: Array<[string, () => WebhookRequest]> = [
      ['forged signature (another secret)', () => signedRequest(randomBytes(32).toString('base64'), body)],
      [
        'signature of another body',
        () => ({
          ...signedRequest(h.simulator.webhookSecret, body),
          rawBody: Buffer.from(body.replace('charge', 'chargf')),
        }),
      ],
      [
        'stale timestamp (6 minutes old)',
        () =>
          signedRequest(h.simulator.webhookSecret, body, { timestamp: Math.floor(Date.now() / 1000) - 360 }),
      ],
      [
        'missing headers',
        () => ({ headers: { 'content-type': 'application/json' }, rawBody: Buffer.from(body) }),
      ],
      [
        'garbage in the signature header',
        () => {
          const request = signedRequest(h.simulator.webhookSecret, body);
          return { ...request, headers: { ...request.headers, 'omise-signature': 'not-hex' } };
        },
      ],
    ];

    it.each(cases)('%s', async (_name, makeRequest) => {
      const request = makeRequest();
      const calls = h.omiseCalls().length;
      const published = h.pubsub.published.length;
      expect(await h.handler(request)).toEqual({ status: 401, body: { error: 'invalid_signature' } });
      expect(h.omiseCalls()).toHaveLength(calls);
      expect(h.pubsub.published).toHaveLength(published);
      // The reason is logged; the secret and the signature never are.
      expect(h.logs()).toContain('invalid signature');
      expect(h.logs()).not.toContain(h.simulator.webhookSecret);
      const signature = request.headers['omise-signature'];
      if (typeof signature === 'string' && signature.length > 8) expect(h.logs()).not.toContain(signature);
    });

    it('accepts any of several comma-separated signatures (secret rotation)', async () => {
      const request = signedRequest(h.simulator.webhookSecret, body);
      const old = signedRequest(randomBytes(32).toString('base64'), body);
      const rotated = {
        ...request.headers,
        'omise-signature': `${String(old.headers['omise-signature'])},${String(request.headers['omise-signature'])}`,
      };
      expect(await h.handler({ headers: rotated, rawBody: request.rawBody })).toEqual({
        status: 200,
        body: { received: true },
      });
      expect(publishedFor(chargeId).map((e) => e.status)).toEqual(['SUCCESSFUL']);
    });
  });

  it('answers 415 / 400 / 200-ignored for wrong content type, bad JSON, non-events and other keys', async () => {
    const secret = h.simulator.webhookSecret;
    const chargeId = await h.createCharge();
    const body = await eventBody(chargeId, 'charge.create');
    const published = h.pubsub.published.length;

    expect(await h.handler(signedRequest(secret, body, { contentType: 'text/plain' }))).toEqual({
      status: 415,
      body: { error: 'unsupported_media_type' },
    });
    expect(await h.handler(signedRequest(secret, '{"object":"event",'))).toEqual({
      status: 400,
      body: { error: 'invalid_json' },
    });
    expect(
      await h.handler(signedRequest(secret, JSON.stringify({ object: 'charge', id: chargeId }))),
    ).toEqual({
      status: 400,
      body: { error: 'invalid_event' },
    });
    const pathTrick = { ...JSON.parse(body), data: { object: 'charge', id: '../refunds' } };
    expect(await h.handler(signedRequest(secret, JSON.stringify(pathTrick)))).toEqual({
      status: 400,
      body: { error: 'invalid_event' },
    });
    const otherKey = { ...JSON.parse(body), id: 'evnt_test_otherkey000000000', key: 'customer.create' };
    expect(await h.handler(signedRequest(secret, JSON.stringify(otherKey)))).toEqual({
      status: 200,
      body: { received: true, ignored: true },
    });
    // charset parameters are fine.
    const ok = await h.handler(
      signedRequest(secret, body, { contentType: 'application/json; charset=utf-8' }),
    );
    expect(ok.status).toBe(200);

    expect(h.pubsub.published).toHaveLength(published);
    // Only the real charge.create delivery reached Omise.
    expect(h.omiseCalls()).toEqual([`GET /charges/${chargeId}`]);
    const tooBig = Buffer.alloc(OMISE_WEBHOOK_MAX_BODY_BYTES + 1, 0x20);
    expect((await h.handler(signedRequest(secret, tooBig))).status).toBe(413);
  });

  it('acknowledges (and ignores) a signed event for a charge Omise does not know', async () => {
    const chargeId = await h.createCharge();
    const event = JSON.parse(await eventBody(chargeId, 'charge.create'));
    const unknown = {
      ...event,
      id: 'evnt_test_unknowncharge0000',
      data: { ...event.data, id: 'chrg_test_doesnotexist00000' },
    };
    const published = h.pubsub.published.length;
    expect(await h.handler(signedRequest(h.simulator.webhookSecret, JSON.stringify(unknown)))).toEqual({
      status: 200,
      body: { received: true, ignored: true },
    });
    expect(h.pubsub.published).toHaveLength(published);
    expect(h.logs()).toContain('Omise does not know the charge');
  });

  it('answers 503 while Omise cannot be reached, and the redelivery publishes once it is back', async () => {
    const chargeId = await h.createCharge();
    h.receiver.hold();
    await h.admin.markChargeAsPaid(chargeId);
    await h.receiver.untilParked();
    h.simulator.faults.set({ errorRate: 1 });
    h.receiver.release();

    const refused = await h.receiver.answered((r) => r.status === 503);
    expect(refused.body).toEqual({ error: 'upstream_unavailable' });
    expect(publishedFor(chargeId).map((e) => e.status)).toEqual(['PENDING']);
    h.simulator.faults.reset();
    await h.simulator.waitForIdle(10_000);

    expect(publishedFor(chargeId).map((e) => e.status)).toEqual(['PENDING', 'SUCCESSFUL']);
    const completes = h.receiver.eventsOf('charge.complete');
    expect(completes.at(-1)).toMatchObject({ status: 200, body: { received: true } });
    const attempts = h.simulator.deliveries().filter((d) => d.eventKey === 'charge.complete');
    expect(attempts[0]).toMatchObject({ status: 503, outcome: 'failed' });
    expect(attempts.at(-1)).toMatchObject({ status: 200, outcome: 'delivered' });
  });

  it('answers 503 when Omise is down altogether (connection refused)', async () => {
    const chargeId = await h.createCharge();
    await h.admin.markChargeAsPaid(chargeId);
    await h.simulator.waitForIdle(10_000);
    const body = await eventBody(chargeId, 'charge.complete');
    const event = { ...JSON.parse(body), id: 'evnt_test_afterclose000000' };
    await h.simulator.close();
    expect(await h.handler(signedRequest(h.simulator.webhookSecret, JSON.stringify(event)))).toEqual({
      status: 503,
      body: { error: 'upstream_unavailable' },
    });
  });

  it('answers 503 while the broker refuses, and publishes on the redelivery', async () => {
    const chargeId = await h.createCharge();
    h.pubsub.failing = true;
    await h.admin.markChargeAsPaid(chargeId);
    const refused = await h.receiver.answered((r) => r.status === 503);
    expect(refused.body).toEqual({ error: 'temporarily_unavailable' });
    h.pubsub.failing = false;
    await h.simulator.waitForIdle(10_000);

    expect(publishedFor(chargeId).map((e) => e.status)).toEqual(['PENDING', 'SUCCESSFUL']);
    expect(h.receiver.eventsOf('charge.complete').at(-1)).toMatchObject({ status: 200 });
  });
});

describe('Omise webhook handler: concurrent and interrupted deliveries', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ webhooks: false });
  });
  afterEach(async () => {
    await h.close();
  });

  async function paidEvent(): Promise<{ chargeId: string; body: string }> {
    const chargeId = await h.createCharge();
    await h.admin.markChargeAsPaid(chargeId);
    const events = await h.admin.listChargeEvents(chargeId);
    return { chargeId, body: JSON.stringify(events.data.find((e) => e.key === 'charge.complete')) };
  }

  it('lets only one of two concurrent deliveries of an event work; the other is told to come back', async () => {
    const { chargeId, body } = await paidEvent();
    const request = signedRequest(h.simulator.webhookSecret, body);
    const [first, second] = await Promise.all([h.handler(request), h.handler(request)]);
    expect(first).toEqual({ status: 200, body: { received: true } });
    // Not 200: had the first failed, a 200 here would have acknowledged an event nobody published.
    expect(second).toEqual({ status: 503, body: { error: 'in_progress' } });
    expect(h.omiseCalls()).toEqual([`GET /charges/${chargeId}`]);
    expect(await h.handler(request)).toEqual({ status: 200, body: { received: true, duplicate: true } });
  });

  it('does not lose an event whose first delivery got stuck mid-way: its claim expires', async () => {
    const { chargeId, body } = await paidEvent();
    let now = Date.now();
    const kv = new MemoryKeyValueStore(() => now);
    const handler = createOmiseWebhookHandler({
      charges: new ChargeReader({ omise: h.omise, kv }),
      kv,
      publisher: h.publisher,
      webhookSecret: h.simulator.webhookSecret,
      logger: memoryLogger().logger,
      dedupTtlMs: 60_000,
      claimTtlMs: 30_000,
    });
    const stuck = h.pubsub.stall();
    void handler(signedRequest(h.simulator.webhookSecret, body)); // never settles: the instance "died"
    await stuck;
    h.pubsub.stalled = false;
    expect(await handler(signedRequest(h.simulator.webhookSecret, body))).toEqual({
      status: 503,
      body: { error: 'in_progress' },
    });
    now += 30_001;
    expect(await handler(signedRequest(h.simulator.webhookSecret, body))).toEqual({
      status: 200,
      body: { received: true },
    });
    expect(h.pubsub.published.map((p) => fromChargeStatusMessage(p.message).status)).toContain('SUCCESSFUL');
    expect(h.omiseCalls()).toEqual([`GET /charges/${chargeId}`, `GET /charges/${chargeId}`]);
    kv.close();
  });
});
