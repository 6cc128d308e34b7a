import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import WebSocket from 'ws';
import { ChargeDocument, CreateTrueMoneyChargeDocument } from '../generated/operations.js';
import { dataOf, startHarness, type Harness } from './support/harness.js';
import { wsFirstResult } from './support/ws-auth.js';

/**
 * One set of rules for HTTP and WebSocket (introspection, error codes and request ids, origins), and the
 * deployment settings METRICS_TOKEN, TRUSTED_PROXIES and RATE_LIMIT_CLIENT_PER_MINUTE, on a real gateway.
 */

const READER_KEY = `transport-reader-key-${'r'.repeat(20)}`;
const API_KEYS = JSON.stringify([{ name: 'reader', key: READER_KEY, scopes: ['charges:read'] }]);
const INTROSPECTION = '{ __schema { types { name } } }';

async function postRaw(h: Harness, body: unknown, headers: Record<string, string> = {}) {
  const response = await h.http('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as {
    data?: Record<string, unknown> | null;
    errors?: { message: string; extensions?: Record<string, unknown> }[];
  };
  return { status: response.status, headers: response.headers, body: json };
}

/** The HTTP status of a WebSocket upgrade (101 when accepted). */
function upgradeStatus(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws', { headers });
    socket.once('open', () => {
      socket.close();
      resolve(101);
    });
    socket.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      socket.terminate();
    });
    socket.once('error', (error) => {
      if (socket.readyState !== WebSocket.CLOSED) reject(error);
    });
  });
}

describe('production: the same rules over WebSocket as over HTTP', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { NODE_ENV: 'production', GATEWAY_API_KEYS: API_KEYS } });
  });
  afterAll(async () => {
    await h?.close();
  });
  const authorization = `Bearer ${READER_KEY}`;

  it('refuses introspection over WebSocket too, with GRAPHQL_VALIDATION_FAILED and a request id', async () => {
    const http = await postRaw(h, { query: INTROSPECTION }, { authorization });
    expect(http.status).toBe(400);
    expect(http.body.errors?.[0]?.extensions?.['code']).toBe('GRAPHQL_VALIDATION_FAILED');
    const ws = await wsFirstResult(h.gateway.url, authorization, INTROSPECTION, {});
    expect(ws.kind).toBe('errors');
    if (ws.kind === 'errors') {
      expect(new Set(ws.codes)).toEqual(new Set(['GRAPHQL_VALIDATION_FAILED']));
      expect(ws.messages[0]).toMatch(/introspection/i);
      expect(ws.extensions[0]?.['requestId']).toEqual(expect.any(String));
    }
    // __typename is not introspection of the schema and stays allowed on both.
    const typename = await wsFirstResult(h.gateway.url, authorization, '{ __typename }', {});
    expect(typename).toEqual({ kind: 'data', data: { __typename: 'Query' } });
  });

  it('syntax and validation errors carry the same code and a request id on both transports', async () => {
    const cases = [
      { query: '{ charge(id: "x") { id ', code: 'GRAPHQL_PARSE_FAILED' },
      { query: '{ charge(id: "x") { nope } }', code: 'GRAPHQL_VALIDATION_FAILED' },
    ];
    for (const { query, code } of cases) {
      const http = await postRaw(h, { query }, { authorization });
      expect(http.body.errors?.[0]?.extensions).toMatchObject({ code, requestId: expect.any(String) });
      const ws = await wsFirstResult(h.gateway.url, authorization, query, {});
      expect(ws).toMatchObject({ kind: 'errors', codes: [code] });
      if (ws.kind === 'errors') {
        expect(ws.extensions[0]).toMatchObject({ code, requestId: expect.any(String) });
        expect(JSON.stringify(ws.extensions)).not.toMatch(/stack/i);
      }
    }
  });

  it('/metrics without METRICS_TOKEN in production: loopback only, never through a proxy', async () => {
    // The harness listens on 127.0.0.1: a direct scrape from this host is served.
    const direct = await h.http('/metrics');
    expect(direct.status).toBe(200);
    expect(await direct.text()).toContain('graphql_operations_total');
    // The same request relayed by a reverse proxy on this host is not.
    const proxied = await h.http('/metrics', { headers: { 'x-forwarded-for': '198.51.100.9' } });
    expect(proxied.status).toBe(403);
    await proxied.arrayBuffer();
  });
});

