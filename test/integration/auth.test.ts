import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import {
  ChargeDocument,
  ChargesDocument,
  ChargeStatusDocument,
  CreateTrueMoneyChargeDocument,
  RefundChargeDocument,
  SimulateChargeOutcomeDocument,
  VoidChargeDocument,
} from '../generated/operations.js';
import { createAuth } from '../../src/auth/setup.js';
import { loadConfig } from '../../src/config/config.js';
import { dataOf, startHarness, type GraphQLResponse, type Harness } from './support/harness.js';
import { wsFirstResult, type WsOutcome } from './support/ws-auth.js';

/**
 * Every kind of credential against every operation, over real HTTP and WebSocket, against a real
 * gateway in front of the real simulator. The expectations are written out here, independently of
 * OPERATION_RULES, from the contract: who may do what.
 */

const SCOPES = ['charges:create', 'charges:read', 'charges:refund', 'charges:void', 'test:simulate'] as const;
const KEY = (name: string) => `key-of-${name}-${'x'.repeat(24)}`;
const API_KEYS = [
  { name: 'creator', key: KEY('creator'), scopes: ['charges:create'] },
  { name: 'reader', key: KEY('reader'), scopes: ['charges:read'] },
  { name: 'refunder', key: KEY('refunder'), scopes: ['charges:refund'] },
  { name: 'voider', key: KEY('voider'), scopes: ['charges:void'] },
  { name: 'simulator', key: KEY('simulator'), scopes: ['test:simulate'] },
  { name: 'all', key: KEY('all'), scopes: [...SCOPES] },
];
const TOKEN_SECRET = 'auth-matrix-token-secret-of-32-characters-at-least';

type Operation =
  | 'charge(A)'
  | 'charge(B)'
  | 'charges'
  | 'createTrueMoneyCharge'
  | 'refundCharge'
  | 'voidCharge'
  | 'simulateChargeOutcome'
  | 'chargeStatus(A)'
  | 'chargeStatus(B)';
const OPERATIONS: Operation[] = [
  'charge(A)',
  'charge(B)',
  'charges',
  'createTrueMoneyCharge',
  'refundCharge',
  'voidCharge',
  'simulateChargeOutcome',
  'chargeStatus(A)',
  'chargeStatus(B)',
];
const SCOPE_OF: Record<Operation, (typeof SCOPES)[number]> = {
  'charge(A)': 'charges:read',
  'charge(B)': 'charges:read',
  charges: 'charges:read',
  createTrueMoneyCharge: 'charges:create',
  refundCharge: 'charges:refund',
  voidCharge: 'charges:void',
  simulateChargeOutcome: 'test:simulate',
  'chargeStatus(A)': 'charges:read',
  'chargeStatus(B)': 'charges:read',
};

type Credential =
  | (typeof API_KEYS)[number]['name']
  | 'client token of A'
  | 'expired client token of A'
  | 'tampered client token of A'
  | 'unknown API key'
  | 'not a bearer header'
  | 'none';
const CREDENTIALS: Credential[] = [
  ...API_KEYS.map((k) => k.name),
  'client token of A',
  'expired client token of A',
  'tampered client token of A',
  'unknown API key',
  'not a bearer header',
  'none',
];

type Expected = 'allowed' | 'FORBIDDEN' | 'UNAUTHENTICATED';

function expected(credential: Credential, operation: Operation): Expected {
  const key = API_KEYS.find((k) => k.name === credential);
  if (key) return (key.scopes as string[]).includes(SCOPE_OF[operation]) ? 'allowed' : 'FORBIDDEN';
  if (credential === 'client token of A') {
    return operation === 'charge(A)' || operation === 'chargeStatus(A)' ? 'allowed' : 'FORBIDDEN';
  }
  return 'UNAUTHENTICATED';
}

// A clock the client tokens (and only they) follow: moved 8 days ahead to expire a token.
let tokenClockOffsetMs = 0;
const tokenNow = () => new Date(Date.now() + tokenClockOffsetMs);

let h: Harness;
let auth: ReturnType<typeof createAuth>;
const bearer: Partial<Record<Credential, string>> = {};
const ids = { A: '', B: '', paid: '', pending: '' };

const allKey = { authorization: `Bearer ${KEY('all')}` };

async function createCharge(): Promise<{ id: string; clientToken: string }> {
  const payload = dataOf(
    await h.gql(CreateTrueMoneyChargeDocument, { input: { amount: 20_000 } }, allKey),
  ).createTrueMoneyCharge;
  if (!payload.charge || !payload.clientToken) throw new Error('no charge');
  return { id: payload.charge.id, clientToken: payload.clientToken };
}

