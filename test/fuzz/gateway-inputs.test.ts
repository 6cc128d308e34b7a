import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { signWebhook } from '../../src/omise/webhook-signature.js';
import { startHarness, type Harness } from '../integration/support/harness.js';
import { heapAfterGc, leaks, watchProcess } from './support/fuzz-guards.js';

/**
 * Property-based fuzzing of what clients and Omise send to a real gateway over real HTTP: GraphQL
 * documents and variables, and webhook bodies and headers. Whatever arrives: no 5xx, no crash, no
 * stack trace or key in the answer, no unhandled rejection, no internal error logged, and memory stays
 * bounded. Sizes are kept CI-friendly; FUZZ_RUNS raises them.
 */
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 150);
const operationsText = ['fragments', 'queries', 'mutations']
  .map((name) => readFileSync(new URL(`../operations/${name}.graphql`, import.meta.url), 'utf8'))
  .join('\n');

/** A real operation text with random damage: a slice cut out, random text put in, or both. */
const damagedDocument = fc
  .tuple(fc.nat(operationsText.length), fc.nat(200), fc.string({ maxLength: 40 }))
  .map(([at, cut, insert]) => operationsText.slice(0, at) + insert + operationsText.slice(at + cut));

const graphqlToken = fc.constantFrom(
  '{',
  '}',
  '(',
  ')',
  ':',
  '$',
  '...',
  '@include(if: true)',
  'query',
  'mutation',
  'subscription',
  'fragment F on Charge',
  'charge(id: "chrg_test_x")',
  'charges(first: 100)',
  'createTrueMoneyCharge(input: {amount: 10000})',
  '__schema { types { name } }',
  '__typename',
  'id',
  'status',
  'qrCode { imageDataUri }',
  'refunds { id }',
  'a: charge(id: $id) { id }',
  '"\\u0000"',
  '#',
  '\n',
);
const tokenDocument = fc.array(graphqlToken, { maxLength: 60 }).map((tokens) => tokens.join(' '));

/** Values of every JSON type, big and odd numbers included. */
const oddValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(
    1e308,
    -1e308,
    2 ** 53 + 1,
    -0,
    0.5,
    '9'.repeat(400),
    '',
    'chrg_test_' + 'a'.repeat(19),
    '\u0000',
    '𝕏'.repeat(50),
  ),
);

const chargeInput = fc.record(
  {
    amount: oddValue,
    currency: fc.oneof(fc.constant('THB'), oddValue),
    sourceId: oddValue,
    returnUri: oddValue,
    description: oddValue,
    metadata: oddValue,
    idempotencyKey: oddValue,
  },
  { requiredKeys: [] },
);

const graphqlRequest = fc.oneof(
  fc.record({ query: fc.oneof(damagedDocument, tokenDocument, fc.string()), variables: oddValue }),
  fc.record({
    query: fc.constantFrom(
      'mutation ($input: CreateTrueMoneyChargeInput!) { createTrueMoneyCharge(input: $input) { charge { id } userErrors { code } } }',
      'mutation ($input: RefundChargeInput!) { refundCharge(input: $input) { refund { id } userErrors { code } } }',
      'mutation ($input: VoidChargeInput!) { voidCharge(input: $input) { refund { id } userErrors { code } } }',
      'query ($id: ID!) { charge(id: $id) { id status } }',
      'query ($first: Int, $after: String, $from: DateTime) { charges(first: $first, after: $after, from: $from) { totalCount } }',
    ),
    variables: fc.oneof(
      fc.record({ input: chargeInput }),
      fc.record({ input: fc.record({ chargeId: oddValue, amount: oddValue, idempotencyKey: oddValue }) }),
      fc.record({ id: oddValue, first: oddValue, after: oddValue, from: oddValue }),
      oddValue,
    ),
  }),
);

