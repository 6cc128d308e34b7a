import { afterEach, describe, expect, it } from '@jest/globals';
import { OmiseClient } from '../../src/omise/client.js';
import {
  mayHaveBeenProcessed,
  mayStillBeInFlight,
  omiseFailureKind,
  OmiseNetworkError,
  OmiseTimeoutError,
} from '../../src/omise/errors.js';
import { BufferedResponse } from '../../src/omise/buffered-response.js';
import { createPooledFetch, type PooledFetch } from '../../src/omise/pooled-fetch.js';
import {
  chargeBody,
  closedPort,
  sendJson,
  startTestServer,
  TEST_SECRET_KEY,
  type Handler,
  type TestServer,
} from './support/test-server.js';

/**
 * The OmiseClient's default fetch (undici pools) against real HTTP servers, next to Node's own fetch:
 * every failure must be classified the same whichever fetch ran, since what the payments layer does
 * after a failed create (retry, reconcile, "may have been processed") depends on that classification.
 */

const servers: TestServer[] = [];
const fetches: PooledFetch[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await Promise.all(fetches.splice(0).map((f) => f.close()));
});

async function serve(handler: Handler): Promise<TestServer> {
  const server = await startTestServer(handler);
  servers.push(server);
  return server;
}

function pooled(): PooledFetch {
  const f = createPooledFetch();
  fetches.push(f);
  return f;
}

const FETCHES: [string, () => typeof globalThis.fetch][] = [
  ['pooled undici fetch', pooled],
  ["Node's fetch", () => (input, init) => fetch(input, init)],
];

function clientFor(baseUrl: string, fetchImpl: typeof globalThis.fetch, timeoutMs = 2000) {
  return new OmiseClient({
    baseUrl,
    secretKey: TEST_SECRET_KEY,
    timeoutMs,
    maxAttempts: 3,
    fetch: fetchImpl,
    sleep: async () => undefined,
  });
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

const createParams = { amount: 20000, currency: 'THB', source: 'src_test_5zsource' } as const;

describe.each(FETCHES)('failures through the %s', (_name, makeFetch) => {
  it('a connection lost after the POST was sent: a network error that may have been processed, not retried', async () => {
    const server = await serve((_req, _res, _i, socket) => socket.destroy());
    const error = await rejection(clientFor(server.url, makeFetch()).createCharge(createParams));
    expect(error).toBeInstanceOf(OmiseNetworkError);
    expect((error as OmiseNetworkError).causeCode).toBe('UND_ERR_SOCKET');
    expect(omiseFailureKind(error)).toBe('network_error');
    expect(mayHaveBeenProcessed(error)).toBe(true);
    expect(mayStillBeInFlight(error)).toBe(true);
    expect(server.requests).toHaveLength(1);
  });

  it('a connection lost in the middle of the response body: the same network error', async () => {
    const server = await serve((_req, res, _i, socket) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 1000 });
      res.write('{"object":"charge",', () => socket.destroy());
    });
    const error = await rejection(clientFor(server.url, makeFetch()).createCharge(createParams));
    expect(error).toBeInstanceOf(OmiseNetworkError);
    expect((error as OmiseNetworkError).causeCode).toBe('UND_ERR_SOCKET');
    expect(mayHaveBeenProcessed(error)).toBe(true);
    expect(server.requests).toHaveLength(1);
  });

  it('a refused connection: never reached the server, so a POST is retried', async () => {
    const port = await closedPort();
    const error = await rejection(
      clientFor(`http://127.0.0.1:${port}`, makeFetch()).createCharge(createParams),
    );
    expect(error).toBeInstanceOf(OmiseNetworkError);
    expect((error as OmiseNetworkError).causeCode).toBe('ECONNREFUSED');
    expect(mayHaveBeenProcessed(error)).toBe(false);
  });

  it('a timeout aborts the request: the server sees its connection closed', async () => {
    let closed!: () => void;
    const connectionClosed = new Promise<void>((resolve) => (closed = resolve));
    const server = await serve((_req, _res, _i, socket) => socket.on('close', () => closed()));
    const error = await rejection(clientFor(server.url, makeFetch(), 150).expireCharge('chrg_test_x'));
    expect(error).toBeInstanceOf(OmiseTimeoutError);
    expect(mayHaveBeenProcessed(error)).toBe(true);
    await connectionClosed;
    expect(server.requests).toHaveLength(1);
  });
});

describe.each(FETCHES)(
  'a Request with the signal and body of its init, through the %s',
  (_name, makeFetch) => {
    it('sends the Request with the text body of the init and its own method, URL and headers', async () => {
      const server = await serve((req, res) =>
        sendJson(res, 200, {
          seen: [req.method, req.url, req.headers['content-type'], req.headers['x-test'], req.body],
        }),
      );
      const f = makeFetch();
      const request = new Request(`${server.url}/charges?x=1`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-test': 'yes' },
      });
      const response = await f(request, { body: '{"amount":1}', signal: new AbortController().signal });
      expect(await response.json()).toEqual({
        seen: ['POST', '/charges?x=1', 'application/json', 'yes', '{"amount":1}'],
      });
      // Without a content type a text body is text/plain, as the Request constructor makes it.
      const plain = await f(new Request(server.url, { method: 'PATCH' }), { body: 'é' });
      expect(await plain.json()).toEqual({
        seen: ['PATCH', '/', 'text/plain;charset=UTF-8', null, 'é'],
      });
    });

    it('refuses a body for a GET, as fetch does', async () => {
      const server = await serve((_req, res) => sendJson(res, 200, {}));
      const error = await rejection(makeFetch()(new Request(server.url), { body: 'x' }));
      expect((error as Error).name).toBe('TypeError');
      expect(server.requests).toHaveLength(0);
    });
  },
);

