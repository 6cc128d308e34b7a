import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import fc from 'fast-check';
import { OmiseClient } from '../../src/omise/client.js';
import { OmiseClientError } from '../../src/omise/errors.js';
import { mapCharge, mapRefund, OmiseMappingError } from '../../src/payments/omise-mapper.js';
import { startTestServer, type TestServer } from '../omise/support/test-server.js';
import { heapAfterGc, watchProcess } from './support/fuzz-guards.js';

/**
 * Property-based fuzzing of the Omise client's response parsing, over real HTTP from a test server
 * whose every answer fast-check decides: truncated JSON, fields of the wrong type, huge numbers, HTML
 * error pages, empty bodies, odd statuses and content types. Every call ends in a parsed object, an
 * OmiseClientError, or (when the object cannot be mapped) an OmiseMappingError: never a TypeError, a
 * crash or an unhandled rejection. Omise cannot be made to answer this way, hence the test server.
 */
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 200);
const fixture = (path: string) =>
  JSON.parse(readFileSync(new URL(`../fixtures/omise/${path}`, import.meta.url), 'utf8')) as Record<
    string,
    unknown
  >;
const charge = fixture('swift/charge-truemoney-wallet-pending.json');
const refund = fixture('go/refund-create.json');
const list = fixture('go/charges-list.json');

interface Answer {
  status: number;
  contentType: string | undefined;
  body: string;
}

const weird = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(
    1e308,
    -1e308,
    2 ** 64,
    Number.MAX_SAFE_INTEGER + 2,
    -1,
    0.1,
    '',
    'NaN',
    '9'.repeat(400),
    null,
  ),
);

/** A real object with one field (at any depth 1) replaced, removed, or the whole thing wrapped oddly. */
function damaged(object: Record<string, unknown>) {
  const keys = Object.keys(object);
  return fc.oneof(
    fc.tuple(fc.constantFrom(...keys), weird).map(([key, value]) => ({ ...object, [key]: value })),
    fc.constantFrom(...keys).map((key) => {
      const { [key]: _dropped, ...rest } = object;
      return rest;
    }),
    fc.constant(object),
  );
}

const body = fc.oneof(
  damaged(charge).map((o) => JSON.stringify(o)),
  damaged(refund).map((o) => JSON.stringify(o)),
  damaged(list).map((o) => JSON.stringify(o)),
  fc
    .tuple(fc.constantFrom(charge, refund, list), fc.double({ min: 0, max: 1, noNaN: true }))
    .map(([o, cut]) => {
      const text = JSON.stringify(o);
      return text.slice(0, Math.floor(text.length * cut));
    }),
  fc.constantFrom(
    '',
    '<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>',
    '<!DOCTYPE html><html><body>Service Unavailable</body></html>',
    '{"object":"error","code":"internal_error","message":"x"}',
    '{"object":"error"}',
    '{"object":"error","code":5,"message":{}}',
    'null',
    '[]',
    '{"amount": 1e400}',
    `{"object":"charge","amount":${'9'.repeat(500)}}`,
  ),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.string(),
);

const answer: fc.Arbitrary<Answer> = fc.record({
  status: fc.constantFrom(200, 200, 200, 201, 204, 301, 400, 401, 404, 409, 422, 429, 500, 502, 503, 504),
  contentType: fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/html', undefined),
  body,
});

describe('fuzzing the Omise client with odd answers', () => {
  let server: TestServer;
  let current: Answer = { status: 200, contentType: 'application/json', body: '{}' };
  const watch = watchProcess();

  beforeAll(async () => {
    server = await startTestServer((_request, res: ServerResponse) => {
      res.writeHead(current.status, {
        ...(current.contentType && { 'content-type': current.contentType }),
        ...(current.status === 429 && { 'retry-after': '0' }),
      });
      res.end(current.body);
    });
  });
  afterAll(async () => {
    watch.stop();
    await server?.close();
  });

  const client = () =>
    new OmiseClient({
      baseUrl: server.url,
      secretKey: 'skey_test_fuzzfuzzfuzzfuzzfuzz',
      timeoutMs: 2_000,
      // Retries answer the same: one attempt keeps the run short without changing what is parsed.
      maxAttempts: 1,
    });

  async function outcome(call: () => Promise<unknown>): Promise<string> {
    try {
      await call();
      return 'ok';
    } catch (error) {
      if (error instanceof OmiseClientError || error instanceof OmiseMappingError) return error.name;
      throw new Error(`untyped failure: ${String(error)}${error instanceof Error ? `\n${error.stack}` : ''}`);
    }
  }

  it('every call ends in a parsed object or a typed error, and what parses maps or fails typed', async () => {
    const omise = client();
    await fc.assert(
      fc.asyncProperty(
        answer,
        fc.constantFrom('charge', 'refund', 'list', 'create', 'events'),
        async (a, call) => {
          current = a;
          const result = await outcome(async () => {
            switch (call) {
              case 'charge':
                return mapCharge(await omise.retrieveCharge('chrg_test_fuzz'));
              case 'create':
                return mapCharge(
                  await omise.createCharge({
                    amount: 10_000,
                    currency: 'THB',
                    source: { type: 'truemoney_qr' },
                  }),
                );
              case 'refund':
                return mapRefund(await omise.createRefund('chrg_test_fuzz', { amount: 100 }));
              case 'list':
                return (await omise.listCharges()).data.map(mapCharge);
              case 'events':
                return omise.listEvents();
            }
          });
          // A non-2xx answer is never taken for data.
          if (a.status >= 300) expect(result).not.toBe('ok');
        },
      ),
      { numRuns: RUNS },
    );
  }, 120_000);

  it('left no unhandled rejection and memory bounded', async () => {
    const omise = client();
    const before = heapAfterGc();
    await fc.assert(
      fc.asyncProperty(answer, async (a) => {
        current = a;
        await outcome(() => omise.retrieveCharge('chrg_test_fuzz'));
      }),
      { numRuns: RUNS * 2 },
    );
    expect(heapAfterGc() - before).toBeLessThan(32 * 1024 * 1024);
    expect(watch.problems).toEqual([]);
  }, 120_000);
});
