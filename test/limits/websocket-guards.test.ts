import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { buildSchema, type ExecutionResult } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocket, WebSocketServer } from 'ws';
import { ApiKeyStore } from '../../src/auth/api-key-store.js';
import { createAuthenticator } from '../../src/auth/authenticate.js';
import { authorizeOperation } from '../../src/auth/authorization.js';
import { ClientTokens } from '../../src/auth/client-token.js';
import { authError } from '../../src/auth/errors.js';
import type { Principal } from '../../src/auth/principal.js';
import type { QueryLimits } from '../../src/limits/query-limits.js';
import { createRateLimiter } from '../../src/limits/rate-limiter.js';
import { createWebSocketGuards } from '../../src/limits/request-guards.js';
import {
  DEFAULT_WEBSOCKET_LIMITS,
  WS_CLOSE_CODES,
  type WebSocketLimits,
} from '../../src/limits/websocket-limits.js';
import { SAMPLE_SDL } from './sample-schema.js';

const READER_KEY = 'reader-key-Mx3Nc5Bv7Zl9Kj';
const clientTokens = new ClientTokens({ secret: 'websocket-guards-test-secret-32-chars' });
const authenticator = createAuthenticator({
  apiKeys: new ApiKeyStore([{ name: 'reader', key: READER_KEY, scopes: ['charges:read'] }]),
  clientTokens,
  authEnabled: true,
});

/** A subscription that stays open until the client completes it (graphql-ws then calls return()). */
function holdOpen<T>(first: T): AsyncGenerator<T> {
  let sent = false;
  let done = false;
  let wake: ((r: IteratorResult<T>) => void) | undefined;
  const it: AsyncGenerator<T> = {
    next: () => {
      if (!sent) {
        sent = true;
        return Promise.resolve({ value: first, done: false });
      }
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => (wake = resolve));
    },
    return: () => {
      done = true;
      wake?.({ value: undefined, done: true });
      return Promise.resolve({ value: undefined, done: true });
    },
    throw: (e: unknown) => Promise.reject(e),
    [Symbol.asyncIterator]: () => it,
    [Symbol.asyncDispose]: () => Promise.resolve(),
  };
  return it;
}

function schemaWithResolvers() {
  const schema = buildSchema(SAMPLE_SDL);
  const field = schema.getSubscriptionType()!.getFields()['chargeStatus']!;
  // What type-graphql's authChecker does for the real resolvers.
  field.subscribe = (_root, args: { chargeId: string }, context: { principal: Principal }) => {
    const decision = authorizeOperation(context.principal, 'Subscription.chargeStatus', args);
    if (!decision.allowed) throw authError(decision, { httpStatus: false });
    return holdOpen({ chargeStatus: { chargeId: args.chargeId, status: 'PENDING', terminal: false } });
  };
  schema.getQueryType()!.getFields()['charge']!.resolve = (_root, args: { id: string }) => ({ id: args.id });
  schema.getQueryType()!.getFields()['charges']!.resolve = () => ({ edges: [], totalCount: 0 });
  return schema;
}

interface Running {
  url: string;
  close: () => Promise<void>;
}
const running: Running[] = [];
const clients: Client[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.dispose()));
  await Promise.all(running.splice(0).map((r) => r.close()));
});

/** The wiring the gateway's server does, on a real ws server on port 0. */
async function startServer(options: {
  pointsPerMinute?: number;
  queryLimits?: Partial<QueryLimits>;
  webSocketLimits?: Partial<WebSocketLimits>;
  now?: () => Date;
}): Promise<string> {
  const schema = schemaWithResolvers();
  const wsLimits = { ...DEFAULT_WEBSOCKET_LIMITS, ...options.webSocketLimits };
  const guards = createWebSocketGuards({
    authenticator,
    rateLimiter: createRateLimiter({ pointsPerMinute: options.pointsPerMinute ?? 0 }),
    schema,
    queryLimits: options.queryLimits,
    webSocketLimits: wsLimits,
    now: options.now,
  });
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', maxPayload: wsLimits.maxPayloadBytes });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  const server = useServer(
    {
      schema,
      connectionInitWaitTimeout: wsLimits.connectionInitWaitTimeoutMs,
      onConnect: (ctx) => guards.onConnect(ctx, ctx.extra.request.socket.remoteAddress),
      onSubscribe: async (ctx, _id, payload) => {
        const guarded = await guards.guardOperation(ctx, payload, ctx.extra.request.socket.remoteAddress);
        if (!guarded.ok) return guarded.errors;
        return {
          schema,
          document: guarded.document,
          variableValues: payload.variables,
          operationName: payload.operationName,
          contextValue: { principal: guarded.principal },
        };
      },
    },
    wss,
  );
  const { port } = wss.address() as AddressInfo;
  running.push({
    url: `ws://127.0.0.1:${port}`,
    close: async () => {
      await server.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  });
  return `ws://127.0.0.1:${port}`;
}

