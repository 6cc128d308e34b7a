import { OmiseClient } from '../../src/omise/client.js';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import {
  ChargeStatusDocument,
  ChargeDocument,
  CreateTrueMoneyChargeDocument,
  SimulateChargeOutcomeDocument,
  type PaymentOutcome,
} from '../generated/operations.js';
import { signWebhook } from '../../src/omise/webhook-signature.js';
import { print } from 'graphql';
import { waitFor } from '../realtime/helpers.js';
import { dataOf, startHarness, type Harness } from './support/harness.js';
import { subscribe, subscribeToChargeStatus, wsClient } from './support/ws-client.js';

/**
 * The chargeStatus subscription over a real WebSocket (graphql-ws client on `ws`) against a gateway
 * in process, with the simulator's signed webhooks delivered to the gateway's receiver.
 */

const webhookSecret = randomBytes(32).toString('base64');
let h: Harness;
let wsUrl: string;

beforeAll(async () => {
  h = await startHarness({
    simulator: { webhookSecret },
    env: { OMISE_WEBHOOK_SECRET: webhookSecret, RECONCILE_INTERVAL_SECONDS: '3600' },
    // Pings every second: short enough for the ping test, long enough that a busy machine delaying a
    // pong (the client runs in this process) does not cut the other tests' sockets (seen at 200 ms).
    overrides: { websocket: { connectionInitWaitTimeoutMs: 300, keepAliveMs: 1000 } },
  });
  h.sim.setWebhookUrls([`${h.gateway.origin}/webhooks/omise`]);
  wsUrl = h.gateway.url.replace(/^http/, 'ws');
});
afterAll(async () => {
  await h.close();
});

let nextAmount = 30_000;
async function createCharge(): Promise<string> {
  const response = await h.gql(CreateTrueMoneyChargeDocument, { input: { amount: (nextAmount += 100) } });
  return dataOf(response).createTrueMoneyCharge.charge!.id;
}
async function simulate(chargeId: string, outcome: PaymentOutcome): Promise<void> {
  const response = await h.gql(SimulateChargeOutcomeDocument, { input: { chargeId, outcome } });
  expect(dataOf(response).simulateChargeOutcome.userErrors).toEqual([]);
}

/** A raw graphql-transport-ws socket (for what the graphql-ws client hides). */
function rawSocket(options: WebSocket.ClientOptions = {}) {
  const socket = new WebSocket(wsUrl, 'graphql-transport-ws', options);
  const messages: { type: string; id?: string; payload?: unknown }[] = [];
  socket.on('message', (data) => messages.push(JSON.parse(String(data)) as (typeof messages)[number]));
  const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
  const opened = new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  /** Opens, sends connection_init and waits for the ack. */
  const init = async () => {
    await opened;
    socket.send(JSON.stringify({ type: 'connection_init' }));
    await waitFor(() => messages.some((m) => m.type === 'connection_ack'));
  };
  return { socket, messages, closed, opened, init };
}

