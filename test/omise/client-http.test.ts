import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { OmiseClient, type OmiseClientOptions } from '../../src/omise/client.js';
import { OmiseError, OmiseNetworkError, OmiseTimeoutError } from '../../src/omise/errors.js';
import {
  chargeBody,
  closedPort,
  listBody,
  sendJson,
  startTestServer,
  TEST_PUBLIC_KEY,
  TEST_SECRET_KEY,
  type TestServer,
} from './support/test-server.js';

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(...args: Parameters<typeof startTestServer>): Promise<TestServer> {
  const server = await startTestServer(...args);
  servers.push(server);
  return server;
}

/** A client whose waits between attempts are recorded instead of slept. */
function clientFor(baseUrl: string, options: Partial<OmiseClientOptions> = {}) {
  const delays: number[] = [];
  const client = new OmiseClient({
    baseUrl,
    secretKey: TEST_SECRET_KEY,
    publicKey: TEST_PUBLIC_KEY,
    timeoutMs: 2000,
    maxAttempts: 3,
    sleep: async (ms) => {
      delays.push(ms);
    },
    ...options,
  });
  return { client, delays };
}

const basic = (key: string) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

describe('requests', () => {
  it('sends Basic auth with the secret key, Omise-Version, a project User-Agent and a JSON body', async () => {
    const server = await serve((_req, res) => sendJson(res, 200, chargeBody()));
    const { client } = clientFor(server.url);
    const charge = await client.createCharge({
      amount: 20000,
      currency: 'THB',
      source: { type: 'truemoney_qr' },
      metadata: { order: 'A-1' },
    });
    expect(charge.id).toBe('chrg_test_5zabcdefghijklmnopq');
    const [seen] = server.requests;
    expect(seen?.method).toBe('POST');
    expect(seen?.url).toBe('/charges');
    expect(seen?.headers.authorization).toBe(basic(TEST_SECRET_KEY));
    expect(seen?.headers['omise-version']).toBe('2019-05-29');
    expect(seen?.headers['user-agent']).toMatch(
      /^truemoney-graphql-gateway\/\d+\.\d+\.\d+ node\/\d+\.\d+\.\d+$/,
    );
    expect(seen?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(seen?.body ?? '')).toEqual({
      amount: 20000,
      currency: 'THB',
      source: { type: 'truemoney_qr' },
      metadata: { order: 'A-1' },
    });
  });

  it('uses the public key for sources when configured, the secret key otherwise', async () => {
    const source = {
      object: 'source',
      id: 'src_test_5zsource',
      amount: 20000,
      currency: 'THB',
      type: 'truemoney_qr',
    };
    const server = await serve((_req, res) => sendJson(res, 200, source));
    await clientFor(server.url).client.createSource({ type: 'truemoney_qr', amount: 20000, currency: 'THB' });
    await clientFor(server.url).client.retrieveSource('src_test_5zsource');
    await clientFor(server.url, { publicKey: undefined }).client.retrieveSource('src_test_5zsource');
    expect(server.requests.map((r) => [r.method, r.url, r.headers.authorization])).toEqual([
      ['POST', '/sources', basic(TEST_PUBLIC_KEY)],
      ['GET', '/sources/src_test_5zsource', basic(TEST_PUBLIC_KEY)],
      ['GET', '/sources/src_test_5zsource', basic(TEST_SECRET_KEY)],
    ]);
  });

  it('puts list parameters in the query string, clamping limit to 1..100', async () => {
    const server = await serve((_req, res) => sendJson(res, 200, listBody([])));
    const { client } = clientFor(server.url);
    await client.listCharges({
      limit: 500,
      offset: 40,
      from: new Date('2026-11-01T00:00:00Z'),
      to: '2026-11-27T00:00:00Z',
      order: 'reverse_chronological',
    });
    await client.listAllRefunds({ limit: 0 });
    await client.listEvents();
    const [first, second, third] = server.requests.map((r) => new URL(r.url, server.url));
    expect(first?.pathname).toBe('/charges');
    expect(Object.fromEntries(first?.searchParams ?? [])).toEqual({
      limit: '100',
      offset: '40',
      from: '2026-11-01T00:00:00.000Z',
      to: '2026-11-27T00:00:00Z',
      order: 'reverse_chronological',
    });
    expect(second?.pathname).toBe('/refunds');
    expect(second?.searchParams.get('limit')).toBe('1');
    expect(third?.search).toBe('');
  });

  it('encodes ids so that they cannot reach another path', async () => {
    const server = await serve((_req, res) => sendJson(res, 200, chargeBody()));
    await clientFor(server.url).client.retrieveCharge('../refunds?x=1');
    expect(server.requests[0]?.url).toBe('/charges/..%2Frefunds%3Fx%3D1');
  });

  it('downloads a document without auth and returns its bytes', async () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': png.length });
      res.end(png);
    });
    const bytes = await clientFor('http://127.0.0.1:1').client.downloadDocument(
      `${server.url}/transactions/docu_test_x/downloads/0123456789ABCDEF`,
    );
    expect(Buffer.from(bytes).equals(png)).toBe(true);
    expect(server.requests[0]?.headers.authorization).toBeUndefined();
    expect(server.requests[0]?.headers['omise-version']).toBeUndefined();
  });

  it('does not follow a redirect with the credentials', async () => {
    const elsewhere = await serve((_req, res) => sendJson(res, 200, chargeBody()));
    const server = await serve((_req, res) => {
      res.writeHead(302, { location: `${elsewhere.url}/charges/chrg_x` });
      res.end();
    });
    const error = await rejection(clientFor(server.url).client.retrieveCharge('chrg_x'));
    expect(error).toBeInstanceOf(OmiseError);
    expect([(error as OmiseError).status, (error as OmiseError).code]).toEqual([302, 'unexpected_response']);
    expect(elsewhere.requests).toHaveLength(0);
  });

  it('parses a successful body once (the error check and the reader share the parse)', async () => {
    const body = chargeBody('chrg_test_5zparsedoncexxxxxxxx');
    const server = await serve((_req, res) => sendJson(res, 200, body));
    const { client } = clientFor(server.url);
    const parse = jest.spyOn(JSON, 'parse');
    try {
      const charge = await client.retrieveCharge('chrg_test_5zparsedoncexxxxxxxx');
      expect(charge).toMatchObject({ id: 'chrg_test_5zparsedoncexxxxxxxx', amount: body.amount });
      const ofThisBody = parse.mock.calls.filter(([text]) => text === JSON.stringify(body));
      expect(ofThisBody).toHaveLength(1);
    } finally {
      parse.mockRestore();
    }
  });

  it('refuses a download_uri that is not http(s)', async () => {
    const error = await rejection(
      clientFor('http://127.0.0.1:1').client.downloadDocument('file:///etc/passwd'),
    );
    expect(error).toBeInstanceOf(OmiseError);
    expect((error as OmiseError).code).toBe('unexpected_response');
  });
});

