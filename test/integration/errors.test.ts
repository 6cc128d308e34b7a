import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { PaymentsService } from '../../src/payments/payments-service.js';
import { ChargeDocument, CreateTrueMoneyChargeDocument } from '../generated/operations.js';
import { startHarness, type Harness } from './support/harness.js';

/** GraphQL errors over real HTTP: upstream failures, masking of the unforeseen, malformed requests. */

const EXPLODING_ID = 'chrg_test_explodes000000000000';
const SECRET_DETAIL = 'db password hunter2';

/** The real payments service, except that one charge id throws an unforeseen error. */
function explodingOn(id: string) {
  return (payments: PaymentsService): PaymentsService => ({
    ...bindAll(payments),
    getCharge: async (chargeId) => {
      if (chargeId === id) throw new Error(SECRET_DETAIL);
      return payments.getCharge(chargeId);
    },
  });
}

function bindAll(payments: PaymentsService): PaymentsService {
  return {
    charges: payments.charges,
    createTrueMoneyCharge: (...a) => payments.createTrueMoneyCharge(...a),
    getCharge: (...a) => payments.getCharge(...a),
    listCharges: (...a) => payments.listCharges(...a),
    refundCharge: (...a) => payments.refundCharge(...a),
    voidCharge: (...a) => payments.voidCharge(...a),
    simulateChargeOutcome: (...a) => payments.simulateChargeOutcome(...a),
    getQrImage: (...a) => payments.getQrImage(...a),
  };
}

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ wrapPayments: explodingOn(EXPLODING_ID) });
});
afterAll(async () => {
  await h.close();
});

const noStack = (body: unknown) => {
  const text = JSON.stringify(body);
  expect(text).not.toMatch(/stacktrace|\bat .*\.(ts|js):\d+/);
};

