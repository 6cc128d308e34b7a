import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { GraphQLError, type ValidationRule } from 'graphql';
import { connect } from 'node:net';
import WebSocket from 'ws';
import { ChargeDocument, ChargesDocument, CreateTrueMoneyChargeDocument } from '../generated/operations.js';
import { loadConfig } from '../../src/config/config.js';
import { startGateway } from '../../src/server/gateway.js';
import { startSimulator } from '../../src/simulator/index.js';
import { createTestDatabase } from '../persistence/test-database.js';
import { dataOf, startHarness, type Harness } from './support/harness.js';

/** The HTTP server around GraphQL: health, readiness, metrics, routing, graceful shutdown. */

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

describe('health and readiness', () => {
  it('/healthz answers 200', async () => {
    const response = await h.http('/healthz');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('/readyz is 200 when Omise and the stores answer, 503 while Omise fails', async () => {
    const ready = await h.http('/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      status: 'ready',
      checks: { omise: 'ok', keyValueStore: 'ok', pubSub: 'ok' },
    });
    h.sim.faults.set({ errorRate: 1 });
    try {
      const failing = await h.http('/readyz');
      expect(failing.status).toBe(503);
      expect(await failing.json()).toMatchObject({ status: 'not ready', checks: { omise: 'failed' } });
    } finally {
      h.sim.faults.reset();
    }
    expect((await h.http('/readyz')).status).toBe(200);
  });

  it('/readyz is 503 once the simulator is closed', async () => {
    const own = await startHarness();
    try {
      expect((await own.http('/readyz')).status).toBe(200);
      await own.sim.close();
      const response = await own.http('/readyz');
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ checks: { omise: 'failed', keyValueStore: 'ok' } });
    } finally {
      await own.close();
    }
  });

  it('/readyz says timeout when Omise does not answer within the readiness timeout', async () => {
    const own = await startHarness({ overrides: { readinessTimeoutMs: 50 } });
    own.sim.faults.set({ latencyMs: 2000 });
    try {
      const response = await own.http('/readyz');
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ checks: { omise: 'timeout' } });
    } finally {
      own.sim.faults.reset();
      await own.close();
    }
  });
});

describe('/metrics', () => {
  it('exposes process, HTTP, GraphQL and Omise metrics in Prometheus text format', async () => {
    const created = dataOf(await h.gql(CreateTrueMoneyChargeDocument, { input: { amount: 10_000 } }));
    await h.gql(ChargeDocument, { id: created.createTrueMoneyCharge.charge!.id });
    const response = await h.http('/metrics');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toMatch(
      /http_request_duration_seconds_count\{method="POST",route="\/graphql",status_code="200"\} \d+/,
    );
    expect(text).toMatch(/graphql_operations_total\{operation_type="mutation",outcome="ok"\} \d+/);
    expect(text).toMatch(/graphql_operations_total\{operation_type="query",outcome="ok"\} \d+/);
    expect(text).toMatch(/omise_requests_total\{operation="createCharge",outcome="ok"\} 1\b/);
    // The charge read right after its creation comes from the charge cache, not from Omise.
    expect(text).toMatch(/charge_cache_lookups_total\{outcome="hit"\} 1\b/);
    expect(text).toMatch(/charge_cache_entries 1\b/);
    expect(text).toMatch(/omise_request_duration_seconds_count\{operation="createCharge"\} 1\b/);
  });
});

describe('routing', () => {
  it('404 for unknown paths, 405 with Allow for a known path; the webhook receiver is wired by default', async () => {
    const missing = await h.http('/nope');
    expect(missing.status).toBe(404);
    await missing.arrayBuffer();
    const wrongMethod = await h.http('/healthz', { method: 'POST' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET');
    await wrongMethod.arrayBuffer();
    // Not JSON-typed: refused by the Omise webhook handler (no secret configured here), not 501.
    const webhook = await h.http('/webhooks/omise', { method: 'POST', body: '{}' });
    expect(webhook.status).toBe(415);
    await webhook.arrayBuffer();
  });

  it('a request target that is not a URL gets 400, and the server keeps serving', async () => {
    const { hostname, port } = new URL(h.gateway.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => {
        socket.write('GET http://[ HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
      });
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (text += chunk));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
    const health = await h.http('/healthz');
    expect(health.status).toBe(200);
    await health.arrayBuffer();
  });

  it('a webhook receiver gets the raw bytes and headers and answers for the route', async () => {
    const received: { raw: string; signature: unknown }[] = [];
    const own = await startHarness({
      overrides: {
        webhookReceiver: async ({ headers, rawBody }) => {
          received.push({ raw: rawBody.toString('utf8'), signature: headers['omise-signature'] });
          return { status: 200, body: { received: true } };
        },
      },
    });
    try {
      const body = '{"object":"event", "key":"charge.complete"}';
      const response = await own.http('/webhooks/omise', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'omise-signature': 'abc' },
        body,
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ received: true });
      expect(received).toEqual([{ raw: body, signature: 'abc' }]);
    } finally {
      await own.close();
    }
  });
});