describe('retries', () => {
  it('retries a GET after a 500 and returns the later answer', async () => {
    const server = await serve((_req, res, i) =>
      i === 0
        ? sendJson(res, 500, { object: 'error', code: 'internal_error', message: 'boom' })
        : sendJson(res, 200, chargeBody()),
    );
    const { client, delays } = clientFor(server.url);
    const charge = await client.retrieveCharge('chrg_test_5zabcdefghijklmnopq');
    expect(charge.status).toBe('pending');
    expect(server.requests).toHaveLength(2);
    expect(delays).toHaveLength(1);
  });

  it('gives up a GET after maxAttempts and reports the last answer', async () => {
    const server = await serve((_req, res) =>
      sendJson(res, 503, { object: 'error', code: 'service_unavailable', message: 'try later' }),
    );
    const error = await rejection(clientFor(server.url).client.listCharges());
    expect(server.requests).toHaveLength(3);
    expect(error).toBeInstanceOf(OmiseError);
    expect((error as OmiseError).status).toBe(503);
    expect((error as OmiseError).code).toBe('service_unavailable');
  });

  it('honours Retry-After in seconds on a 429, for a POST too', async () => {
    const server = await serve((_req, res, i) =>
      i === 0
        ? sendJson(
            res,
            429,
            { object: 'error', code: 'too_many_requests', message: 'slow down' },
            { 'retry-after': '2' },
          )
        : sendJson(res, 200, chargeBody()),
    );
    const { client, delays } = clientFor(server.url);
    await client.createCharge({ amount: 20000, currency: 'THB', source: 'src_test_5zsource' });
    expect(server.requests).toHaveLength(2);
    expect(delays).toEqual([2000]);
  });

  it('honours Retry-After as an HTTP date, capped at maxRetryAfterMs', async () => {
    const now = Date.parse('2026-11-27T10:00:00Z');
    const server = await serve((_req, res, i) => {
      const retryAfter = i === 0 ? 'Fri, 27 Nov 2026 10:00:03 GMT' : 'Fri, 27 Nov 2026 11:00:00 GMT';
      if (i < 2)
        sendJson(
          res,
          429,
          { object: 'error', code: 'too_many_requests', message: 'x' },
          { 'retry-after': retryAfter },
        );
      else sendJson(res, 200, listBody([]));
    });
    const { client, delays } = clientFor(server.url, { now: () => now, maxRetryAfterMs: 10_000 });
    await client.listEvents();
    expect(delays).toEqual([3000, 10_000]);
  });

  it('reports Retry-After on the error when it gives up', async () => {
    const server = await serve((_req, res) =>
      sendJson(
        res,
        429,
        { object: 'error', code: 'too_many_requests', message: 'x' },
        { 'retry-after': '7' },
      ),
    );
    const error = await rejection(clientFor(server.url, { maxAttempts: 1 }).client.listEvents());
    expect((error as OmiseError).retryAfterSeconds).toBe(7);
    expect(server.requests).toHaveLength(1);
  });

  it('never retries a POST that got a 500', async () => {
    const server = await serve((_req, res) =>
      sendJson(res, 500, { object: 'error', code: 'internal_error', message: 'x' }),
    );
    const error = await rejection(
      clientFor(server.url).client.createRefund('chrg_test_5zabcdefghijklmnopq', { amount: 100 }),
    );
    expect(error).toBeInstanceOf(OmiseError);
    expect(server.requests).toHaveLength(1);
  });

  it('does not retry a POST whose connection was dropped after it was sent', async () => {
    const server = await serve((_req, _res, _i, socket) => socket.destroy());
    const error = await rejection(
      clientFor(server.url).client.createCharge({
        amount: 20000,
        currency: 'THB',
        source: 'src_test_5zsource',
      }),
    );
    expect(server.requests).toHaveLength(1);
    expect(error).toBeInstanceOf(OmiseNetworkError);
    expect((error as OmiseNetworkError).mayHaveReachedServer).toBe(true);
  });

  it('does not retry a PATCH whose connection was dropped', async () => {
    const server = await serve((_req, _res, _i, socket) => socket.destroy());
    await rejection(clientFor(server.url).client.updateCharge('chrg_test_x', { description: 'd' }));
    expect(server.requests).toHaveLength(1);
  });

  it('retries a GET whose connection was dropped', async () => {
    const server = await serve((_req, res, i, socket) =>
      i < 2 ? socket.destroy() : sendJson(res, 200, chargeBody()),
    );
    await clientFor(server.url).client.retrieveCharge('chrg_test_5zabcdefghijklmnopq');
    expect(server.requests).toHaveLength(3);
  });

  it('retries a POST refused at connect time: it never reached the server', async () => {
    const port = await closedPort();
    let server: TestServer | undefined;
    const client = new OmiseClient({
      baseUrl: `http://127.0.0.1:${port}`,
      secretKey: TEST_SECRET_KEY,
      // The server comes up while the client waits to retry.
      sleep: async () => {
        server = await serve((_req, res) => sendJson(res, 200, chargeBody()), port);
      },
    });
    const charge = await client.createCharge({ amount: 20000, currency: 'THB', source: 'src_test_5zsource' });
    expect(charge.object).toBe('charge');
    expect(server?.requests).toHaveLength(1);
  });

  it('reports ECONNREFUSED as a network error that never reached the server', async () => {
    const port = await closedPort();
    const { client, delays } = clientFor(`http://127.0.0.1:${port}`);
    const error = await rejection(
      client.createCharge({ amount: 20000, currency: 'THB', source: 'src_test_5zsource' }),
    );
    expect(error).toBeInstanceOf(OmiseNetworkError);
    expect((error as OmiseNetworkError).causeCode).toBe('ECONNREFUSED');
    expect((error as OmiseNetworkError).mayHaveReachedServer).toBe(false);
    expect(delays).toHaveLength(2);
  });

  it('times out a server that does not answer; a GET is retried, a POST is not', async () => {
    const server = await serve(() => undefined);
    const { client } = clientFor(server.url, { timeoutMs: 100 });
    const getError = await rejection(client.retrieveCharge('chrg_test_x'));
    expect(getError).toBeInstanceOf(OmiseTimeoutError);
    expect((getError as OmiseTimeoutError).timeoutMs).toBe(100);
    expect(server.requests).toHaveLength(3);
    const postError = await rejection(client.expireCharge('chrg_test_x'));
    expect(postError).toBeInstanceOf(OmiseTimeoutError);
    expect(server.requests).toHaveLength(4);
  });

  it('times out a body that stalls after the headers', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 1000 });
      res.write('{"object":"charge",');
    });
    const error = await rejection(
      clientFor(server.url, { timeoutMs: 100, maxAttempts: 1 }).client.retrieveCharge('c'),
    );
    expect(error).toBeInstanceOf(OmiseTimeoutError);
  });
});

