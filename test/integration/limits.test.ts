import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import WebSocket from 'ws';
import { ChargeDocument, CreateTrueMoneyChargeDocument } from '../generated/operations.js';
import { dataOf, startHarness, type Harness } from './support/harness.js';
import { subscribeToChargeStatus, wsClient } from './support/ws-client.js';
import { wsFirstResult } from './support/ws-auth.js';

/** Query, request, WebSocket and rate limits, and the production rules, on a real gateway. */

async function postRaw(h: Harness, body: unknown, headers: Record<string, string> = {}) {
  const response = await h.http('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const json = (await response.json()) as {
    data?: Record<string, unknown> | null;
    errors?: { message: string; extensions?: Record<string, unknown> }[];
  };
  return { status: response.status, headers: response.headers, body: json };
}

/** Many charges, each with many fields: complexity grows with `first`. */
const WIDE_PAGE = `query Wide($n: Int) {
  charges(first: $n) { edges { node { id status amount currency sourceType description metadata paid
    refundedAmount refundable voidable voided livemode createdAt paidAt expiresAt } } }
}`;

describe('query and WebSocket limits (test mode)', () => {
  let h: Harness;
  let chargeId = '';
  beforeAll(async () => {
    h = await startHarness({
      env: { RATE_LIMIT_PER_MINUTE: '0' },
      overrides: {
        // The schema is shallow (depth 5 at most): a lower limit makes "too deep" reachable.
        queryLimits: { maxDepth: 4 },
        websocket: { maxSubscriptionsPerConnection: 2 },
      },
    });
    chargeId = dataOf(await h.gql(CreateTrueMoneyChargeDocument, { input: { amount: 10_000 } }))
      .createTrueMoneyCharge.charge!.id;
  });
  afterAll(async () => {
    await h?.close();
  });

  const DEEP = '{ charges { edges { node { refunds { id } } } } }';

  it('refuses a too-deep query before execution, over HTTP and WebSocket (no Omise call)', async () => {
    const before = h.omiseRequests.length;
    const http = await postRaw(h, { query: DEEP });
    expect(http.status).toBe(400);
    expect(http.body.data).toBeUndefined();
    expect(http.body.errors?.[0]?.message).toMatch(/depth limit of 4 exceeded/i);
    const ws = await wsFirstResult(h.gateway.url, undefined, DEEP, {});
    expect(ws.kind).toBe('errors');
    if (ws.kind === 'errors') expect(ws.messages[0]).toMatch(/depth limit of 4 exceeded/i);
    expect(h.omiseRequests.length).toBe(before);
    // Within the limit, the same fields run.
    const shallow = await postRaw(h, { query: '{ charges(first: 1) { edges { node { id } } } }' });
    expect(shallow.body.errors).toBeUndefined();
    expect(h.omiseRequests.length).toBeGreaterThan(before);
  });

  it('refuses a too-complex query (complexity from the variables) before execution, over HTTP and WebSocket', async () => {
    const before = h.omiseRequests.length;
    const http = await postRaw(h, { query: WIDE_PAGE, variables: { n: 1000 } });
    expect(http.status).toBe(400);
    expect(http.body.errors?.[0]).toMatchObject({ extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
    expect(http.body.errors?.[0]?.message).toMatch(/complexity limit of 5000 exceeded/i);
    const ws = await wsFirstResult(h.gateway.url, undefined, WIDE_PAGE, { n: 1000 });
    expect(ws).toMatchObject({ kind: 'errors', codes: ['GRAPHQL_VALIDATION_FAILED'] });
    expect(h.omiseRequests.length).toBe(before);

    // The same text with small variables runs: the WebSocket document cache keeps the text's
    // validation, never a verdict that depended on the variables.
    const parsesBefore = h.gateway.documentCache.parses;
    const small = await wsFirstResult(h.gateway.url, undefined, WIDE_PAGE, { n: 1 });
    expect(small.kind).toBe('data');
    expect(h.gateway.documentCache.parses).toBe(parsesBefore);
    expect(h.gateway.documentCache.hits).toBeGreaterThan(0);
  });

  it('refuses too many aliases, too many root fields and batched requests', async () => {
    const before = h.omiseRequests.length;
    const aliases = Array.from({ length: 16 }, (_, i) => `a${i}: id`).join(' ');
    const aliased = await postRaw(h, { query: `{ charge(id: "${chargeId}") { ${aliases} } }` });
    expect(aliased.status).toBe(400);
    expect(aliased.body.errors?.[0]?.message).toMatch(/aliases limit of 15 exceeded/i);

    const roots = Array.from({ length: 11 }, (_, i) => `c${i}: charge(id: "${chargeId}") { id }`).join(' ');
    const wide = await postRaw(h, { query: `{ ${roots} }` });
    expect(wide.status).toBe(400);

    const batched = await postRaw(h, [{ query: '{ __typename }' }, { query: '{ __typename }' }]);
    expect(batched.status).toBe(400);
    expect(JSON.stringify(batched.body)).toMatch(/batching/i);
    expect(h.omiseRequests.length).toBe(before);
  });

  it('answers an oversized body with 413', async () => {
    const response = await h.http('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(1024 * 1024) } }),
    });
    expect(response.status).toBe(413);
    await response.arrayBuffer();
  });

  it('closes a WebSocket that sends a message over 64 KiB with 1009', async () => {
    const socket = new WebSocket(h.gateway.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { pad: 'x'.repeat(65 * 1024) } }));
    expect(await closed).toBe(1009);
    expect(h.logs.some((line) => line.msg === 'WebSocket closed on a protocol error')).toBe(true);
  });

  it('refuses a third operation at once on one connection (limit 2 here)', async () => {
    const client = wsClient(h.gateway.url);
    const first = subscribeToChargeStatus(h.gateway.url, chargeId, client);
    const second = subscribeToChargeStatus(h.gateway.url, chargeId, client);
    try {
      await first.received(1);
      await second.received(1);
      const third = subscribeToChargeStatus(h.gateway.url, chargeId, client);
      expect(await third.ended).toBe('error');
      expect(third.errors.map((e) => e.extensions?.['code'])).toEqual(['TOO_MANY_SUBSCRIPTIONS']);
    } finally {
      await first.close();
      await second.close();
    }
  });
});