beforeAll(async () => {
  const env = {
    GATEWAY_API_KEYS: JSON.stringify(API_KEYS),
    GATEWAY_TOKEN_SECRET: TOKEN_SECRET,
    RATE_LIMIT_PER_MINUTE: '0',
  };
  // The gateway's auth, built as startGateway would, but with the token clock above.
  auth = createAuth(loadConfig({ ...env, OMISE_SECRET_KEY: 'skey_test_matrix' }), { now: tokenNow });
  h = await startHarness({ env, overrides: { auth } });

  const a = await createCharge();
  ids.A = a.id;
  ids.B = (await createCharge()).id;
  ids.pending = (await createCharge()).id;
  ids.paid = (await createCharge()).id;
  dataOf(
    await h.gql(
      SimulateChargeOutcomeDocument,
      { input: { chargeId: ids.paid, outcome: 'SUCCESSFUL' } },
      allKey,
    ),
  );

  for (const k of API_KEYS) bearer[k.name] = `Bearer ${k.key}`;
  bearer['client token of A'] = `Bearer ${a.clientToken}`;
  // A genuine token for A, issued 8 days "ago" on the token clock: past the 7-day cap, expired now.
  tokenClockOffsetMs = -8 * 24 * 60 * 60 * 1000;
  const old = (await auth.clientTokens.issue({ id: ids.A, expiresAt: null })).token;
  tokenClockOffsetMs = 0;
  bearer['expired client token of A'] = `Bearer ${old}`;
  // A's genuine token with its claims edited to name B: the signature no longer matches. (Editing the
  // signature's last character is not reliable: its low bits are base64 padding that decoding drops.)
  const [header, payload, signature] = a.clientToken.slice('ctok_'.length).split('.');
  const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')) as Record<string, unknown>;
  expect(claims['sub']).toBe(ids.A);
  const forged = Buffer.from(JSON.stringify({ ...claims, sub: ids.B })).toString('base64url');
  bearer['tampered client token of A'] = `Bearer ctok_${header}.${forged}.${signature}`;
  bearer['unknown API key'] = `Bearer ${KEY('nobody')}`;
  bearer['not a bearer header'] = `Basic ${Buffer.from('user:pass').toString('base64')}`;
});

afterAll(async () => {
  await h?.close();
});

type AnyResponse = GraphQLResponse<Record<string, unknown>>;

async function runHttp(operation: Operation, authorization: string | undefined): Promise<AnyResponse> {
  const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
  const gql = <TData, TVars>(doc: TypedDocumentNode<TData, TVars>, vars: TVars) =>
    h.gql(doc, vars, headers) as Promise<AnyResponse>;
  switch (operation) {
    case 'charge(A)':
      return gql(ChargeDocument, { id: ids.A });
    case 'charge(B)':
      return gql(ChargeDocument, { id: ids.B });
    case 'charges':
      return gql(ChargesDocument, { first: 2 });
    case 'createTrueMoneyCharge':
      return gql(CreateTrueMoneyChargeDocument, { input: { amount: 10_000 } });
    case 'refundCharge':
      return gql(RefundChargeDocument, { input: { chargeId: ids.paid, amount: 100 } });
    case 'voidCharge':
      return gql(VoidChargeDocument, { input: { chargeId: ids.paid } });
    case 'simulateChargeOutcome':
      return gql(SimulateChargeOutcomeDocument, { input: { chargeId: ids.pending, outcome: 'FAILED' } });
    default:
      throw new Error(`${operation} is not an HTTP operation here`);
  }
}

const ROOT_FIELD: Record<Operation, string> = {
  'charge(A)': 'charge',
  'charge(B)': 'charge',
  charges: 'charges',
  createTrueMoneyCharge: 'createTrueMoneyCharge',
  refundCharge: 'refundCharge',
  voidCharge: 'voidCharge',
  simulateChargeOutcome: 'simulateChargeOutcome',
  'chargeStatus(A)': 'chargeStatus',
  'chargeStatus(B)': 'chargeStatus',
};

const HTTP_OPERATIONS = OPERATIONS.filter((o) => !o.startsWith('chargeStatus'));
const httpCells = CREDENTIALS.flatMap((credential) =>
  HTTP_OPERATIONS.map((operation) => ({ credential, operation, want: expected(credential, operation) })),
);