async function post(body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  const response = await h.http('/graphql', { method: 'POST', headers, body });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('upstream failures', () => {
  it('Omise answering 5xx → UPSTREAM_UNAVAILABLE with the request id, no stack', async () => {
    h.sim.faults.set({ errorRate: 1 });
    try {
      const read = await h.gql(ChargeDocument, { id: 'chrg_test_0000000000000000001' });
      expect(read.body.data).toEqual({ charge: null });
      expect(read.body.errors).toHaveLength(1);
      expect(read.body.errors?.[0]).toMatchObject({
        message: expect.stringMatching(/unavailable/i),
        path: ['charge'],
        extensions: { code: 'UPSTREAM_UNAVAILABLE', requestId: read.headers.get('x-request-id') },
      });
      const write = await h.gql(CreateTrueMoneyChargeDocument, { input: { amount: 10_000 } });
      expect(write.body.data).toBeNull();
      expect(write.body.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
      noStack(read.body);
      noStack(write.body);
    } finally {
      h.sim.faults.reset();
    }
  });

  it('Omise answering 429 → RATE_LIMITED with retryAfterSeconds', async () => {
    h.sim.faults.set({ rateLimitRate: 1, retryAfterSeconds: 7 });
    try {
      const response = await h.gql(CreateTrueMoneyChargeDocument, { input: { amount: 10_000 } });
      expect(response.body.errors?.[0]?.extensions).toMatchObject({
        code: 'RATE_LIMITED',
        retryAfterSeconds: 7,
      });
      noStack(response.body);
    } finally {
      h.sim.faults.reset();
    }
  });

  it('Omise unreachable → UPSTREAM_UNAVAILABLE (a gateway whose simulator is gone)', async () => {
    const lonely = await startHarness();
    await lonely.sim.close();
    try {
      const response = await lonely.gql(ChargeDocument, { id: 'chrg_test_0000000000000000001' });
      expect(response.body.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
    } finally {
      await lonely.gateway.close();
    }
  });
});

describe('unforeseen errors', () => {
  it('are masked as "Internal server error" with a request id that the log line carries', async () => {
    const response = await h.gql(ChargeDocument, { id: EXPLODING_ID });
    expect(response.status).toBe(200);
    const requestId = response.headers.get('x-request-id');
    expect(requestId).toEqual(expect.any(String));
    expect(response.body.errors).toEqual([
      {
        message: 'Internal server error',
        locations: expect.any(Array),
        path: ['charge'],
        extensions: { code: 'INTERNAL_SERVER_ERROR', requestId },
      },
    ]);
    expect(JSON.stringify(response.body)).not.toContain('hunter2');
    noStack(response.body);
    const logged = h.logs.find((line) => line.requestId === requestId && line.level === 50);
    expect(logged?.msg).toBe('internal error in GraphQL operation');
    expect(JSON.stringify(logged?.err)).toContain(SECRET_DETAIL);
  });

  it('a caller-supplied x-request-id is kept when well-formed', async () => {
    const response = await h.gql(ChargeDocument, { id: EXPLODING_ID }, { 'x-request-id': 'checkout-7f3a' });
    expect(response.headers.get('x-request-id')).toBe('checkout-7f3a');
    expect(response.body.errors?.[0]?.extensions?.requestId).toBe('checkout-7f3a');
    const bad = await h.gql(ChargeDocument, { id: EXPLODING_ID }, { 'x-request-id': 'a b<script>' });
    expect(bad.headers.get('x-request-id')).not.toBe('a b<script>');
  });
});

describe('malformed requests', () => {
  it('syntax and validation errors: 400 with their codes, no stack', async () => {
    const syntax = await post(JSON.stringify({ query: '{ charge(id: "x") { id ' }));
    expect(syntax.status).toBe(400);
    expect(syntax.body).toMatchObject({ errors: [{ extensions: { code: 'GRAPHQL_PARSE_FAILED' } }] });
    const invalid = await post(JSON.stringify({ query: '{ charge(id: "x") { nope } }' }));
    expect(invalid.status).toBe(400);
    expect(invalid.body).toMatchObject({ errors: [{ extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }] });
    noStack(syntax.body);
    noStack(invalid.body);
  });

  it('variables of the wrong type: 400 BAD_USER_INPUT', async () => {
    const response = await post(
      JSON.stringify({
        query:
          'mutation($input: CreateTrueMoneyChargeInput!) { createTrueMoneyCharge(input: $input) { charge { id } } }',
        variables: { input: { amount: 'lots' } },
      }),
    );
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ errors: [{ extensions: { code: 'BAD_USER_INPUT' } }] });
    noStack(response.body);
  });

  it('a body that is not JSON: 400', async () => {
    const response = await post('{"query": ');
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ errors: [{ extensions: { code: 'BAD_REQUEST' } }] });
  });

  it('a body over the limit: 413, and the server keeps serving', async () => {
    const huge = JSON.stringify({
      query: '{ __typename }',
      variables: { pad: 'x'.repeat(1024 * 1024 + 10) },
    });
    const response = await h.http('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: huge,
    });
    expect(response.status).toBe(413);
    await response.arrayBuffer();
    const after = await post(JSON.stringify({ query: '{ __typename }' }));
    expect(after).toEqual({ status: 200, body: { data: { __typename: 'Query' } } });
  });

  it('a chunked body (no Content-Length) over the limit: 413', async () => {
    const chunk = new TextEncoder().encode('x'.repeat(64 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 1100 * 1024) return controller.close();
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const response = await h.http('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(413);
    await response.arrayBuffer();
  });

  it('CSRF prevention: a simple GET without a preflight header is refused; mutations never run over GET', async () => {
    const simple = await h.http('/graphql?query=%7B__typename%7D');
    expect(simple.status).toBe(400);
    await simple.arrayBuffer();
    const preflighted = await h.http('/graphql?query=%7B__typename%7D', {
      headers: { 'apollo-require-preflight': 'true' },
    });
    expect(preflighted.status).toBe(200);
    expect(await preflighted.json()).toEqual({ data: { __typename: 'Query' } });
    const mutation = await h.http(
      `/graphql?query=${encodeURIComponent('mutation { createTrueMoneyCharge(input: {amount: 10000}) { charge { id } } }')}`,
      { headers: { 'apollo-require-preflight': 'true' } },
    );
    expect(mutation.status).toBe(405);
    await mutation.arrayBuffer();
  });

  it('CSRF prevention: a simple POST (text/plain, as a form could send) is refused and runs nothing, also once the fast path knows the query', async () => {
    const query = 'mutation { createTrueMoneyCharge(input: {amount: 10000}) { charge { id } } }';
    // As JSON twice: Apollo answers the first (the fast path learns the Accept header and the document),
    // the fast path the second.
    for (let i = 0; i < 2; i++) {
      const json = await h.http('/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query }),
      });
      expect(json.status).toBe(200);
      await json.arrayBuffer();
    }
    const creates = h.omiseRequests.filter((r) => r.method === 'POST').length;
    for (const contentType of [
      'text/plain',
      'text/plain;charset=UTF-8',
      'application/x-www-form-urlencoded',
    ]) {
      const simple = await h.http('/graphql', {
        method: 'POST',
        headers: { 'content-type': contentType },
        body: JSON.stringify({ query }),
      });
      expect(simple.status).toBe(400);
      expect(JSON.stringify(await simple.json())).toMatch(/CSRF|preflight|content-type/i);
    }
    expect(h.omiseRequests.filter((r) => r.method === 'POST').length).toBe(creates);
  });
});

describe('production rules', () => {
  it('introspection and the landing page are off with NODE_ENV=production', async () => {
    const prod = await startHarness({ env: { NODE_ENV: 'production' } });
    try {
      // Apollo answers this Accept header once; the fast path then knows it, but only documents Apollo
      // resolved, so the introspection query below is refused by Apollo whatever the fast path would do.
      const first = await prod.http('/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      expect(first.status).toBe(200);
      await first.arrayBuffer();
      const introspection = await prod.http('/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ __schema { types { name } } }' }),
      });
      expect(introspection.status).toBe(400);
      const body = await introspection.json();
      expect(JSON.stringify(body)).toMatch(/introspection/i);
      const page = await prod.http('/graphql', { headers: { accept: 'text/html' } });
      expect(page.headers.get('content-type') ?? '').not.toContain('text/html');
      await page.arrayBuffer();

      // In development both are on.
      const dev = await h.http('/graphql', { headers: { accept: 'text/html' } });
      expect(dev.headers.get('content-type')).toContain('text/html');
      await dev.arrayBuffer();
    } finally {
      await prod.close();
    }
  });
});
