import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { print } from 'graphql';
import { loadConfig } from '../../src/config/config.js';
import { OmiseClient } from '../../src/omise/client.js';
import type { PaymentsService } from '../../src/payments/payments-service.js';
import { startGateway, type RunningGateway } from '../../src/server/gateway.js';
import {
  ChargeDocument,
  ChargesDocument,
  CreateTrueMoneyChargeDocument,
  RefundChargeDocument,
  SimulateChargeOutcomeDocument,
  VoidChargeDocument,
} from '../generated/operations.js';
import { dataOf, startHarness, type Harness } from './support/harness.js';

/**
 * The gateway's HTTP execution (graphql-jit behind Apollo, and the fast path that answers plain POSTs
 * without Apollo's pipeline) must answer exactly what Apollo with graphql-js answers: the same operations
 * (successes, user errors, auth refusals, Omise failures, unforeseen errors, bad variables, odd bodies and
 * Accept headers) go to a gateway executing with graphql-js through Apollo alone and to one with the
 * defaults, both over real HTTP in front of one payments service and one simulator, and status, headers
 * and body must be equal (but for the request id and the date). Each operation is sent several times:
 * the jit gateway runs a document's first execution with graphql-js and compiles it for the next ones,
 * and the fast path takes a request once Apollo has answered its Accept header.
 */

const EXPLODING_ID = 'chrg_test_explodes000000000000';
const key = (name: string) => `jit-parity-${name}-${'k'.repeat(20)}`;
const API_KEYS = [
  {
    name: 'all',
    key: key('all'),
    scopes: ['charges:create', 'charges:read', 'charges:refund', 'charges:void', 'test:simulate'],
  },
  { name: 'creator', key: key('creator'), scopes: ['charges:create'] },
];
const as = (name: string) => ({ authorization: `Bearer ${key(name)}` });

let h: Harness;
let jit: RunningGateway;
/** Calls of the payments service's create, by either gateway. */
let creates = 0;

/** The real payments service, except that one charge id throws an unforeseen error (as errors.test.ts). */
function exploding(payments: PaymentsService): PaymentsService {
  return {
    charges: payments.charges,
    createTrueMoneyCharge: (...a) => {
      creates += 1;
      return payments.createTrueMoneyCharge(...a);
    },
    getCharge: async (chargeId) => {
      if (chargeId === EXPLODING_ID) throw new Error('db password hunter2');
      return payments.getCharge(chargeId);
    },
    listCharges: (...a) => payments.listCharges(...a),
    refundCharge: (...a) => payments.refundCharge(...a),
    voidCharge: (...a) => payments.voidCharge(...a),
    simulateChargeOutcome: (...a) => payments.simulateChargeOutcome(...a),
    getQrImage: (...a) => payments.getQrImage(...a),
  };
}

beforeAll(async () => {
  const env = {
    GATEWAY_API_KEYS: JSON.stringify(API_KEYS),
    RATE_LIMIT_PER_MINUTE: '0',
    // Both gateways sign the same client tokens.
    GATEWAY_TOKEN_SECRET: 'jit-parity-token-secret-0123456789abcdef',
  };
  let shared: PaymentsService | undefined;
  h = await startHarness({
    env,
    wrapPayments: (real) => (shared = exploding(real)),
    overrides: { graphqlExecutor: 'graphql-js' },
  });
  const { sim } = h;
  const omise = new OmiseClient({
    baseUrl: sim.url,
    secretKey: sim.secretKey,
    publicKey: sim.publicKey,
    timeoutMs: 5000,
    maxAttempts: 1,
  });
  jit = await startGateway(
    loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      OMISE_SECRET_KEY: sim.secretKey,
      OMISE_PUBLIC_KEY: sim.publicKey,
      OMISE_API_URL: sim.url,
      ...env,
    }),
    {
      logger: h.gateway.logger,
      omise,
      now: () => new Date(sim.clock.now()),
      payments: shared!,
      graphqlExecutor: 'jit',
    },
  );
});
afterAll(async () => {
  await jit?.close();
  await h?.close();
});

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** Headers that differ between any two answers. */
const VARYING_HEADERS = new Set(['date', 'x-request-id', 'keep-alive', 'connection']);