function connect(url: string, authorization?: string): Client {
  const client = createClient({
    url,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: authorization === undefined ? {} : { authorization },
  });
  clients.push(client);
  return client;
}

type Outcome =
  { kind: 'next'; result: ExecutionResult } | { kind: 'error'; error: unknown } | { kind: 'complete' };

/** Subscribes and resolves with what arrives first; `stop` completes the operation from the client side. */
function first(client: Client, query: string, variables?: Record<string, unknown>) {
  let stop = () => {};
  const outcome = new Promise<Outcome>((resolve) => {
    stop = client.subscribe(
      { query, variables },
      {
        next: (result) => resolve({ kind: 'next', result: result as ExecutionResult }),
        error: (error) => resolve({ kind: 'error', error }),
        complete: () => resolve({ kind: 'complete' }),
      },
    );
  });
  return { outcome, stop: () => stop() };
}

const STATUS_A = `subscription { chargeStatus(chargeId: "chrg_test_a") { chargeId status } }`;
const closeCode = (o: Outcome) => (o.kind === 'error' ? (o.error as { code?: number }).code : undefined);
const errorsOf = (o: Outcome) =>
  o.kind === 'error' && Array.isArray(o.error)
    ? (o.error as Array<{ message: string; extensions?: Record<string, unknown> }>)
    : o.kind === 'next'
      ? (o.result.errors ?? []).map((e) => ({ message: e.message, extensions: e.extensions }))
      : [];

