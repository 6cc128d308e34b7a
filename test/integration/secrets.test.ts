import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import {
  ChargeDocument,
  ChargesDocument,
  CreateTrueMoneyChargeDocument,
  RefundChargeDocument,
  SimulateChargeOutcomeDocument,
  VoidChargeDocument,
} from '../generated/operations.js';
import { dataOf, startHarness, type Harness } from './support/harness.js';
import { subscribeToChargeStatus } from './support/ws-client.js';
import { wsFirstResult } from './support/ws-auth.js';

/**
 * A whole payment flow at LOG_LEVEL debug, with every line the gateway and the simulator write
 * captured (pino destination stream), and every response body kept: no secret may appear in any.
 */

const API_KEY = `shop-${randomBytes(24).toString('base64url')}`;
const READER_KEY = `reader-${randomBytes(24).toString('base64url')}`;
const TOKEN_SECRET = randomBytes(36).toString('base64url');
const WEBHOOK_SECRET = randomBytes(32).toString('base64');

let h: Harness;
const responses: string[] = [];
const clientTokens: string[] = [];

beforeAll(async () => {
  h = await startHarness({
    env: {
      LOG_LEVEL: 'debug',
      GATEWAY_API_KEYS: JSON.stringify([
        {
          name: 'shop',
          key: API_KEY,
          scopes: ['charges:create', 'charges:read', 'charges:refund', 'charges:void', 'test:simulate'],
        },
        { name: 'reader', key: READER_KEY, scopes: ['charges:read'] },
      ]),
      GATEWAY_TOKEN_SECRET: TOKEN_SECRET,
      OMISE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    },
    simulator: { webhookSecret: WEBHOOK_SECRET },
    simulatorLogs: true,
    logLevel: 'debug',
    overrides: {
      // Careless log lines a contributor might add: whole requests, connection params, the config.
      extendContext: async (req, base) => {
        base.logger.debug({ headers: req.headers, req: { headers: req.headers } }, 'request received');
        base.logger.debug(`authorization header was ${req.headers.authorization ?? 'absent'}`);
        return base;
      },
      websocket: {
        checkOperation: (connection, args) => {
          const context = args.contextValue as { logger: { debug: (o: object, m: string) => void } };
          context.logger.debug({ connectionParams: connection.connectionParams }, 'operation received');
        },
      },
    },
  });
  h.gateway.logger.debug(
    {
      config: {
        omise: { secretKey: h.sim.secretKey },
        webhookSecret: WEBHOOK_SECRET,
        tokenSecret: TOKEN_SECRET,
      },
    },
    'config loaded',
  );
  h.gateway.logger.info(`webhook secret ${WEBHOOK_SECRET}, token secret ${TOKEN_SECRET}`);
  h.sim.setWebhookUrls([`${h.gateway.origin}/webhooks/omise`]);
});

afterAll(async () => {
  await h?.close();
});

const shop = { authorization: `Bearer ${API_KEY}` };

async function createPaid(): Promise<{ id: string; clientToken: string }> {
  const created = dataOf(
    await h.gql(CreateTrueMoneyChargeDocument, { input: { amount: 50_000, description: 'flow' } }, shop),
  ).createTrueMoneyCharge;
  const id = created.charge!.id;
  clientTokens.push(created.clientToken!);
  return { id, clientToken: created.clientToken! };
}

