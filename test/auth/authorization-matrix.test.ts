import { describe, expect, it } from '@jest/globals';
import { GraphQLError } from 'graphql';
import { ApiKeyStore } from '../../src/auth/api-key-store.js';
import { createAuthenticator, type Authenticator } from '../../src/auth/authenticate.js';
import {
  AuthRuleError,
  OPERATION_RULES,
  authorize,
  authorizeOperation,
  authorizeResult,
  createAuthChecker,
  requirementFor,
  type OperationName,
} from '../../src/auth/authorization.js';
import { ClientTokens } from '../../src/auth/client-token.js';
import type { Principal } from '../../src/auth/principal.js';
import type { ApiKeyConfig } from '../../src/config/config.js';

const T0 = new Date('2026-03-01T10:00:00Z');
const CHARGE_A = 'chrg_test_aaaaaaaaaaaaaaaaaaa';
const CHARGE_B = 'chrg_test_bbbbbbbbbbbbbbbbbbb';

const API_KEYS: ApiKeyConfig[] = [
  { name: 'creator', key: 'k-create-7Yh3Jq9Lm2Np5Rs8', scopes: ['charges:create'] },
  { name: 'reader', key: 'k-read-4Tb6Wc8Xd0Ze2Gf4Hg', scopes: ['charges:read'] },
  { name: 'refunder', key: 'k-refund-1Qa3Sb5Uc7Vd9We', scopes: ['charges:refund'] },
  { name: 'voider', key: 'k-void-2Rz4Tx6Vy8Xw0Zv2Bu', scopes: ['charges:void'] },
  { name: 'simulator', key: 'k-sim-3Kp5Mn7Pq9Rs1Tu3Vw', scopes: ['test:simulate'] },
  {
    name: 'all',
    key: 'k-all-6Ab8Cd0Ef2Gh4Ij6Kl',
    scopes: ['charges:create', 'charges:read', 'charges:refund', 'charges:void', 'test:simulate'],
  },
];
const keyOf = (name: string) => API_KEYS.find((k) => k.name === name)!.key;

/** Every operation of the contract, called on charge A. */
const CALLS: Array<[OperationName, Record<string, unknown>]> = [
  ['Query.charge', { id: CHARGE_A }],
  ['Query.charges', { first: 20 }],
  ['Mutation.createTrueMoneyCharge', { input: { amount: 10_000 } }],
  ['Mutation.refundCharge', { input: { chargeId: CHARGE_A } }],
  ['Mutation.voidCharge', { input: { chargeId: CHARGE_A } }],
  ['Mutation.simulateChargeOutcome', { input: { chargeId: CHARGE_A, outcome: 'SUCCESSFUL' } }],
  ['Subscription.chargeStatus', { chargeId: CHARGE_A }],
];

type Expected = 'A' | 'U' | 'F';
const ALL = (x: Expected) => CALLS.map(() => x).join('');
/**
 * The expected decisions, written by hand (A allowed, U UNAUTHENTICATED, F FORBIDDEN), columns in the
 * order of CALLS: charge, charges, createTrueMoneyCharge, refundCharge, voidCharge, simulateChargeOutcome,
 * chargeStatus.
 */
const EXPECTED: Record<string, string> = {
  'key creator (charges:create)': 'FFAFFFF',
  'key reader (charges:read)': 'AAFFFFA',
  'key refunder (charges:refund)': 'FFFAFFF',
  'key voider (charges:void)': 'FFFFAFF',
  'key simulator (test:simulate)': 'FFFFFAF',
  'key all (every scope)': ALL('A'),
  'client token for charge A': 'AFFFFFA',
  'client token for charge B': ALL('F'),
  'expired client token for charge A': ALL('U'),
  'tampered client token (A changed to B)': ALL('U'),
  'garbage bearer': ALL('U'),
  'unknown ctok_ bearer': ALL('U'),
  'not a bearer header': ALL('U'),
  'no credential': ALL('U'),
  'test mode without keys, no credential': ALL('A'),
  'test mode without keys, garbage bearer': ALL('A'),
};

async function credentials(): Promise<
  Record<string, { authenticator: Authenticator; header: string | undefined }>