describe('rate limits (RATE_LIMIT_PER_MINUTE=3)', () => {
  const key = (name: string) => `rate-limit-key-${name}-${'r'.repeat(20)}`;
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      env: {
        RATE_LIMIT_PER_MINUTE: '3',
        GATEWAY_API_KEYS: JSON.stringify(
          ['http', 'other', 'ws'].map((name) => ({ name, key: key(name), scopes: ['charges:read'] })),
        ),
      },
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  const query = { query: '{ __typename }' };

  it('HTTP: a burst beyond the budget gets 429 RATE_LIMITED with a retry hint; other credentials keep theirs', async () => {
    const authorization = `Bearer ${key('http')}`;
    for (let i = 0; i < 3; i += 1) {
      expect((await postRaw(h, query, { authorization })).status).toBe(200);
    }
    const limited = await postRaw(h, query, { authorization });
    expect(limited.status).toBe(429);
    const retryAfter = limited.body.errors?.[0]?.extensions?.['retryAfterSeconds'];
    expect(limited.body.errors?.[0]?.extensions?.['code']).toBe('RATE_LIMITED');
    expect(typeof retryAfter).toBe('number');
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limited.headers.get('retry-after')).toBe(String(retryAfter));

    // Per credential: another key still has its budget.
    expect((await postRaw(h, query, { authorization: `Bearer ${key('other')}` })).status).toBe(200);
    // Without a (valid) credential, per IP: refused attempts count too, then they are rate limited.
    const anonymous = [];
    for (let i = 0; i < 4; i += 1) anonymous.push((await postRaw(h, query)).status);
    expect(anonymous).toEqual([401, 401, 401, 429]);
  });

  it('WebSocket: operations count (the connection too); beyond the budget RATE_LIMITED with retryAfterSeconds', async () => {
    const authorization = `Bearer ${key('ws')}`;
    // connection_init (1) + operation (2).
    const first = await wsFirstResult(h.gateway.url, authorization, ChargeDocument, {
      id: 'chrg_test_0000000000000000001',
    });
    expect(first).toEqual({ kind: 'data', data: { charge: null } });
    // connection_init (3) + operation (4): over.
    const second = await wsFirstResult(h.gateway.url, authorization, '{ __typename }', {});
    expect(second).toMatchObject({ kind: 'errors', codes: ['RATE_LIMITED'] });
    if (second.kind === 'errors') {
      expect(second.extensions[0]?.['retryAfterSeconds']).toEqual(expect.any(Number));
      expect(second.extensions[0]?.['http']).toBeUndefined();
    }
    // A new connection over the budget is refused at connection_init.
    const third = await wsFirstResult(h.gateway.url, authorization, '{ __typename }', {});
    expect(third).toEqual({ kind: 'closed', code: 4403 });
  });
});