describe('secrets never reach a log line or a response', () => {
  it('full flow: create, read with the client token, subscribe, simulate, webhook, refund, void', async () => {
    // Create, and read with the client token over HTTP.
    const { id, clientToken } = await createPaid();
    const read = await h.gql(ChargeDocument, { id }, { authorization: `Bearer ${clientToken}` });
    responses.push(JSON.stringify(read.body));
    expect(dataOf(read).charge?.id).toBe(id);

    // Subscribe with the client token; the outcome arrives through the simulator's signed webhook.
    const client = createClient({
      url: h.gateway.url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      lazy: true,
      lazyCloseTimeout: 0,
      connectionParams: { authorization: `Bearer ${clientToken}` },
    });
    const subscription = subscribeToChargeStatus(h.gateway.url, id, client);
    try {
      await subscription.received(1);
      const simulated = await h.gql(
        SimulateChargeOutcomeDocument,
        { input: { chargeId: id, outcome: 'SUCCESSFUL' } },
        shop,
      );
      responses.push(JSON.stringify(simulated.body));
      expect(await subscription.ended).toBe('complete');
      expect(subscription.events.at(-1)?.status).toBe('SUCCESSFUL');
    } finally {
      await subscription.close();
    }
    await h.sim.waitForIdle(10_000);
    const delivered = h.sim.deliveries();
    expect(delivered.length).toBeGreaterThan(0);
    expect(delivered.every((d) => d.outcome === 'delivered')).toBe(true);

    const refunded = dataOf(
      await h.gql(RefundChargeDocument, { input: { chargeId: id, amount: 1_000 } }, shop),
    ).refundCharge;
    expect(refunded.userErrors).toEqual([]);

    const second = await createPaid();
    dataOf(
      await h.gql(
        SimulateChargeOutcomeDocument,
        { input: { chargeId: second.id, outcome: 'SUCCESSFUL' } },
        shop,
      ),
    );
    const voided = dataOf(
      await h.gql(VoidChargeDocument, { input: { chargeId: second.id } }, shop),
    ).voidCharge;
    expect(voided.userErrors).toEqual([]);
    await h.sim.waitForIdle(10_000);

    // Refusals, whose messages must not echo what was presented.
    // The signature's first character changed (its last ones partly carry padding bits).
    const dot = clientToken.lastIndexOf('.');
    const tampered = `${clientToken.slice(0, dot + 1)}${clientToken[dot + 1] === 'A' ? 'B' : 'A'}${clientToken.slice(dot + 2)}`;
    for (const authorization of [
      `Bearer ${tampered}`,
      `Bearer ${API_KEY}x`,
      `Bearer ${clientToken} extra`,
      `Token ${API_KEY}`,
    ]) {
      const refused = await h.gql(ChargesDocument, { first: 1 }, { authorization });
      expect(refused.status).toBe(401);
      responses.push(JSON.stringify(refused.body));
    }
    const forbidden = await h.gql(
      ChargeDocument,
      { id: second.id },
      { authorization: `Bearer ${clientToken}` },
    );
    expect(forbidden.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    responses.push(JSON.stringify(forbidden.body));
    const wsForbidden = await wsFirstResult(
      h.gateway.url,
      `Bearer ${READER_KEY}`,
      CreateTrueMoneyChargeDocument,
      {
        input: { amount: 10_000 },
      },
    );
    expect(wsForbidden).toMatchObject({ kind: 'errors', codes: ['FORBIDDEN'] });
    responses.push(JSON.stringify(wsForbidden));
    const wsRefused = await wsFirstResult(h.gateway.url, `Bearer ${tampered}`, ChargeDocument, { id });
    expect(wsRefused).toEqual({ kind: 'closed', code: 4403 });

    // The capture saw the whole story, from both processes' components, at debug level.
    const logText = h.logs.map((line) => JSON.stringify(line)).join('\n');
    expect(h.logs.length).toBeGreaterThan(20);
    expect(h.logs.some((line) => line.level === 20)).toBe(true);
    expect(h.logs.some((line) => line.component === 'simulator')).toBe(true);
    expect(logText).toContain(id);

    const secrets: Record<string, string> = {
      'Omise secret key': h.sim.secretKey,
      'Omise public key': h.sim.publicKey,
      'webhook secret': WEBHOOK_SECRET,
      'token secret': TOKEN_SECRET,
      'API key': API_KEY,
      'reader API key': READER_KEY,
    };
    clientTokens.forEach((token, i) => {
      secrets[`client token ${i}`] = token;
      // The JWS without its prefix, and its signature alone.
      secrets[`client token ${i} (JWS)`] = token.slice('ctok_'.length);
      secrets[`client token ${i} (signature)`] = token.split('.').at(-1) ?? token;
    });
    const responseText = responses.join('\n');
    for (const [name, value] of Object.entries(secrets)) {
      expect({ name, inLogs: logText.includes(value) }).toEqual({ name, inLogs: false });
      expect({ name, inResponses: responseText.includes(value) }).toEqual({ name, inResponses: false });
    }
    // Client tokens are meant for the one response that creates the charge, and nowhere else.
    expect(responseText).not.toContain('ctok_');
  });
});