> {
  let now = T0;
  const clientTokens = new ClientTokens({ secret: 'matrix-secret-with-at-least-32-chars!!', now: () => now });
  const on = createAuthenticator({ apiKeys: new ApiKeyStore(API_KEYS), clientTokens, authEnabled: true });
  const off = createAuthenticator({ apiKeys: new ApiKeyStore([]), clientTokens, authEnabled: false });
  const expiresAt = new Date(T0.getTime() + 15 * 60_000);
  const tokenA = (await clientTokens.issue({ id: CHARGE_A, expiresAt })).token;
  const tokenB = (await clientTokens.issue({ id: CHARGE_B, expiresAt })).token;
  now = new Date(T0.getTime() - 3 * 86_400_000);
  const oldToken = (await clientTokens.issue({ id: CHARGE_A, expiresAt: new Date(now.getTime() + 60_000) }))
    .token;
  now = T0;
  const [h, p, s] = tokenA.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as object;
  const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, sub: CHARGE_B })).toString('base64url')}.${s}`;
  const bearer = (c: string) => `Bearer ${c}`;
  return {
    'key creator (charges:create)': { authenticator: on, header: bearer(keyOf('creator')) },
    'key reader (charges:read)': { authenticator: on, header: bearer(keyOf('reader')) },
    'key refunder (charges:refund)': { authenticator: on, header: bearer(keyOf('refunder')) },
    'key voider (charges:void)': { authenticator: on, header: bearer(keyOf('voider')) },
    'key simulator (test:simulate)': { authenticator: on, header: bearer(keyOf('simulator')) },
    'key all (every scope)': { authenticator: on, header: bearer(keyOf('all')) },
    'client token for charge A': { authenticator: on, header: bearer(tokenA) },
    'client token for charge B': { authenticator: on, header: bearer(tokenB) },
    'expired client token for charge A': { authenticator: on, header: bearer(oldToken) },
    'tampered client token (A changed to B)': { authenticator: on, header: bearer(tampered) },
    'garbage bearer': { authenticator: on, header: 'Bearer 8f7e6d5c4b3a29181716151413121110' },
    'unknown ctok_ bearer': { authenticator: on, header: 'Bearer ctok_eyJhbGciOiJIUzI1NiJ9.e30.AAAA' },
    'not a bearer header': {
      authenticator: on,
      header: `Basic ${Buffer.from(keyOf('all')).toString('base64')}`,
    },
    'no credential': { authenticator: on, header: undefined },
    'test mode without keys, no credential': { authenticator: off, header: undefined },
    'test mode without keys, garbage bearer': { authenticator: off, header: 'Bearer garbage' },
  };
}

describe('who may do what: every credential × every operation', () => {
  it('covers every operation of the table', () => {
    expect(CALLS.map(([op]) => op).sort()).toEqual(Object.keys(OPERATION_RULES).sort());
  });

  it('decides as the hand-written matrix says', async () => {
    const creds = await credentials();
    expect(Object.keys(creds).sort()).toEqual(Object.keys(EXPECTED).sort());
    const actual: Record<string, string> = {};
    for (const [name, { authenticator, header }] of Object.entries(creds)) {
      const auth = await authenticator.authenticate(header);
      actual[name] = CALLS.map(([operation, args]) => {
        const requirement = requirementFor(operation, args)!;
        const decision = authorizeResult(auth, requirement, T0);
        return decision.allowed ? 'A' : decision.code === 'UNAUTHENTICATED' ? 'U' : 'F';
      }).join('');
    }
    expect(actual).toEqual(EXPECTED);
  });

  it('gives reasons that name the problem and never the credential', async () => {
    const creds = await credentials();
    const messages: string[] = [];
    for (const { authenticator, header } of Object.values(creds)) {
      const auth = await authenticator.authenticate(header);
      for (const [operation, args] of CALLS) {
        const decision = authorizeResult(auth, requirementFor(operation, args)!, T0);
        if (!decision.allowed) {
          messages.push(decision.message);
          if (header !== undefined)
            expect(decision.message).not.toContain(header.split(' ')[1]!.slice(0, 10));
        }
      }
    }
    expect(messages).toEqual(
      expect.arrayContaining([
        'API key "reader" lacks the scope charges:create.',
        'This client token is for another charge.',
        'A client token may only read its own charge and subscribe to its status.',
        'Client token expired.',
        'Client token invalid.',
        'Unknown API key.',
        'Authorization must be "Bearer <API key or client token>".',
        'Authentication required: send "Authorization: Bearer <credential>".',
      ]),
    );
  });
});

describe('authorize', () => {
  const client: Principal = {
    kind: 'client',
    chargeId: CHARGE_A,
    expiresAt: new Date(T0.getTime() + 60_000),
  };

  it('refuses a client token that expired after its WebSocket connection was authenticated', () => {
    const requirement = { scope: 'charges:read' as const, chargeId: CHARGE_A };
    expect(authorize(client, requirement, T0)).toEqual({ allowed: true });
    expect(authorize(client, requirement, new Date(T0.getTime() + 60_000))).toMatchObject({
      allowed: false,
      code: 'UNAUTHENTICATED',
    });
  });

  it('binds client tokens only through the argument the table names', () => {
    // chargeStatus reads chargeId, not id; charge reads id, not chargeId.
    expect(authorizeOperation(client, 'Subscription.chargeStatus', { id: CHARGE_A }, T0)).toMatchObject({
      code: 'FORBIDDEN',
    });
    expect(authorizeOperation(client, 'Query.charge', { chargeId: CHARGE_A }, T0)).toMatchObject({
      code: 'FORBIDDEN',
    });
    expect(authorizeOperation(client, 'Query.charge', { id: CHARGE_A }, T0)).toEqual({ allowed: true });
  });

  it('fails closed on an operation missing from the table', () => {
    const all: Principal = { kind: 'service', name: 'all', scopes: API_KEYS[5]!.scopes };
    expect(requirementFor('Mutation.somethingNew')).toBeUndefined();
    expect(requirementFor('toString')).toBeUndefined();
    expect(authorizeOperation(all, 'Mutation.somethingNew', {}, T0)).toMatchObject({ code: 'FORBIDDEN' });
  });
});

describe('createAuthChecker (type-graphql authChecker)', () => {
  interface Ctx {
    principal: Principal;
  }
  const checker = createAuthChecker<Ctx>({ principalOf: (ctx) => ctx.principal, now: () => T0 });
  const call = (
    principal: Principal,
    parentType: string,
    fieldName: string,
    args: Record<string, unknown>,
    roles: string[],
  ) =>
    checker(
      { context: { principal }, args, info: { parentType: { name: parentType } as never, fieldName } },
      roles,
    );
  const reader: Principal = { kind: 'service', name: 'reader', scopes: ['charges:read'] };
  const clientA: Principal = {
    kind: 'client',
    chargeId: CHARGE_A,
    expiresAt: new Date(T0.getTime() + 60_000),
  };

  it('allows by the table and throws GraphQL errors with the contract codes otherwise', () => {
    expect(call(reader, 'Query', 'charge', { id: CHARGE_B }, ['charges:read'])).toBe(true);
    expect(call(clientA, 'Query', 'charge', { id: CHARGE_A }, ['charges:read'])).toBe(true);
    const refusalOf = (fn: () => unknown): GraphQLError => {
      try {
        fn();
      } catch (error) {
        if (error instanceof GraphQLError) return error;
        throw error;
      }
      throw new Error('not refused');
    };
    expect(
      refusalOf(() => call(clientA, 'Query', 'charge', { id: CHARGE_B }, ['charges:read'])).extensions,
    ).toEqual({
      code: 'FORBIDDEN',
    });
    expect(
      refusalOf(() => call({ kind: 'anonymous' }, 'Query', 'charges', {}, ['charges:read'])).extensions,
    ).toEqual({
      code: 'UNAUTHENTICATED',
    });
    expect(call({ kind: 'anonymous-test-mode' }, 'Mutation', 'voidCharge', {}, ['charges:void'])).toBe(true);
  });

  it('uses the single scope of @Authorized on fields outside the table', () => {
    expect(call(reader, 'Charge', 'metadata', {}, ['charges:read'])).toBe(true);
    expect(() => call(clientA, 'Charge', 'metadata', {}, ['charges:read'])).toThrow(GraphQLError);
  });

  it('refuses misconfigured decorations as programming errors', () => {
    expect(() => call(reader, 'Query', 'charge', { id: CHARGE_A }, ['charges:void'])).toThrow(AuthRuleError);
    expect(() => call(reader, 'Charge', 'metadata', {}, [])).toThrow(AuthRuleError);
    expect(() => call(reader, 'Charge', 'metadata', {}, ['admin'])).toThrow(AuthRuleError);
  });

  it('is an arrow function (type-graphql treats functions with a prototype as classes)', () => {
    expect((checker as unknown as { prototype?: unknown }).prototype).toBeUndefined();
  });
});