describe('errors', () => {
  it('maps an Omise error body to OmiseError without retrying a 4xx', async () => {
    const server = await serve((_req, res) =>
      sendJson(res, 404, {
        object: 'error',
        location: 'https://www.omise.co/api-errors#not-found',
        code: 'not_found',
        message: 'charge chrg_test_x was not found',
      }),
    );
    const error = (await rejection(clientFor(server.url).client.retrieveCharge('chrg_test_x'))) as OmiseError;
    expect(error).toBeInstanceOf(OmiseError);
    expect([error.status, error.code, error.omiseMessage, error.location]).toEqual([
      404,
      'not_found',
      'charge chrg_test_x was not found',
      'https://www.omise.co/api-errors#not-found',
    ]);
    expect(error.method).toBe('GET');
    expect(error.path).toBe('/charges/chrg_test_x');
    expect(error.isClientError).toBe(true);
    expect(server.requests).toHaveLength(1);
  });

  it('maps a non-JSON 502 to unexpected_response, after retrying the GET', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html><body>Bad Gateway</body></html>');
    });
    const error = (await rejection(clientFor(server.url).client.listCharges())) as OmiseError;
    expect(error).toBeInstanceOf(OmiseError);
    expect(error.status).toBe(502);
    expect(error.code).toBe('unexpected_response');
    expect(error.message).toContain('text/html');
    expect(error.message).not.toContain('Bad Gateway');
    expect(server.requests).toHaveLength(3);
  });

  it('treats a 200 carrying an error object as an OmiseError', async () => {
    const server = await serve((_req, res) =>
      sendJson(res, 200, { object: 'error', code: 'failed_void', message: 'charge can not be voided' }),
    );
    const error = (await rejection(
      clientFor(server.url).client.createRefund('chrg_test_x', { amount: 100, void: true }),
    )) as OmiseError;
    expect(error).toBeInstanceOf(OmiseError);
    expect([error.status, error.code]).toEqual([200, 'failed_void']);
    expect(server.requests).toHaveLength(1);
  });

  it('turns a malformed success into unexpected_response instead of a crash', async () => {
    const server = await serve((req, res) =>
      req.url === '/charges/bad-amount'
        ? sendJson(res, 200, chargeBody(undefined, { amount: 200.5 }))
        : req.url === '/charges/not-json'
          ? (res.writeHead(200, { 'content-type': 'application/json' }), res.end('{"object":'))
          : sendJson(res, 200, { object: 'refund', id: 'rfnd_x' }),
    );
    const { client } = clientFor(server.url);
    for (const call of [
      client.retrieveCharge('bad-amount'),
      client.retrieveCharge('not-json'),
      client.retrieveCharge('wrong-object'),
    ]) {
      const error = (await rejection(call)) as OmiseError;
      expect(error).toBeInstanceOf(OmiseError);
      expect(error.code).toBe('unexpected_response');
      expect(error.status).toBe(200);
    }
  });

  it('ping resolves against a healthy server and fails once, without retries, against a failing one', async () => {
    const server = await serve((_req, res, i) =>
      i === 0
        ? sendJson(res, 200, listBody([]))
        : sendJson(res, 500, { object: 'error', code: 'internal_error', message: 'x' }),
    );
    const { client } = clientFor(server.url);
    await client.ping();
    await expect(client.ping()).rejects.toBeInstanceOf(OmiseError);
    expect(server.requests).toHaveLength(2);
    expect(new URL(server.requests[0]?.url ?? '', server.url).searchParams.get('limit')).toBe('1');
  });
});

describe('logging', () => {
  it('logs each attempt at debug level with method, path, status, duration and attempt', async () => {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
        done();
      },
    });
    const logger = pino({ level: 'debug' }, stream);
    const server = await serve((_req, res, i) =>
      i === 0
        ? sendJson(res, 500, { object: 'error', code: 'internal_error', message: 'x' })
        : sendJson(res, 200, chargeBody()),
    );
    await clientFor(server.url, { logger }).client.retrieveCharge('chrg_test_x');
    const calls = lines.filter((l) => l.msg === 'omise call');
    expect(calls).toHaveLength(2);
    expect(calls.map((l) => [l.level, l.method, l.path, l.status, l.attempt])).toEqual([
      [20, 'GET', '/charges/chrg_test_x', 500, 1],
      [20, 'GET', '/charges/chrg_test_x', 200, 2],
    ]);
    expect(typeof calls[0]?.durationMs).toBe('number');
  });
});