describe('the pooled fetch', () => {
  it('keeps the connection alive across calls', async () => {
    const sockets = new Set<unknown>();
    const server = await serve((_req, res, _i, socket) => {
      sockets.add(socket);
      sendJson(res, 200, chargeBody());
    });
    const client = clientFor(server.url, pooled());
    for (let i = 0; i < 6; i++) await client.retrieveCharge('chrg_test_5zabcdefghijklmnopq');
    expect(server.requests).toHaveLength(6);
    // undici frees a connection a tick after its body is read, so back-to-back calls may alternate
    // between two pooled connections; without keep-alive there would be six.
    expect(sockets.size).toBeLessThanOrEqual(2);
  });

  it('answers a standard Response: status, repeated headers, body, and no body where none is allowed', async () => {
    const server = await serve((req, res) => {
      if (req.url === '/empty') {
        res.writeHead(204);
        res.end();
        return;
      }
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.writeHead(418, { 'content-type': 'text/plain', 'retry-after': '3' });
      res.end(`${req.method} ${req.headers['x-test'] ?? ''} ${req.body}`);
    });
    const f = pooled();
    const response = await f(`${server.url}/teapot?q=1`, {
      method: 'POST',
      headers: { 'x-test': 'yes' },
      body: 'hello',
    });
    // Its body already read whole into memory (buffered-response.test.ts checks it against Response).
    expect(response).toBeInstanceOf(BufferedResponse);
    expect(response.ok).toBe(false);
    expect(response.status).toBe(418);
    expect(response.headers.get('retry-after')).toBe('3');
    expect(response.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(await response.text()).toBe('POST yes hello');
    expect(server.requests[0]?.url).toBe('/teapot?q=1');
    const empty = await f(`${server.url}/empty`);
    expect(empty.status).toBe(204);
    expect(empty.body).toBeNull();
  });

  it('does not follow redirects', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(302, { location: '/elsewhere', 'content-length': 0 });
      res.end();
    });
    const response = await pooled()(`${server.url}/start`);
    expect(response.status).toBe(302);
    expect(server.requests).toHaveLength(1);
  });

  it('sends the Request it is given, with the signal of an init that holds only a signal', async () => {
    let answer!: () => void;
    const server = await serve((req, res) => {
      answer = () =>
        sendJson(res, 200, { seen: `${req.method} ${req.url} ${req.headers['x-test']} ${req.body}` });
    });
    const f = pooled();
    const request = new Request(`${server.url}/charges?x=1`, {
      method: 'POST',
      headers: { 'x-test': 'yes' },
      body: 'payload',
    });
    const deadline = new AbortController();
    const pending = f(request, { signal: deadline.signal });
    await until(() => server.requests.length === 1);
    deadline.abort(new Error('deadline'));
    await expect(pending).rejects.toThrow('deadline');

    const later = f(
      new Request(`${server.url}/charges?x=2`, { method: 'POST', headers: { 'x-test': 'no' }, body: 'b' }),
      {},
    );
    await until(() => server.requests.length === 2);
    answer();
    expect(await (await later).json()).toEqual({ seen: 'POST /charges?x=2 no b' });
  });

  it('builds a new Request when the init changes more than the signal, as fetch does', async () => {
    const server = await serve((req, res) => sendJson(res, 200, { seen: `${req.method} ${req.body}` }));
    const request = new Request(server.url, { method: 'POST', body: 'first' });
    const response = await pooled()(request, { method: 'PATCH', body: 'second' });
    expect(await response.json()).toEqual({ seen: 'PATCH second' });
  });

  it('rejects at once when aborted while the request still waits for a connection', async () => {
    // A listener that never accepts: the connection attempt hangs in the backlog or times out.
    const controller = new AbortController();
    const f = createPooledFetch({ connections: 1 });
    fetches.push(f);
    const server = await serve((_req, _res) => undefined);
    // The one connection is taken by a request that is never answered...
    const first = f(server.url);
    first.catch(() => undefined);
    await until(() => server.requests.length === 1);
    // ...so this one waits in the pool's queue until its deadline.
    const queued = f(server.url, { signal: controller.signal });
    controller.abort(new Error('deadline while queued'));
    await expect(queued).rejects.toThrow('deadline while queued');
    expect(server.requests).toHaveLength(1);
  });

  it('rejects at once with the reason of a signal that is already aborted, sending nothing', async () => {
    const server = await serve((_req, res) => sendJson(res, 200, {}));
    const controller = new AbortController();
    controller.abort(new Error('gone'));
    await expect(pooled()(server.url, { signal: controller.signal })).rejects.toThrow('gone');
    expect(server.requests).toHaveLength(0);
  });
});