describe('WebSocket upgrade: Origin checked against CORS_ORIGINS', () => {
  let h: Harness;
  beforeAll(async () => {
    // Auth off (test mode): exactly the set-up where a foreign page could move money.
    h = await startHarness({ env: { CORS_ORIGINS: 'https://shop.example' } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('refuses a page of another origin (403), accepts listed, same-origin and Origin-less upgrades', async () => {
    expect(await upgradeStatus(h.gateway.url, { origin: 'https://evil.example' })).toBe(403);
    expect(await upgradeStatus(h.gateway.url, { origin: 'null' })).toBe(403);
    expect(await upgradeStatus(h.gateway.url, { origin: 'https://shop.example' })).toBe(101);
    expect(await upgradeStatus(h.gateway.url, { origin: h.gateway.origin })).toBe(101);
    // Services and phone apps send no Origin: on to authentication as before.
    expect(await upgradeStatus(h.gateway.url, {})).toBe(101);
    expect(h.logs.some((l) => l['msg'] === 'WebSocket upgrade refused: origin not allowed')).toBe(true);
  });

  it('HTTP and WebSocket agree on the same origins', async () => {
    const allowed = await h.http('/graphql', {
      method: 'OPTIONS',
      headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST' },
    });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    const refused = await h.http('/graphql', {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('METRICS_TOKEN', () => {
  const TOKEN = 'metrics-token-0123456789abcdef';
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { METRICS_TOKEN: TOKEN } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('wants Authorization: Bearer <token> on /metrics', async () => {
    const attempts: Record<string, string>[] = [
      {},
      { authorization: 'Bearer wrong' },
      { authorization: TOKEN },
    ];
    for (const headers of attempts) {
      const refused = await h.http('/metrics', { headers });
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(await refused.text()).not.toContain(TOKEN);
    }
    const served = await h.http('/metrics', { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(served.status).toBe(200);
    expect(await served.text()).toContain('http_request_duration_seconds');
    expect(h.gateway.metricsAccess).toEqual({ kind: 'token', token: TOKEN });
    // Health endpoints stay open (load balancers probe them without credentials).
    expect((await h.http('/healthz')).status).toBe(200);
    expect(JSON.stringify(h.logs)).not.toContain(TOKEN);
  });
});

describe('TRUSTED_PROXIES: the client IP for rate limits and logs', () => {
  it('from a trusted peer, the right-most untrusted X-Forwarded-For hop is the client', async () => {
    const h = await startHarness({ env: { RATE_LIMIT_PER_MINUTE: '2', TRUSTED_PROXIES: '127.0.0.1/8' } });
    try {
      const query = { query: '{ __typename }' };
      // The left-most entries are whatever the client sent; the proxy appended the real peer.
      const asClient = (forged: string) => ({ 'x-forwarded-for': `${forged}, 203.0.113.7` });
      expect((await postRaw(h, query, asClient('1.1.1.1'))).status).toBe(200);
      expect((await postRaw(h, query, asClient('2.2.2.2'))).status).toBe(200);
      // A forged left-most entry does not buy a new budget.
      const limited = await postRaw(h, query, asClient('3.3.3.3'));
      expect(limited.status).toBe(429);
      expect(limited.body.errors?.[0]?.extensions?.['code']).toBe('RATE_LIMITED');
      // Another client behind the same proxy has its own budget.
      expect((await postRaw(h, query, { 'x-forwarded-for': '203.0.113.8' })).status).toBe(200);
      // And so does the WebSocket side: 203.0.113.7 is out of budget there too.
      const ws = await wsFirstResultWithHeaders(h, { 'x-forwarded-for': '203.0.113.7' });
      expect(ws).toBe('closed 4403');
      // The log lines carry the client IP, not the proxy's.
      expect(h.logs.some((l) => l['clientIp'] === '203.0.113.8')).toBe(true);
    } finally {
      await h.close();
    }
  });

  it('without TRUSTED_PROXIES, X-Forwarded-For is ignored (anyone can send it)', async () => {
    const h = await startHarness({ env: { RATE_LIMIT_PER_MINUTE: '2' } });
    try {
      const query = { query: '{ __typename }' };
      expect((await postRaw(h, query, { 'x-forwarded-for': '198.51.100.1' })).status).toBe(200);
      expect((await postRaw(h, query, { 'x-forwarded-for': '198.51.100.2' })).status).toBe(200);
      expect((await postRaw(h, query, { 'x-forwarded-for': '198.51.100.3' })).status).toBe(429);
    } finally {
      await h.close();
    }
  });
});

describe('client tokens: one smaller budget per client IP, not one per token', () => {
  it('RATE_LIMIT_CLIENT_PER_MINUTE bounds a caller however many checkouts it opens', async () => {
    const h = await startHarness({
      env: {
        GATEWAY_API_KEYS: JSON.stringify([
          { name: 'checkout', key: `checkout-key-${'c'.repeat(20)}`, scopes: ['charges:create'] },
        ]),
        RATE_LIMIT_PER_MINUTE: '100',
        RATE_LIMIT_CLIENT_PER_MINUTE: '3',
        TRUSTED_PROXIES: 'loopback',
      },
    });
    try {
      const service = { authorization: `Bearer checkout-key-${'c'.repeat(20)}` };
      const charges: { id: string; token: string }[] = [];
      for (let i = 0; i < 4; i++) {
        const created = dataOf(
          await h.gql(CreateTrueMoneyChargeDocument, { input: { amount: 10_000 } }, service),
        ).createTrueMoneyCharge;
        charges.push({ id: created.charge!.id, token: created.clientToken! });
      }
      const read = (i: number, ip: string) =>
        h.gql(
          ChargeDocument,
          { id: charges[i]!.id },
          { authorization: `Bearer ${charges[i]!.token}`, 'x-forwarded-for': ip },
        );
      // Three reads from one address with three different tokens use up that address's budget...
      for (const i of [0, 1, 2]) expect((await read(i, '192.0.2.10')).status).toBe(200);
      const limited = await read(3, '192.0.2.10');
      expect(limited.status).toBe(429);
      expect(limited.body.errors?.[0]?.extensions?.['code']).toBe('RATE_LIMITED');
      // ...another address keeps its own, and the service key its (larger) one.
      expect((await read(3, '192.0.2.11')).status).toBe(200);
      const more = await h.gql(CreateTrueMoneyChargeDocument, { input: { amount: 10_000 } }, service);
      expect(more.status).toBe(200);
    } finally {
      await h.close();
    }
  });
});

/** Opens a socket with extra upgrade headers, sends connection_init; how it ended. */
function wsFirstResultWithHeaders(h: Harness, headers: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(h.gateway.url.replace(/^http/, 'ws'), 'graphql-transport-ws', {
      headers,
    });
    socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: {} })));
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as { type: string };
      if (message.type === 'connection_ack') {
        socket.close();
        resolve('ack');
      }
    });
    socket.once('close', (code) => resolve(`closed ${code}`));
    socket.once('error', reject);
  });
}