describe('extension points', () => {
  it('extendContext can refuse an operation with a GraphQL error and its HTTP status', async () => {
    const own = await startHarness({
      overrides: {
        extendContext: async (req, base) => {
          if (req.headers.authorization === 'Bearer let-me-in') return base;
          throw new GraphQLError('Missing or unknown credential', {
            extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } },
          });
        },
      },
    });
    try {
      const refused = await own.gql(ChargeDocument, { id: 'chrg_test_0000000000000000001' });
      expect(refused.status).toBe(401);
      expect(refused.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      const allowed = await own.gql(
        ChargeDocument,
        { id: 'chrg_test_0000000000000000001' },
        { authorization: 'Bearer let-me-in' },
      );
      expect(allowed.status).toBe(200);
      expect(allowed.body).toEqual({ data: { charge: null } });
    } finally {
      await own.close();
    }
  });

  it('an unforeseen error in extendContext is masked, with the request id the log has', async () => {
    const own = await startHarness({
      overrides: {
        extendContext: async () => {
          throw new Error('token store password is hunter2');
        },
      },
    });
    try {
      const response = await own.gql(ChargeDocument, { id: 'chrg_test_0000000000000000001' });
      const requestId = response.headers.get('x-request-id');
      expect(response.status).toBe(500);
      expect(response.body.errors).toEqual([
        { message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR', requestId } },
      ]);
      expect(JSON.stringify(own.logs.filter((l) => l.requestId === requestId))).toContain('hunter2');
    } finally {
      await own.close();
    }
  });

  it('an unforeseen error in a WebSocket operation closes the socket without the error message', async () => {
    const own = await startHarness({
      overrides: {
        websocket: {
          extendContext: async () => {
            throw new Error('token store password is hunter2');
          },
        },
      },
    });
    try {
      const socket = new WebSocket(own.gateway.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
      const received: string[] = [];
      const closed = new Promise<string>((resolve) => {
        socket.on('close', (code, reason) => resolve(`${code} ${reason.toString()}`));
      });
      socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init' })));
      socket.on('message', (data: Buffer) => {
        received.push(data.toString());
        const message = JSON.parse(data.toString()) as { type: string };
        if (message.type === 'connection_ack') {
          socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: '{ __typename }' } }));
        } else {
          socket.close();
        }
      });
      const closing = await closed;
      expect(closing).not.toContain('hunter2');
      expect(received.join('\n')).not.toContain('hunter2');
      const answer = JSON.parse(received.at(-1) ?? '{}') as { type: string; payload: unknown };
      expect(answer.type).toBe('error');
      expect(answer.payload).toEqual([
        expect.objectContaining({
          message: 'Internal server error',
          extensions: expect.objectContaining({ code: 'INTERNAL_SERVER_ERROR' }),
        }),
      ]);
      expect(JSON.stringify(own.logs)).toContain('hunter2');
    } finally {
      await own.close();
    }
  });

  it('extra validation rules and Apollo plugins take part in every operation', async () => {
    const noCharges: ValidationRule = (context) => ({
      Field(node) {
        if (node.name.value === 'charges') context.reportError(new GraphQLError('charges is switched off'));
      },
    });
    const own = await startHarness({
      overrides: {
        validationRules: [noCharges],
        apolloPlugins: [
          {
            async requestDidStart() {
              return {
                async willSendResponse({ response }) {
                  response.http.headers.set('x-extra-plugin', 'ran');
                },
              };
            },
          },
        ],
      },
    });
    try {
      const refused = await own.gql(ChargesDocument, {});
      expect(refused.status).toBe(400);
      expect(refused.body.errors?.[0]?.message).toBe('charges is switched off');
      expect(refused.headers.get('x-extra-plugin')).toBe('ran');
    } finally {
      await own.close();
    }
  });
});