/** A body as it may arrive: JSON of a request, any JSON, or any bytes. */
const rawBody = fc.oneof(
  graphqlRequest.map((r) => JSON.stringify(r)),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.string(),
  fc.uint8Array({ maxLength: 2000 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
  graphqlRequest.map((r) => JSON.stringify(r).slice(0, -3)),
);
const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'application/graphql-response+json',
  '',
);

describe('fuzzing the gateway over HTTP', () => {
  let h: Harness;
  const webhookSecret = randomBytes(32).toString('base64');
  const watch = watchProcess();

  beforeAll(async () => {
    h = await startHarness({
      env: { OMISE_WEBHOOK_SECRET: webhookSecret, RATE_LIMIT_PER_MINUTE: '0' },
      simulator: { webhookSecret, webhookUrls: [] },
      logLevel: 'info',
    });
  });
  afterAll(async () => {
    watch.stop();
    await h?.close();
  });

  function checkAnswer(status: number, text: string, what: string) {
    if (status >= 500) throw new Error(`${what}: ${status} ${text.slice(0, 300)}`);
    const leak = leaks(text);
    if (leak) throw new Error(`${what}: answer carries ${leak}: ${text.slice(0, 300)}`);
  }

  it('GraphQL documents and variables, as JSON POST bodies', async () => {
    await fc.assert(
      fc.asyncProperty(graphqlRequest, async (request) => {
        const response = await fetch(h.gateway.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(request),
        });
        const text = await response.text();
        checkAnswer(response.status, text, 'POST /graphql');
        // Always a GraphQL answer the client can read.
        const body = JSON.parse(text) as { data?: unknown; errors?: unknown[] };
        expect(body.data !== undefined || Array.isArray(body.errors)).toBe(true);
      }),
      { numRuns: RUNS },
    );
  }, 120_000);

  it('any body with any content type, and GET with any query string', async () => {
    await fc.assert(
      fc.asyncProperty(rawBody, contentType, fc.boolean(), async (body, type, viaGet) => {
        const response = viaGet
          ? await fetch(`${h.gateway.url}?${new URLSearchParams({ query: body }).toString()}`, {
              headers: { 'apollo-require-preflight': 'true' },
            })
          : await fetch(h.gateway.url, {
              method: 'POST',
              headers: type ? { 'content-type': type } : {},
              body,
            });
        checkAnswer(response.status, await response.text(), viaGet ? 'GET /graphql' : 'POST /graphql');
      }),
      { numRuns: RUNS },
    );
  }, 120_000);

  const eventKey = fc.constantFrom(
    'charge.complete',
    'charge.expire',
    'charge.create',
    'refund.create',
    'nope',
  );
  const webhookEvent = fc.oneof(
    fc.record(
      {
        object: fc.oneof(fc.constant('event'), oddValue),
        id: fc.oneof(fc.constant('evnt_test_' + 'b'.repeat(19)), oddValue),
        key: fc.oneof(eventKey, oddValue),
        created_at: fc.oneof(fc.constant('2026-01-01T00:00:00Z'), oddValue),
        data: fc.oneof(
          fc.record({
            object: fc.oneof(fc.constantFrom('charge', 'refund'), oddValue),
            id: fc.oneof(fc.constant('chrg_test_' + 'c'.repeat(19)), oddValue),
            status: oddValue,
            amount: oddValue,
          }),
          oddValue,
        ),
      },
      { requiredKeys: [] },
    ),
    fc.jsonValue(),
  );

  it('webhooks: unsigned or wrongly signed bodies with any headers are refused with a 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          webhookEvent.map((e) => JSON.stringify(e)),
          fc.string(),
        ),
        fc.dictionary(
          fc.constantFrom('omise-signature', 'omise-signature-timestamp', 'content-type', 'x-anything'),
          fc.oneof(fc.string({ maxLength: 100 }), fc.stringMatching(/^[0-9a-f]{64}$/)),
        ),
        async (body, headers) => {
          const response = await fetch(`${h.gateway.origin}/webhooks/omise`, {
            method: 'POST',
            headers,
            body,
          });
          const text = await response.text();
          checkAnswer(response.status, text, 'POST /webhooks/omise');
          expect(response.status).toBeGreaterThanOrEqual(400);
        },
      ),
      { numRuns: RUNS },
    );
  }, 120_000);

  it('webhooks: correctly signed bodies of any shape never get a 5xx while Omise is up', async () => {
    await fc.assert(
      fc.asyncProperty(webhookEvent, async (event) => {
        const body = JSON.stringify(event);
        const timestamp = Math.floor(Date.now() / 1000);
        const response = await fetch(`${h.gateway.origin}/webhooks/omise`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'omise-signature': signWebhook(webhookSecret, timestamp, body),
            'omise-signature-timestamp': String(timestamp),
          },
          body,
        });
        checkAnswer(response.status, await response.text(), 'signed POST /webhooks/omise');
      }),
      { numRuns: RUNS },
    );
  }, 120_000);

  it('left no unhandled rejection, no internal error in the log, and memory bounded', async () => {
    const before = heapAfterGc();
    // One more round of the heaviest input, to see whether memory follows the number of requests.
    await fc.assert(
      fc.asyncProperty(graphqlRequest, async (request) => {
        const response = await fetch(h.gateway.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(request),
        });
        await response.arrayBuffer();
      }),
      { numRuns: RUNS * 2 },
    );
    const growth = heapAfterGc() - before;
    expect(watch.problems).toEqual([]);
    const internal = h.logs.filter(
      (l) => typeof l.level === 'number' && l.level >= 50 && !String(l.msg).includes('simulator'),
    );
    expect(internal.map((l) => l.msg)).toEqual([]);
    // Retained memory does not grow with the number of requests (bounded caches only).
    expect(growth).toBeLessThan(32 * 1024 * 1024);
  }, 180_000);
});