describe('chargeStatus', () => {
  it('sends the current state first, then the outcome the webhook brought, then completes', async () => {
    const chargeId = await createCharge();
    const sub = subscribeToChargeStatus(h.gateway.url, chargeId);
    try {
      await sub.received(1);
      expect(sub.events[0]).toMatchObject({ chargeId, status: 'PENDING', terminal: false });
      expect(sub.events[0]!.charge.id).toBe(chargeId);
      const during = await (await h.http('/metrics')).text();
      expect(during).toMatch(/^charge_status_subscriptions 1$/m);
      expect(during).toMatch(/^graphql_ws_connections 1$/m);
      expect(during).toMatch(/^reconciliation_polled_charges 1$/m);
      await simulate(chargeId, 'SUCCESSFUL');
      expect(await sub.ended).toBe('complete');
      expect(sub.events.map((e) => e.status)).toEqual(['PENDING', 'SUCCESSFUL']);
      expect(sub.events[1]).toMatchObject({ terminal: true, charge: { paid: true } });
      expect(sub.errors).toEqual([]);
    } finally {
      await sub.close();
    }
    // The webhook delivered it (the poll interval is an hour here): signed, accepted.
    const deliveries = h.sim.deliveries().filter((d) => d.eventKey === 'charge.complete');
    expect(deliveries.some((d) => d.status === 200)).toBe(true);
    await waitFor(() => h.gateway.chargeStatusFeed.openCount === 0 && h.gateway.poller.watchedCount === 0);
    const after = await (await h.http('/metrics')).text();
    expect(after).toMatch(/^webhook_responses_total\{status_code="200"\} [1-9]/m);
    expect(after).toMatch(/^charge_status_subscriptions 0$/m);
  });

  it('a late subscriber gets the outcome at once, and the stream completes', async () => {
    const chargeId = await createCharge();
    await simulate(chargeId, 'FAILED');
    const sub = subscribeToChargeStatus(h.gateway.url, chargeId);
    try {
      expect(await sub.ended).toBe('complete');
      expect(sub.events.map((e) => [e.status, e.terminal])).toEqual([['FAILED', true]]);
    } finally {
      await sub.close();
    }
  });

  it('an unknown charge: charge(id) is null and chargeStatus completes without an event (one answer); nothing stays subscribed', async () => {
    const unknown = 'chrg_test_doesnotexist0000000';
    expect(dataOf(await h.gql(ChargeDocument, { id: unknown })).charge).toBeNull();
    const sub = subscribeToChargeStatus(h.gateway.url, unknown);
    try {
      expect(await sub.ended).toBe('complete');
      expect(sub.events).toEqual([]);
      expect(sub.errors).toEqual([]);
    } finally {
      await sub.close();
    }
    expect(h.gateway.chargeStatusFeed.openCount).toBe(0);
    // Counted as over HTTP: a subscription that ran, without error.
    const metrics = await (await h.http('/metrics')).text();
    expect(metrics).toMatch(/^graphql_operations_total\{operation_type="subscription",outcome="ok"\} [1-9]/m);
  });

  it('an id not shaped like a charge id: the same answers, without asking Omise', async () => {
    const requests = h.omiseRequests.length;
    const id = `../${'x'.repeat(1000)}`;
    expect(dataOf(await h.gql(ChargeDocument, { id })).charge).toBeNull();
    const sub = subscribeToChargeStatus(h.gateway.url, id);
    try {
      expect(await sub.ended).toBe('complete');
      expect(sub.events).toEqual([]);
      expect(sub.errors).toEqual([]);
    } finally {
      await sub.close();
    }
    expect(h.omiseRequests.length).toBe(requests);
  });

  it('Omise failing while the current state is read keeps the subscription open; the state arrives once Omise answers', async () => {
    // Made at Omise directly: a charge this gateway created would be in its charge cache, not read.
    const admin = new OmiseClient({ baseUrl: h.sim.url, secretKey: h.sim.secretKey, maxAttempts: 1 });
    const { id: chargeId } = await admin.createCharge({
      amount: (nextAmount += 100),
      currency: 'THB',
      source: { type: 'truemoney_qr' },
    });
    h.sim.faults.set({ errorRate: 1 });
    const sub = subscribeToChargeStatus(h.gateway.url, chargeId);
    try {
      // Retries fail (the simulator answers 500/503 to everything) and nothing reaches the phone.
      await waitFor(() => h.omiseRequests.filter((r) => r.path.includes(chargeId)).length >= 3);
      expect(sub.events).toEqual([]);
      expect(sub.errors).toEqual([]);
      h.sim.faults.reset();
      await sub.received(1);
      expect(sub.events[0]).toMatchObject({ chargeId, status: 'PENDING', terminal: false });
      expect(sub.errors).toEqual([]);
    } finally {
      h.sim.faults.reset();
      await sub.close();
    }
  });

  it('an invalid document is refused with its validation error', async () => {
    const client = wsClient(h.gateway.url);
    const sub = subscribe(
      h.gateway.url,
      // Parses; invalid against the schema.
      'subscription { chargeStatus(chargeId: "chrg_test_x") { noSuchField } }',
      {},
      (data) => data,
      client,
    );
    try {
      expect(await sub.ended).toBe('error');
      expect(sub.events).toEqual([]);
      expect(sub.errors[0]!.message).toMatch(/noSuchField/);
    } finally {
      await sub.close();
    }
  });

  it('over HTTP, a subscription is a BAD_REQUEST error that says to use WebSocket', async () => {
    const response = await h.http('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'subscription { chargeStatus(chargeId: "chrg_test_x") { status } }' }),
    });
    const body = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(body.errors[0]!.extensions.code).toBe('BAD_REQUEST');
    expect(body.errors[0]!.message).toMatch(/WebSocket/);
  });

  it('parses and validates a document once, however many subscriptions use it', async () => {
    const cache = h.gateway.documentCache;
    const query = `subscription Once($chargeId: ID!) { chargeStatus(chargeId: $chargeId) { status } }`;
    const parsesBefore = cache.parses;
    const hitsBefore = cache.hits;
    const [a, b] = [await createCharge(), await createCharge()];
    for (const chargeId of [a, b]) {
      const socket = rawSocket();
      await socket.init();
      socket.socket.send(
        JSON.stringify({ id: '1', type: 'subscribe', payload: { query, variables: { chargeId } } }),
      );
      await waitFor(() => socket.messages.some((m) => m.type === 'next'));
      socket.socket.close(1000);
      await socket.closed;
    }
    expect(cache.parses - parsesBefore).toBe(1);
    expect(cache.hits - hitsBefore).toBe(1);
    await waitFor(() => h.gateway.chargeStatusFeed.openCount === 0);
  });

  it('closes a socket that never sends connection_init (4408)', async () => {
    const socket = rawSocket();
    await socket.opened;
    expect(await socket.closed).toBe(4408);
  });

  it('terminates a client that stops answering pings and frees its subscription', async () => {
    const chargeId = await createCharge();
    const socket = rawSocket({ autoPong: false });
    await socket.init();
    socket.socket.send(
      JSON.stringify({
        id: '1',
        type: 'subscribe',
        payload: { query: print(ChargeStatusDocument), variables: { chargeId } },
      }),
    );
    await waitFor(() => socket.messages.some((m) => m.type === 'next'));
    expect(h.gateway.chargeStatusFeed.openCount).toBe(1);
    expect(h.gateway.poller.watchedCount).toBe(1);
    expect(await socket.closed).toBe(1006); // cut by the server, no close frame
    await waitFor(() => h.gateway.chargeStatusFeed.openCount === 0 && h.gateway.poller.watchedCount === 0);
  });

  it('a webhook with a forged signature is 401 and publishes nothing', async () => {
    const chargeId = await createCharge();
    const sub = subscribeToChargeStatus(h.gateway.url, chargeId);
    try {
      await sub.received(1);
      await simulate(chargeId, 'SUCCESSFUL');
      // (the simulator's own delivery completes the subscription; the forged one must be refused)
      await sub.ended;
      const body = JSON.stringify({
        object: 'event',
        id: 'evnt_test_forged000000000000',
        key: 'charge.complete',
        data: { object: 'charge', id: chargeId },
      });
      const timestamp = Math.floor(Date.now() / 1000);
      const forged = await h.http('/webhooks/omise', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'omise-signature': signWebhook(randomBytes(32).toString('base64'), timestamp, body),
          'omise-signature-timestamp': String(timestamp),
        },
        body,
      });
      expect(forged.status).toBe(401);
      await forged.arrayBuffer();
    } finally {
      await sub.close();
    }
  });
});

