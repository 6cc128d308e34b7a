import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { inspect } from 'node:util';
import { pino } from 'pino';
import { OmiseClient } from '../../src/omise/client.js';
import { OmiseClientError } from '../../src/omise/errors.js';
import {
  chargeBody,
  closedPort,
  sendJson,
  startTestServer,
  TEST_PUBLIC_KEY,
  TEST_SECRET_KEY,
  type TestServer,
} from './support/test-server.js';

/** Every form in which a key could leak: as is, and inside a Basic Authorization header. */
const FORBIDDEN = [TEST_SECRET_KEY, TEST_PUBLIC_KEY].flatMap((key) => [
  key,
  Buffer.from(`${key}:`).toString('base64'),
  // The key's distinctive part alone, in case something trims the prefix.
  key.slice('skey_test_'.length),
]);

function expectNoKey(text: string, where: string): void {
  for (const secret of FORBIDDEN) {
    if (text.includes(secret)) throw new Error(`a key leaked into ${where}: …${text.slice(0, 300)}`);
  }
}

/** Everything a log line, an error report or a crash dump could print of an error. */
function renderings(error: unknown): Record<string, string> {
  const out: Record<string, string> = {
    inspect: inspect(error, { depth: Infinity, showHidden: true }),
    json: JSON.stringify(error),
    string: String(error),
  };
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 10; depth++) {
    out[`message[${depth}]`] = current.message;
    out[`stack[${depth}]`] = current.stack ?? '';
    current = current.cause;
  }
  return out;
}

const logLines: string[] = [];
const logger = pino(
  { level: 'trace' },
  new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(chunk.toString('utf8'));
      done();
    },
  }),
);

let server: TestServer;
let client: OmiseClient;
let refusedClient: OmiseClient;

beforeAll(async () => {
  server = await startTestServer((req, res, _i, socket) => {
    const path = req.url.split('?')[0] ?? '';
    if (path.includes('/drop')) return socket.destroy();
    const auth = req.headers.authorization ?? '';
    const decoded = Buffer.from(auth.replace(/^Basic /, ''), 'base64').toString('utf8');
    switch (path) {
      // A careless server that echoes the credentials it got, in the message and the location.
      case '/charges/echo-401':
        return sendJson(res, 401, {
          object: 'error',
          location: `https://example.test/${decoded}`,
          code: 'authentication_failure',
          message: `authentication failed for ${decoded} (${auth})`,
        });
      case '/charges/missing':
        return sendJson(res, 404, {
          object: 'error',
          code: 'not_found',
          message: 'charge missing was not found',
        });
      case '/charges/html-502':
        res.writeHead(502, { 'content-type': 'text/html' });
        return res.end(`<html>${auth}</html>`);
      case '/charges/slow':
        return undefined;
      case '/charges/malformed':
        return sendJson(res, 200, chargeBody('chrg_x', { amount: decoded }));
      case '/charges/error-200':
        return sendJson(res, 200, { object: 'error', code: 'failed_void', message: `nope ${decoded}` });
      case '/charges/rate-limited':
        return sendJson(
          res,
          429,
          { object: 'error', code: 'too_many_requests', message: auth },
          { 'retry-after': '1' },
        );
      case `/charges/${encodeURIComponent(TEST_SECRET_KEY)}`:
        return sendJson(res, 404, {
          object: 'error',
          code: 'not_found',
          message: `charge ${TEST_SECRET_KEY} was not found`,
        });
      default:
        return sendJson(res, 200, chargeBody());
    }
  });
  const options = {
    secretKey: TEST_SECRET_KEY,
    publicKey: TEST_PUBLIC_KEY,
    timeoutMs: 200,
    maxAttempts: 2,
    logger,
    sleep: async () => undefined,
  };
  client = new OmiseClient({ ...options, baseUrl: server.url });
  refusedClient = new OmiseClient({ ...options, baseUrl: `http://127.0.0.1:${await closedPort()}` });
});
afterAll(() => server.close());

describe('no key leaks', () => {
  it('from the client object itself', () => {
    for (const c of [client, refusedClient]) {
      expectNoKey(inspect(c, { depth: Infinity, showHidden: true }), 'inspect(client)');
      expectNoKey(JSON.stringify(c), 'JSON.stringify(client)');
      expectNoKey(String(c), 'String(client)');
      expectNoKey(`${c}`, 'template string');
      expectNoKey(JSON.stringify(Object.entries(c)), 'Object.entries(client)');
    }
    expect(String(client)).toContain(server.url);
    expect(JSON.stringify(client)).toContain('2019-05-29');
  });

  it.each([
    ['401 echoing the credentials', () => client.retrieveCharge('echo-401')],
    ['404', () => client.retrieveCharge('missing')],
    ['non-JSON 502 echoing the header', () => client.retrieveCharge('html-502')],
    [
      'dropped connection on a POST',
      () =>
        client
          .createCharge({ amount: 1, currency: 'THB', source: 'x' })
          .then(() => client.expireCharge('drop')),
    ],
    ['dropped connection on a GET', () => client.retrieveCharge('drop')],
    ['timeout', () => client.retrieveCharge('slow')],
    ['malformed success holding the key', () => client.retrieveCharge('malformed')],
    ['200 error object holding the key', () => client.createRefund('error-200', { amount: 1, void: true })],
    ['429 echoing the header', () => client.retrieveCharge('rate-limited')],
    ['a key passed as an id', () => client.retrieveCharge(TEST_SECRET_KEY)],
    [
      'connection refused (POST)',
      () => refusedClient.createSource({ type: 'truemoney_qr', amount: 1, currency: 'THB' }),
    ],
    ['connection refused (GET)', () => refusedClient.listCharges()],
    ['document download failing', () => client.downloadDocument(`${server.url}/charges/html-502`)],
  ])('from an error: %s', async (_name, call) => {
    const linesBefore = logLines.length;
    const error = await call().then(
      () => {
        throw new Error('expected the call to fail');
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OmiseClientError);
    for (const [where, text] of Object.entries(renderings(error))) expectNoKey(text, where);
    const logged = logLines.slice(linesBefore);
    expect(logged.length).toBeGreaterThan(0);
    for (const line of logged) expectNoKey(line, 'the debug log');
  });

  it('while the keys do reach the server (the test would otherwise prove nothing)', async () => {
    await client.retrieveCharge('fine');
    const seen = server.requests.at(-1)?.headers.authorization ?? '';
    expect(Buffer.from(seen.replace('Basic ', ''), 'base64').toString()).toBe(`${TEST_SECRET_KEY}:`);
    await client.retrieveCharge('echo-401').catch(() => undefined);
    expect(FORBIDDEN.some((f) => JSON.stringify(server.requests).includes(f))).toBe(true);
  });
});