describe('HTTP: every credential × every operation', () => {
  it.each(httpCells)('$credential → $operation: $want', async ({ credential, operation, want }) => {
    const omiseCallsBefore = h.omiseRequests.length;
    const response = await runHttp(operation, bearer[credential]);
    const field = ROOT_FIELD[operation];
    if (want === 'allowed') {
      expect(response.status).toBe(200);
      expect(response.body.errors).toBeUndefined();
      const value = response.body.data?.[field] as Record<string, unknown> | null;
      expect(value).not.toBeNull();
      if (operation === 'charge(A)') expect(value).toMatchObject({ id: ids.A });
      if (operation === 'charge(B)') expect(value).toMatchObject({ id: ids.B });
      return;
    }
    const codes = (response.body.errors ?? []).map((e) => e.extensions?.code);
    expect(codes).toEqual([want]);
    if (want === 'UNAUTHENTICATED') {
      // Refused as a whole before any field: 401, no data at all.
      expect(response.status).toBe(401);
      expect(response.body.data).toBeUndefined();
    } else {
      // The field is refused (null with the error), not answered.
      expect(response.status).toBe(200);
      expect(response.body.data?.[field] ?? null).toBeNull();
      expect(response.body.errors?.[0]?.path).toEqual([field]);
    }
    // Refused before the resolver: Omise was not asked.
    expect(h.omiseRequests.length).toBe(omiseCallsBefore);
    // Never echoes the credential.
    const presented = bearer[credential]?.split(' ')[1];
    if (presented) expect(JSON.stringify(response.body)).not.toContain(presented);
  });
});

function expectWs(outcome: WsOutcome, want: Expected, chargeId: string): void {
  if (want === 'allowed') {
    expect(outcome.kind).toBe('data');
    if (outcome.kind === 'data') {
      expect(outcome.data['chargeStatus']).toMatchObject({ chargeId, status: 'PENDING' });
    }
  } else if (want === 'UNAUTHENTICATED') {
    // Refused at connection_init.
    expect(outcome).toEqual({ kind: 'closed', code: 4403 });
  } else {
    expect(outcome.kind).toBe('errors');
    if (outcome.kind === 'errors') expect(outcome.codes).toEqual(['FORBIDDEN']);
  }
}

const wsCells = CREDENTIALS.flatMap((credential) =>
  (['chargeStatus(A)', 'chargeStatus(B)'] as const).map((operation) => ({
    credential,
    operation,
    want: expected(credential, operation),
  })),
);

describe('WebSocket: every credential × chargeStatus', () => {
  it.each(wsCells)('$credential → $operation: $want', async ({ credential, operation, want }) => {
    const chargeId = operation === 'chargeStatus(A)' ? ids.A : ids.B;
    const outcome = await wsFirstResult(h.gateway.url, bearer[credential], ChargeStatusDocument, {
      chargeId,
    });
    expectWs(outcome, want, chargeId);
  });

  it('a client token for A is refused FORBIDDEN on charge(B) over WebSocket too, without an Omise call', async () => {
    const before = h.omiseRequests.length;
    const outcome = await wsFirstResult(h.gateway.url, bearer['client token of A'], ChargeDocument, {
      id: ids.B,
    });
    expect(outcome).toMatchObject({ kind: 'errors', codes: ['FORBIDDEN'] });
    expect(h.omiseRequests.length).toBe(before);
  });

  it('a service key without charges:create cannot mutate over WebSocket either', async () => {
    const outcome = await wsFirstResult(h.gateway.url, bearer['reader'], CreateTrueMoneyChargeDocument, {
      input: { amount: 10_000 },
    });
    expect(outcome).toMatchObject({ kind: 'errors', codes: ['FORBIDDEN'] });
  });
});

describe('refusals in one request', () => {
  it('a client token reading A and B at once gets A and FORBIDDEN for B', async () => {
    const response = (await h
      .http('/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: bearer['client token of A'] ?? '' },
        body: JSON.stringify({
          query: 'query($a: ID!, $b: ID!) { a: charge(id: $a) { id } b: charge(id: $b) { id } }',
          variables: { a: ids.A, b: ids.B },
        }),
      })
      .then((r) => r.json())) as AnyResponse['body'];
    expect(response.data).toEqual({ a: { id: ids.A }, b: null });
    expect(response.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([[['b'], 'FORBIDDEN']]);
  });

  it('with auth on, introspection needs a credential too', async () => {
    const response = await h.http('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __schema { queryType { name } } }' }),
    });
    expect(response.status).toBe(401);
  });
});