async function send(gateway: RunningGateway, body: string, headers: Record<string, string>): Promise<Answer> {
  const response = await fetch(gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  const answerHeaders = Object.fromEntries(
    [...response.headers].filter(([name]) => !VARYING_HEADERS.has(name)),
  );
  const requestId = response.headers.get('x-request-id');
  // The request id differs by request, and a client token by the second it is issued at; nothing else may.
  const text = (await response.text())
    .replaceAll(requestId ?? '\u0000', '<request-id>')
    .replace(/ctok_[\w-]+\.([\w-]+)\.[\w-]+/g, (_token, claims: string) => {
      const { sub } = JSON.parse(Buffer.from(claims, 'base64url').toString('utf8')) as { sub: string };
      return `<client token of ${sub}>`;
    });
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Compared as text.
  }
  return { status: response.status, headers: answerHeaders, body: parsed };
}

/** The same request to both gateways, `times` times; every jit answer must equal graphql-js's. */
async function expectSameAnswers(
  request: { query: string; variables?: unknown; operationName?: string } | unknown,
  options: { headers?: Record<string, string>; times?: number } = {},
): Promise<Answer> {
  const body = typeof request === 'string' ? request : JSON.stringify(request);
  const headers = options.headers ?? as('all');
  let last: Answer | undefined;
  for (let i = 0; i < (options.times ?? 4); i++) {
    const expected = await send(h.gateway, body, headers);
    const actual = await send(jit, body, headers);
    expect(actual).toEqual(expected);
    last = expected;
  }
  return last!;
}

async function paidCharge(amount = 30_000): Promise<string> {
  const id = dataOf(await h.gql(CreateTrueMoneyChargeDocument, { input: { amount } }, as('all')))
    .createTrueMoneyCharge.charge!.id;
  dataOf(
    await h.gql(SimulateChargeOutcomeDocument, { input: { chargeId: id, outcome: 'SUCCESSFUL' } }, as('all')),
  );
  return id;
}

const CHARGE = print(ChargeDocument);