describe('shutdown', () => {
  it('closes WebSocket clients and ends their subscriptions when the gateway closes', async () => {
    const secret = randomBytes(32).toString('base64');
    const own = await startHarness({
      simulator: { webhookSecret: secret },
      env: { OMISE_WEBHOOK_SECRET: secret },
    });
    let closed = false;
    try {
      const created = await own.gql(CreateTrueMoneyChargeDocument, { input: { amount: 10_000 } });
      const chargeId = dataOf(created).createTrueMoneyCharge.charge!.id;
      const sub = subscribeToChargeStatus(own.gateway.url, chargeId);
      await sub.received(1);
      expect(own.gateway.chargeStatusFeed.openCount).toBe(1);
      await own.close();
      closed = true;
      await expect(sub.ended).rejects.toThrow(/1001/);
      expect(own.gateway.chargeStatusFeed.openCount).toBe(0);
      expect(own.gateway.poller.watchedCount).toBe(0);
      await sub.close();
    } finally {
      if (!closed) await own.close();
    }
  });
});

describe('POST /webhooks/omise', () => {
  const post = (body: string | Buffer, headers: Record<string, string>) =>
    h.http('/webhooks/omise', { method: 'POST', headers, body });
  const signed = (body: string, contentType = 'application/json') => {
    const timestamp = Math.floor(Date.now() / 1000);
    return {
      'content-type': contentType,
      'omise-signature': signWebhook(webhookSecret, timestamp, body),
      'omise-signature-timestamp': String(timestamp),
    };
  };
  const event = (key: string, chargeId: string) =>
    JSON.stringify({
      object: 'event',
      id: `evnt_test_${randomBytes(8).toString('hex')}`,
      key,
      data: { object: 'charge', id: chargeId },
    });

  it('refuses what is not a valid delivery with a 4xx, and keeps serving', async () => {
    const unsigned = await post('{}', { 'content-type': 'application/json' });
    expect(unsigned.status).toBe(401);
    const notJson = await post('{not json', signed('{not json'));
    expect(notJson.status).toBe(400);
    const body = event('charge.complete', 'chrg_test_x');
    const textPlain = await post(body, signed(body, 'text/plain'));
    expect(textPlain.status).toBe(415);
    const huge = await post(Buffer.alloc(300 * 1024, 'a'), { 'content-type': 'application/json' });
    expect(huge.status).toBe(413);
    await Promise.all([unsigned, notJson, textPlain, huge].map((r) => r.arrayBuffer()));
    expect((await h.http('/healthz')).status).toBe(200);
  });

  it('acknowledges an event that is not about a charge without doing anything', async () => {
    const body = JSON.stringify({
      object: 'event',
      id: 'evnt_test_customer0000000000',
      key: 'customer.create',
      data: { object: 'customer', id: 'cust_test_x' },
    });
    const response = await post(body, signed(body));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ received: true, ignored: true });
  });

  it('answers 503 when the charge cannot be re-fetched, so that Omise delivers again', async () => {
    const chargeId = await createCharge();
    const body = event('charge.complete', chargeId);
    h.sim.faults.set({ errorRate: 1 });
    try {
      const response = await post(body, signed(body));
      expect(response.status).toBe(503);
      await response.arrayBuffer();
    } finally {
      h.sim.faults.reset();
    }
    // The same delivery again, Omise reachable: processed (it was not marked done).
    const again = await post(body, signed(body));
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ received: true });
  });
});