describe('graphql-ws wiring of the guards (real ws server)', () => {
  it('closes with 4403 at connection_init for no credential, garbage, or an invalid token', async () => {
    const url = await startServer({});
    for (const authorization of [undefined, 'Bearer garbage-credential', 'Bearer ctok_a.b.c']) {
      const { outcome } = first(connect(url, authorization), STATUS_A);
      expect(closeCode(await outcome)).toBe(WS_CLOSE_CODES.FORBIDDEN);
    }
  });

  it('lets a client token follow its own charge and refuses another one', async () => {
    const url = await startServer({});
    const { token } = await clientTokens.issue({
      id: 'chrg_test_a',
      expiresAt: new Date(Date.now() + 600_000),
    });
    const client = connect(url, `Bearer ${token}`);
    const own = first(client, STATUS_A);
    expect(await own.outcome).toEqual({
      kind: 'next',
      result: { data: { chargeStatus: { chargeId: 'chrg_test_a', status: 'PENDING' } } },
    });
    own.stop();
    const other = await first(client, STATUS_A.replace('chrg_test_a', 'chrg_test_b')).outcome;
    expect(errorsOf(other)).toEqual([
      { message: 'This client token is for another charge.', extensions: { code: 'FORBIDDEN' } },
    ]);
  });

  it('refuses operations once the client token of the connection has expired', async () => {
    let now = new Date();
    const url = await startServer({ now: () => now });
    const { token, expiresAt } = await clientTokens.issue({
      id: 'chrg_test_a',
      expiresAt: new Date(Date.now() + 60_000),
    });
    const client = connect(url, `Bearer ${token}`);
    const before = first(client, STATUS_A);
    expect((await before.outcome).kind).toBe('next');
    before.stop();
    now = expiresAt;
    expect(errorsOf(await first(client, STATUS_A).outcome)).toEqual([
      { message: 'Client token expired.', extensions: { code: 'UNAUTHENTICATED' } },
    ]);
  });

  it('applies the query limits, complexity with the variables included', async () => {
    const url = await startServer({ queryLimits: { maxDepth: 3, maxComplexity: 50, maxTokens: 100 } });
    const client = connect(url, `Bearer ${READER_KEY}`);
    const deep = await first(
      client,
      `subscription { chargeStatus(chargeId: "x") { charge { qrCode { imageUrl } } } }`,
    ).outcome;
    expect(errorsOf(deep).map((e) => e.message)).toEqual(['Query depth limit of 3 exceeded, found 4.']);
    const huge = `{ charge(id: "x") { ${'id '.repeat(120)} } }`;
    // (graphql-js 16 words it "more that 100 tokens")
    expect(errorsOf(await first(client, huge).outcome).map((e) => e.message)).toEqual([
      expect.stringMatching(
        /^Syntax Error: Document contains more th(?:an|at) 100 tokens\. Parsing aborted\.$/,
      ),
    ]);
    const costly = `query ($n: Int) { charges(first: $n) { totalCount } }`;
    expect(await first(client, costly, { n: 10 }).outcome).toEqual({
      kind: 'next',
      result: { data: { charges: { totalCount: 0 } } },
    });
    const tooMuch = await first(client, costly, { n: 100 }).outcome;
    expect(errorsOf(tooMuch).map((e) => e.message)).toEqual([
      'Query complexity limit of 50 exceeded, found 101.',
    ]);
  });

  it('limits the operations running at once on one connection, and frees slots as they complete', async () => {
    const url = await startServer({ webSocketLimits: { maxSubscriptionsPerConnection: 2 } });
    const client = connect(url, `Bearer ${READER_KEY}`);
    const one = first(client, STATUS_A);
    const two = first(client, STATUS_A);
    expect((await one.outcome).kind).toBe('next');
    expect((await two.outcome).kind).toBe('next');
    const three = await first(client, STATUS_A).outcome;
    expect(errorsOf(three)).toEqual([
      {
        message: 'At most 2 operations may run at once on one connection; complete one first.',
        extensions: { code: 'TOO_MANY_SUBSCRIPTIONS', max: 2 },
      },
    ]);
    one.stop();
    const four = first(client, STATUS_A);
    expect((await four.outcome).kind).toBe('next');
    two.stop();
    four.stop();
  });

  it('rate limits operations per credential with a retry hint', async () => {
    // The connection counts as one request, then two operations fit in a budget of 3.
    const url = await startServer({ pointsPerMinute: 3 });
    const client = connect(url, `Bearer ${READER_KEY}`);
    const query = `{ charge(id: "chrg_1") { id } }`;
    expect(await first(client, query).outcome).toEqual({
      kind: 'next',
      result: { data: { charge: { id: 'chrg_1' } } },
    });
    expect((await first(client, query).outcome).kind).toBe('next');
    const [limited] = errorsOf(await first(client, query).outcome);
    expect(limited?.extensions?.['code']).toBe('RATE_LIMITED');
    expect(limited?.extensions?.['retryAfterSeconds']).toEqual(expect.any(Number));
    expect(limited?.extensions).not.toHaveProperty('http');
  });

  it('closes a socket that sends more than maxPayload (1009), or never initialises (4408)', async () => {
    const url = await startServer({
      webSocketLimits: { maxPayloadBytes: 1024, connectionInitWaitTimeoutMs: 100 },
    });
    const closed = (socket: WebSocket) =>
      new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));

    // graphql-ws's ws adapter reports socket errors with console.error; this one is expected.
    const consoleError = jest.spyOn(console, 'error').mockImplementation(() => {});
    const big = new WebSocket(url, 'graphql-transport-ws');
    const bigClosed = closed(big);
    await new Promise((resolve) => big.once('open', resolve));
    big.send(JSON.stringify({ type: 'connection_init', payload: { authorization: 'x'.repeat(2048) } }));
    expect(await bigClosed).toBe(WS_CLOSE_CODES.MESSAGE_TOO_BIG);
    expect(String(consoleError.mock.calls[0]?.[1])).toMatch(/Max payload size exceeded/);
    consoleError.mockRestore();

    const silent = new WebSocket(url, 'graphql-transport-ws');
    expect(await closed(silent)).toBe(WS_CLOSE_CODES.CONNECTION_INIT_TIMEOUT);
  });
});