describe('graphql-jit and the fast path answer what Apollo with graphql-js answers', () => {
  it('runs repeated documents compiled and through the fast path (the comparison is not graphql-js against itself)', async () => {
    const id = await paidCharge();
    const before = jit.jitExecution!.jitRuns;
    const answeredBefore = jit.httpFastPath!.answered;
    await expectSameAnswers({ query: CHARGE, variables: { id } });
    expect(jit.jitExecution!.jitRuns - before).toBeGreaterThanOrEqual(2);
    expect(jit.httpFastPath!.answered - answeredBefore).toBeGreaterThanOrEqual(2);
    expect(h.gateway.jitExecution).toBeUndefined();
    expect(h.gateway.httpFastPath).toBeUndefined();
  });

  it('queries: a paid charge (every field, fragments), aliases, directives, __typename, unknown and malformed ids', async () => {
    const id = await paidCharge();
    const answer = await expectSameAnswers({ query: CHARGE, variables: { id } });
    expect(answer.body).toMatchObject({ data: { charge: { id, status: 'SUCCESSFUL' } } });
    await expectSameAnswers({
      query: `query Q($id: ID!, $withAmount: Boolean!, $skipStatus: Boolean = false) {
        __typename
        a: charge(id: $id) { __typename id amount @include(if: $withAmount) status @skip(if: $skipStatus) }
        b: charge(id: "chrg_test_0000000000000000404") { id }
        c: charge(id: "not an id") { id }
        ... on Query { d: charge(id: $id) { createdAt paidAt refunds { amount } metadata currency } }
      }`,
      variables: { id, withAmount: false },
    });
  });

  it('a document of several operations, by operationName; an unknown operationName', async () => {
    const id = await paidCharge();
    const query = `query A($id: ID!) { charge(id: $id) { id } } query B($id: ID!) { charge(id: $id) { amount } }`;
    await expectSameAnswers({ query, variables: { id }, operationName: 'B' });
    await expectSameAnswers({ query, variables: { id }, operationName: 'A' });
    const unknown = await expectSameAnswers({ query, variables: { id }, operationName: 'C' });
    expect(unknown.body).toMatchObject({ errors: [{ message: 'Unknown operation named "C".' }] });
  });

  it('lists: a page of charges, and a page size refused by the resolver (BAD_USER_INPUT)', async () => {
    await paidCharge();
    await expectSameAnswers({ query: print(ChargesDocument), variables: { first: 2 } });
    const refused = await expectSameAnswers({ query: print(ChargesDocument), variables: { first: 0 } });
    expect(refused.body).toMatchObject({ errors: [{ extensions: { code: 'BAD_USER_INPUT' } }] });
  });

  it('mutations: created with the default currency, userErrors, refund, void (replayed by idempotency key)', async () => {
    // The jit gateway's create is the idempotent replay of graphql-js's: equal only if jit passed the
    // same input (a different one is IDEMPOTENCY_KEY_REUSED).
    for (const [i, input] of [
      { amount: 12_345, metadata: { order: 'o-1' }, description: 'd' },
      { amount: 10_000, currency: 'THB', returnUri: 'https://shop.example/return' },
      { amount: 10_000, currency: 'USD' },
      { amount: -5 },
    ].entries()) {
      const answer = await expectSameAnswers({
        query: print(CreateTrueMoneyChargeDocument),
        variables: { input: { ...input, idempotencyKey: `jit-parity-create-${i}` } },
      });
      expect(answer.status).toBe(200);
    }
    const id = await paidCharge(50_000);
    await expectSameAnswers(
      { query: print(RefundChargeDocument), variables: { input: { chargeId: id, amount: 999_999 } } },
      { times: 2 },
    );
    await expectSameAnswers(
      {
        query: print(VoidChargeDocument),
        variables: { input: { chargeId: 'chrg_test_0000000000000000404' } },
      },
      { times: 2 },
    );
  });

  it('auth: no credential, a bad one, a key without the scope (FORBIDDEN from the auth checker)', async () => {
    const id = await paidCharge();
    const noCredential = await expectSameAnswers({ query: CHARGE, variables: { id } }, { headers: {} });
    expect(noCredential.status).toBe(401);
    await expectSameAnswers(
      { query: CHARGE, variables: { id } },
      { headers: { authorization: 'Bearer nope' } },
    );
    const forbidden = await expectSameAnswers(
      { query: CHARGE, variables: { id } },
      { headers: as('creator') },
    );
    expect(forbidden.body).toMatchObject({
      data: { charge: null },
      errors: [{ extensions: { code: 'FORBIDDEN' } }],
    });
  });

  it('Omise failures: UPSTREAM_UNAVAILABLE and RATE_LIMITED, with their paths', async () => {
    let n = 0;
    const uncachedId = () => `chrg_test_${String(++n).padStart(19, '0')}`;
    for (const faults of [{ errorRate: 1 }, { rateLimitRate: 1, retryAfterSeconds: 7 }]) {
      h.sim.faults.set(faults);
      try {
        const answer = await expectSameAnswers({
          query: `query U($id: ID!) { charge(id: $id) { id } other: charge(id: "${uncachedId()}") { id } }`,
          variables: { id: uncachedId() },
        });
        expect(answer.body).toMatchObject({ data: { charge: null, other: null } });
        await expectSameAnswers(
          { query: print(CreateTrueMoneyChargeDocument), variables: { input: { amount: 10_000 } } },
          { times: 2 },
        );
      } finally {
        h.sim.faults.reset();
      }
    }
  });

  it('an unforeseen error is masked as INTERNAL_SERVER_ERROR, next to a field that succeeds', async () => {
    const id = await paidCharge();
    const answer = await expectSameAnswers({
      query: `query X($id: ID!, $bad: ID!) { ok: charge(id: $id) { id } bad: charge(id: $bad) { id } }`,
      variables: { id, bad: EXPLODING_ID },
    });
    expect(answer.body).toMatchObject({
      data: { ok: { id }, bad: null },
      errors: [
        { message: 'Internal server error', path: ['bad'], extensions: { code: 'INTERNAL_SERVER_ERROR' } },
      ],
    });
  });

  it('bad variables: wrong types, missing, null for non-null, unknown input fields, numbers as ids', async () => {
    const id = await paidCharge();
    const create = print(CreateTrueMoneyChargeDocument);
    for (const variables of [
      { input: { amount: 'abc' } },
      { input: { amount: 1.5 } },
      { input: { amount: 2 ** 31 } },
      {},
      { input: null },
      { input: { amount: 10_000, currency: 'XXX' } },
      { input: { amount: 10_000, nope: 1 } },
      { input: { amount: 10_000, metadata: 'not an object' } },
    ]) {
      const answer = await expectSameAnswers({ query: create, variables }, { times: 2 });
      expect(answer.status).toBe(400);
    }
    await expectSameAnswers({ query: CHARGE, variables: { id: 12 } });
    await expectSameAnswers({ query: CHARGE, variables: { id: [id] } });
    await expectSameAnswers({ query: print(ChargesDocument), variables: { from: 'yesterday' } });
    await expectSameAnswers({
      query: print(ChargesDocument),
      variables: { first: 1, from: '2020-01-01T00:00:00Z', to: '2100-01-01T00:00:00.000+07:00' },
    });
  });
});