describe('test mode without GATEWAY_API_KEYS', () => {
  let open: Harness;
  let chargeId = '';
  beforeAll(async () => {
    open = await startHarness({ env: { RATE_LIMIT_PER_MINUTE: '0' } });
    chargeId = dataOf(await open.gql(CreateTrueMoneyChargeDocument, { input: { amount: 10_000 } }))
      .createTrueMoneyCharge.charge!.id;
  });
  afterAll(async () => {
    await open?.close();
  });

  it('lets every operation through, with no credential or a garbage one', async () => {
    expect(open.gateway.auth.enabled).toBe(false);
    expect(open.gateway.auth.warnings.join('\n')).toMatch(/AUTH IS OFF/);
    expect(open.logs.some((l) => l.level === 40 && /AUTH IS OFF/.test(String(l.msg)))).toBe(true);
    for (const authorization of [undefined, 'Bearer garbage-credential-0000000000']) {
      const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
      const read = await open.gql(ChargeDocument, { id: chargeId }, headers);
      expect(read.body.errors).toBeUndefined();
      expect(read.body.data?.charge?.id).toBe(chargeId);
      const list = await open.gql(ChargesDocument, { first: 1 }, headers);
      expect(list.body.errors).toBeUndefined();
      for (const response of [
        await open.gql(RefundChargeDocument, { input: { chargeId, amount: 100 } }, headers),
        await open.gql(VoidChargeDocument, { input: { chargeId } }, headers),
        await open.gql(CreateTrueMoneyChargeDocument, { input: { amount: 10_000 } }, headers),
      ]) {
        expect(response.status).toBe(200);
        expect(response.body.errors).toBeUndefined();
      }
      const outcome = await wsFirstResult(open.gateway.url, authorization, ChargeStatusDocument, {
        chargeId,
      });
      expectWs(outcome, 'allowed', chargeId);
    }
    const simulated = await open.gql(SimulateChargeOutcomeDocument, {
      input: { chargeId, outcome: 'SUCCESSFUL' },
    });
    expect(simulated.body.errors).toBeUndefined();
    expect(simulated.body.data?.simulateChargeOutcome.charge?.status).toBe('SUCCESSFUL');
  });
});

describe('a client token expires with its charge (simulator clock)', () => {
  let sim: Harness;
  beforeAll(async () => {
    sim = await startHarness({
      env: { GATEWAY_API_KEYS: JSON.stringify(API_KEYS), GATEWAY_TOKEN_SECRET: TOKEN_SECRET },
    });
  });
  afterAll(async () => {
    await sim?.close();
  });

  it('works until the charge has expired (plus the grace), then is UNAUTHENTICATED, on an open WebSocket too', async () => {
    const created = dataOf(
      await sim.gql(CreateTrueMoneyChargeDocument, { input: { amount: 10_000 } }, allKey),
    ).createTrueMoneyCharge;
    const { id, expiresAt } = created.charge!;
    const authorization = `Bearer ${created.clientToken!}`;
    expect(expiresAt).not.toBeNull();

    const client = createClient({
      url: sim.gateway.url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      lazy: false,
      connectionParams: { authorization },
    });
    const readOverWs = () =>
      new Promise<{ data?: unknown; codes: unknown[] }>((resolve, reject) => {
        client.subscribe(
          { query: 'query($id: ID!) { charge(id: $id) { id } }', variables: { id } },
          {
            next: (result) =>
              resolve({ data: result.data, codes: (result.errors ?? []).map((e) => e.extensions?.['code']) }),
            error: (error) =>
              Array.isArray(error)
                ? resolve({
                    codes: error.map((e: { extensions?: { code?: unknown } }) => e.extensions?.code),
                  })
                : reject(new Error('socket closed')),
            complete: () => undefined,
          },
        );
      });
    try {
      expect(await readOverWs()).toEqual({ data: { charge: { id } }, codes: [] });
      expect(dataOf(await sim.gql(ChargeDocument, { id }, { authorization })).charge?.id).toBe(id);

      // Just before the token's end (expiry + 5 min grace) it still works...
      const end = new Date(String(expiresAt)).getTime() + 5 * 60_000;
      await sim.sim.clock.set(end - 2_000);
      expect((await sim.gql(ChargeDocument, { id }, { authorization })).status).toBe(200);
      // ...and after it, nothing does: not a new request, not the connection opened earlier.
      await sim.sim.clock.set(end + 1_000);
      const late = await sim.gql(ChargeDocument, { id }, { authorization });
      expect(late.status).toBe(401);
      expect(late.body.errors?.[0]?.message).toBe('Client token expired.');
      expect(await readOverWs()).toEqual({ codes: ['UNAUTHENTICATED'] });
      // A service key still reads the (now expired) charge.
      expect(dataOf(await sim.gql(ChargeDocument, { id }, allKey)).charge?.status).toBe('EXPIRED');
    } finally {
      await client.dispose();
    }
  });
});