describe('live keys', () => {
  it('startGateway refuses a live config without API keys, webhook secret, token secret or database, saying why', async () => {
    const sim = await startSimulator();
    const db = await createTestDatabase();
    try {
      const config = loadConfig({
        PORT: '0',
        HOST: '127.0.0.1',
        OMISE_API_URL: sim.url,
        OMISE_SECRET_KEY: 'skey_5xlivekey000000000000',
        GATEWAY_API_KEYS: JSON.stringify([{ name: 'ops', key: 'k'.repeat(32), scopes: ['charges:read'] }]),
        OMISE_WEBHOOK_SECRET: Buffer.from('w'.repeat(32)).toString('base64'),
        GATEWAY_TOKEN_SECRET: 't'.repeat(32),
        DATABASE_URL: db.url,
        LOG_LEVEL: 'silent',
      });
      // loadConfig refuses such an environment; a config built by hand must be refused too.
      await expect(startGateway({ ...config, apiKeys: [] })).rejects.toThrow(/GATEWAY_API_KEYS/);
      await expect(startGateway({ ...config, webhookSecret: undefined })).rejects.toThrow(
        /OMISE_WEBHOOK_SECRET/,
      );
      await expect(startGateway({ ...config, tokenSecret: undefined })).rejects.toThrow(
        /GATEWAY_TOKEN_SECRET/,
      );
      await expect(
        startGateway({ ...config, database: { ...config.database, url: undefined } }),
      ).rejects.toThrow(/DATABASE_URL/);
      // Complete: it starts, with auth on.
      const gateway = await startGateway(config);
      try {
        expect(gateway.auth.enabled).toBe(true);
        // Only digests remain: the config no longer holds the keys.
        expect(config.apiKeys.map((k) => k.key)).toEqual(['[hashed]']);
        const response = await fetch(gateway.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: '{ __typename }' }),
        });
        expect(response.status).toBe(401);
      } finally {
        await gateway.close();
      }
    } finally {
      await db.drop();
      await sim.close();
    }
  });
});

describe('logs', () => {
  it('never carry the Omise secret key or an authorization header, even when given whole objects', async () => {
    await h.gql(
      CreateTrueMoneyChargeDocument,
      { input: { amount: 10_000 } },
      { authorization: 'Bearer s3cr3t-token' },
    );
    h.gateway.logger.info({ config: { omise: { secretKey: h.sim.secretKey } } }, 'config dump by mistake');
    h.gateway.logger.info({ req: { headers: { authorization: 'Bearer s3cr3t-token' } } }, 'request dump');
    const text = JSON.stringify(h.logs);
    expect(h.logs.length).toBeGreaterThan(2);
    expect(text).toContain('config dump by mistake');
    expect(text).not.toContain(h.sim.secretKey);
    expect(text).not.toContain('s3cr3t-token');
  });
});

describe('CORS', () => {
  it('answers preflights and marks responses for the origins in CORS_ORIGINS only', async () => {
    const own = await startHarness({ env: { CORS_ORIGINS: 'https://shop.example, https://admin.example' } });
    try {
      const preflight = await own.http('/graphql', {
        method: 'OPTIONS',
        headers: {
          origin: 'https://shop.example',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization, content-type',
        },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe('https://shop.example');
      expect(preflight.headers.get('access-control-allow-headers')).toContain('authorization');
      expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');

      const post = await own.http('/graphql', {
        method: 'POST',
        headers: { origin: 'https://admin.example', 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      expect(post.headers.get('access-control-allow-origin')).toBe('https://admin.example');
      expect(post.headers.get('access-control-expose-headers')).toContain('x-request-id');
      expect(post.headers.get('vary')).toMatch(/origin/i);
      await post.arrayBuffer();

      const stranger = await own.http('/graphql', {
        method: 'OPTIONS',
        headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
      });
      expect(stranger.headers.get('access-control-allow-origin')).toBeNull();
      expect(stranger.headers.get('access-control-allow-methods')).toBeNull();
    } finally {
      await own.close();
    }
  });
});

describe('graceful shutdown', () => {
  it('lets an in-flight request finish, closes idle keep-alive sockets, then refuses connections', async () => {
    // A long grace period: close() can only resolve in time if it closes idle sockets itself.
    const own = await startHarness({ overrides: { shutdownGraceMs: 60_000 } });
    try {
      // An idle keep-alive connection (fetch keeps its sockets open).
      expect((await own.http('/healthz')).status).toBe(200);

      own.sim.faults.set({ latencyMs: 300 });
      const requestsBefore = own.omiseRequests.length;
      const inFlight = own.gql(CreateTrueMoneyChargeDocument, { input: { amount: 10_000 } });
      while (own.omiseRequests.length === requestsBefore) await new Promise((r) => setImmediate(r));

      const closed = own.gateway.close();
      const response = await inFlight;
      expect(response.status).toBe(200);
      expect(dataOf(response).createTrueMoneyCharge.charge?.status).toBe('PENDING');
      await closed;
      await expect(fetch(`${own.gateway.origin}/healthz`)).rejects.toThrow();
    } finally {
      await own.close();
    }
  });
});