describe('the fast path', () => {
  const ACCEPTS = [
    undefined,
    'application/json',
    'application/graphql-response+json',
    'application/graphql-response+json, application/json;q=0.9',
    '*/*',
    'text/html',
    'application/xml',
  ];

  it('answers each Accept header as Apollo does (content type, 406)', async () => {
    const id = await paidCharge();
    for (const accept of ACCEPTS) {
      const headers = accept === undefined ? as('all') : { ...as('all'), accept };
      await expectSameAnswers({ query: CHARGE, variables: { id } }, { headers });
    }
  });

  it('leaves to Apollo what Apollo reads specially: extensions, batches, strings, no query, null fields', async () => {
    const id = await paidCharge();
    const query = `query Q($id: ID!) { charge(id: $id) { id status } }`;
    for (const body of [
      { query, variables: { id }, operationName: null },
      { query, variables: { id }, extensions: {} },
      { query, variables: { id }, extensions: 'x' },
      { query, variables: JSON.stringify({ id }) },
      { query: '{ __typename }', variables: null },
      { query: 42 },
      { variables: { id } },
      {},
      [{ query, variables: { id } }],
      'just a string',
      null,
    ]) {
      await expectSameAnswers(body === null ? 'null' : body);
    }
    await expectSameAnswers('{"query": "{ __typename }"', { times: 2 });
  });

  it('documents Apollo refuses: syntax, validation, unknown fields, subscriptions over HTTP, complexity', async () => {
    for (const query of [
      '{ charge(id: "x") { id }',
      '{ charge { id } }',
      '{ nope }',
      'subscription S($id: ID!) { chargeStatus(chargeId: $id) { status } }',
      `query C($n: Int) { charges(first: $n) { edges { node { id refunds { id amount } } } } }`,
    ]) {
      await expectSameAnswers({ query, variables: { id: 'chrg_test_1', n: 100_000 } }, { times: 3 });
    }
  });

  it('knows only documents Apollo parsed and validated: one Apollo refuses takes no room, a valid one is learnt from its first answer', async () => {
    // The Accept header first (the fast path learns its content type from Apollo's answer).
    await expectSameAnswers({ query: '{ __typename }' }, { times: 2 });
    const known = jit.httpFastPath!.knownDocuments;
    const unique = Date.now();
    for (const query of ['{ charge(id: "x") { id }', '{ nope }', '{ charge { id } }']) {
      await expectSameAnswers({ query: `${query} # ${unique}` }, { times: 2 });
    }
    expect(jit.httpFastPath!.knownDocuments).toBe(known);

    // A valid document: Apollo answers its first request (and parses it), the fast path the next ones.
    const id = await paidCharge();
    const answered = jit.httpFastPath!.answered;
    await expectSameAnswers(
      { query: `query Fresh${unique}($id: ID!) { charge(id: $id) { id status } }`, variables: { id } },
      { times: 3 },
    );
    expect(jit.httpFastPath!.knownDocuments).toBe(known + 1);
    expect(jit.httpFastPath!.answered - answered).toBe(2);
  });

  it('executes a mutation once, whether it succeeds or fails with GraphQL errors', async () => {
    const create = print(CreateTrueMoneyChargeDocument);
    const send = (body: unknown) =>
      fetch(jit.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...as('all') },
        body: JSON.stringify(body),
      }).then(async (response) => ({ status: response.status, body: (await response.json()) as never }));
    const before = creates;
    // A query first: the fast path knows this Accept header from Apollo's answer. Then a create: Apollo
    // answers a document's first request, and the fast path learns the document from it.
    await send({ query: '{ __typename }' });
    await send({ query: create, variables: { input: { amount: 10_000 } } });
    const answered = jit.httpFastPath!.answered;
    for (let i = 0; i < 3; i++) {
      const ok = await send({ query: create, variables: { input: { amount: 10_000 } } });
      expect(ok).toMatchObject({
        status: 200,
        body: { data: { createTrueMoneyCharge: { userErrors: [] } } },
      });
    }
    expect(jit.httpFastPath!.answered - answered).toBe(3);
    h.sim.faults.set({ errorRate: 1 });
    try {
      const failed = await send({ query: create, variables: { input: { amount: 10_000 } } });
      expect(failed.body).toMatchObject({ errors: [{ extensions: { code: 'UPSTREAM_UNAVAILABLE' } }] });
    } finally {
      h.sim.faults.reset();
    }
    expect(jit.httpFastPath!.answered - answered).toBe(3);
    expect(creates - before).toBe(5);
  });

  it('counts a request once against the rate limit, also when Apollo writes its errors', async () => {
    const limited = await startGateway(
      loadConfig({
        PORT: '0',
        HOST: '127.0.0.1',
        OMISE_SECRET_KEY: h.sim.secretKey,
        OMISE_PUBLIC_KEY: h.sim.publicKey,
        OMISE_API_URL: h.sim.url,
        GATEWAY_API_KEYS: JSON.stringify(API_KEYS),
        RATE_LIMIT_PER_MINUTE: '6',
      }),
      { logger: h.gateway.logger, payments: exploding(h.gateway.payments) },
    );
    try {
      const read = (chargeId: string) =>
        fetch(limited.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...as('all') },
          body: JSON.stringify({ query: CHARGE, variables: { id: chargeId } }),
        }).then((response) => response.status);
      const statuses = [];
      // Unknown ids (null, no errors: answered by the fast path) and an unforeseen error (Apollo writes it).
      for (const chargeId of [
        'chrg_test_0000000000000000404',
        EXPLODING_ID,
        'chrg_test_0000000000000000405',
      ]) {
        statuses.push(await read(chargeId), await read(chargeId));
      }
      expect(statuses).toEqual([200, 200, 200, 200, 200, 200]);
      expect(limited.httpFastPath!.answered).toBeGreaterThanOrEqual(2);
      expect(await read('chrg_test_0000000000000000404')).toBe(429);
    } finally {
      await limited.close();
    }
  });

  it('counts its answers in graphql_operations_total as Apollo does', async () => {
    const count = async (gateway: RunningGateway) => {
      const text = await (await fetch(`${gateway.origin}/metrics`)).text();
      const line = text
        .split('\n')
        .find((l) => l.startsWith('graphql_operations_total{operation_type="query",outcome="ok"}'));
      return Number(line?.split(' ')[1] ?? 0);
    };
    const id = await paidCharge();
    const [jitBefore, apolloBefore] = [await count(jit), await count(h.gateway)];
    await expectSameAnswers({ query: CHARGE, variables: { id } });
    expect(await count(jit)).toBe(jitBefore + 4);
    expect(await count(h.gateway)).toBe(apolloBefore + 4);
  });
});