describe('rate limits shared on Redis (two gateways, RATE_LIMIT_PER_MINUTE=3)', () => {
  const KEY = `shared-budget-key-${'s'.repeat(20)}`;
  let a: Harness;
  let b: Harness;
  beforeAll(async () => {
    const env = {
      RATE_LIMIT_PER_MINUTE: '3',
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_KEY_PREFIX: `tmgw-test-ratelimit-${randomBytes(6).toString('hex')}:`,
      GATEWAY_API_KEYS: JSON.stringify([{ name: 'shared', key: KEY, scopes: ['charges:read'] }]),
    };
    a = await startHarness({ env });
    b = await startHarness({ env });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('one budget per credential across instances', async () => {
    expect(a.gateway.rateLimiter.store).toBe('redis');
    const authorization = `Bearer ${KEY}`;
    const statuses = [];
    for (const h of [a, a, b, b, a]) {
      statuses.push((await postRaw(h, { query: '{ __typename }' }, { authorization })).status);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
  });
});

describe('production rules (NODE_ENV=production, auth on)', () => {
  const KEY = `production-reader-key-${'p'.repeat(20)}`;
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      env: {
        NODE_ENV: 'production',
        GATEWAY_API_KEYS: JSON.stringify([{ name: 'reader', key: KEY, scopes: ['charges:read'] }]),
      },
      wrapPayments: (payments) => ({
        ...payments,
        getCharge: (id) =>
          id === 'chrg_test_00000000000000000bug'
            ? Promise.reject(new Error('lookup failed: db password hunter2'))
            : payments.getCharge(id),
      }),
    });
  });
  afterAll(async () => {
    await h?.close();
  });
  const authorization = `Bearer ${KEY}`;

  it('hides introspection even from a valid credential, and the landing page', async () => {
    const response = await postRaw(h, { query: '{ __schema { types { name } } }' }, { authorization });
    expect(response.status).toBe(400);
    expect(JSON.stringify(response.body)).toMatch(/introspection/i);
    const page = await h.http('/graphql', { headers: { accept: 'text/html' } });
    expect(page.headers.get('content-type') ?? '').not.toContain('text/html');
    await page.arrayBuffer();
  });

  it('GRAPHQL_INTROSPECTION=true turns introspection and the landing page back on', async () => {
    const open = await startHarness({
      env: {
        NODE_ENV: 'production',
        GRAPHQL_INTROSPECTION: 'true',
        GATEWAY_API_KEYS: JSON.stringify([{ name: 'reader', key: KEY, scopes: ['charges:read'] }]),
      },
    });
    try {
      const response = await postRaw(
        open,
        { query: '{ __schema { queryType { name } } }' },
        { authorization },
      );
      expect(response.body).toEqual({ data: { __schema: { queryType: { name: 'Query' } } } });
      const page = await open.http('/graphql', { headers: { accept: 'text/html' } });
      expect(page.headers.get('content-type')).toContain('text/html');
      await page.arrayBuffer();
    } finally {
      await open.close();
    }
  });

  it('masks an internal error, with no stack trace and a request id the log has', async () => {
    const response = await postRaw(
      h,
      {
        query: 'query($id: ID!) { charge(id: $id) { id } }',
        variables: { id: 'chrg_test_00000000000000000bug' },
      },
      { authorization },
    );
    expect(response.status).toBe(200);
    const [error] = response.body.errors ?? [];
    expect(error?.message).toBe('Internal server error');
    expect(error?.extensions?.['code']).toBe('INTERNAL_SERVER_ERROR');
    const requestId = error?.extensions?.['requestId'];
    expect(typeof requestId).toBe('string');
    expect(response.headers.get('x-request-id')).toBe(requestId);
    const text = JSON.stringify(response.body);
    expect(text).not.toMatch(/hunter2|stacktrace|\bat .*\.(ts|js):\d+/);
    // The operator finds the real error by the request id.
    const logged = h.logs.filter((line) => line.requestId === requestId);
    expect(JSON.stringify(logged)).toContain('hunter2');
  });

  it('masks an internal error over WebSocket too, with a request id the log has', async () => {
    const outcome = await wsFirstResult(h.gateway.url, authorization, ChargeDocument, {
      id: 'chrg_test_00000000000000000bug',
    });
    expect(outcome).toMatchObject({
      kind: 'errors',
      codes: ['INTERNAL_SERVER_ERROR'],
      messages: ['Internal server error'],
    });
    if (outcome.kind !== 'errors') return;
    expect(JSON.stringify(outcome)).not.toMatch(/hunter2|stacktrace/);
    const requestId = outcome.extensions[0]?.['requestId'];
    expect(typeof requestId).toBe('string');
    const logged = h.logs.filter((line) => line.requestId === requestId);
    expect(JSON.stringify(logged)).toContain('hunter2');
  });
});
