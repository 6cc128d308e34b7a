import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { createAuth } from '../../src/auth/setup.js';
import { loadConfig } from '../../src/config/config.js';
import { UpstreamUnavailableError } from '../../src/payments/errors.js';
import { CreateTrueMoneyChargeDocument } from '../generated/operations.js';
import { waitFor } from '../realtime/helpers.js';
import { dataOf, startHarness, type Harness } from './support/harness.js';

/**
 * One execution and one serialisation of a chargeStatus event per group of subscribers (same operation,
 * variables and access), against a real gateway and simulator over real WebSockets: what each subscriber
 * receives, byte for byte, and what each is still subject to (its token's expiry, its own errors).
 */

const KEY = (name: string) => `tmgw_${name}_${'k'.repeat(40)}`;
const API_KEYS = [
  { name: 'all', key: KEY('all'), scopes: ['charges:create', 'charges:read', 'test:simulate'] },
  { name: 'reader', key: KEY('reader'), scopes: ['charges:read'] },
];
const TOKEN_SECRET = 's'.repeat(48);
const webhookSecret = randomBytes(32).toString('base64');
const allKey = { authorization: `Bearer ${KEY('all')}` };

const STATUS = `subscription Watch($chargeId: ID!) { chargeStatus(chargeId: $chargeId) { chargeId status terminal occurredAt charge { id amount status paidAt } } }`;

interface Frame {
  text: string;
  binary: boolean;
  message: { id?: string; type: string; payload?: { data?: unknown; errors?: ErrorJson[] } };
}
interface ErrorJson {
  message: string;
  path?: string[];
  locations?: unknown;
  extensions?: Record<string, unknown>;
}

/** A raw graphql-transport-ws socket with one subscription: every frame as it came off the wire. */
async function watch(query: string, variables: Record<string, unknown>, authorization?: string) {
  const socket = new WebSocket(h.gateway.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
  const frames: Frame[] = [];
  socket.on('message', (data, binary) => {
    const text = String(data);
    frames.push({ text, binary, message: JSON.parse(text) as Frame['message'] });
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  socket.send(JSON.stringify({ type: 'connection_init', payload: authorization ? { authorization } : {} }));
  await waitFor(() => frames.some((f) => f.message.type === 'connection_ack'));
  socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query, variables } }));
  const nexts = () => frames.filter((f) => f.message.type === 'next');
  await waitFor(() => nexts().length >= 1);
  return { socket, frames, nexts, close: () => socket.terminate() };
}

let h: Harness;
let clockOffsetMs = 0;
const now = () => new Date(Date.now() + clockOffsetMs);
let auth: ReturnType<typeof createAuth>;
let failQrImages = false;

beforeAll(async () => {
  const env = {
    GATEWAY_API_KEYS: JSON.stringify(API_KEYS),
    GATEWAY_TOKEN_SECRET: TOKEN_SECRET,
    OMISE_WEBHOOK_SECRET: webhookSecret,
    RECONCILE_INTERVAL_SECONDS: '3600',
    RATE_LIMIT_PER_MINUTE: '0',
  };
  auth = createAuth(loadConfig({ ...env, OMISE_SECRET_KEY: 'skey_test_shared' }), { now });
  h = await startHarness({
    env,
    simulator: { webhookSecret },
    // The authChecker and the client tokens follow this clock; the simulator keeps its own.
    overrides: { auth, now },
    wrapPayments: (payments) =>
      Object.assign(Object.create(payments) as typeof payments, {
        getQrImage: (url: string) =>
          failQrImages ? Promise.reject(new UpstreamUnavailableError('QR image')) : payments.getQrImage(url),
      }),
  });
  h.sim.setWebhookUrls([`${h.gateway.origin}/webhooks/omise`]);
});
afterAll(async () => {
  await h?.close();
});

async function createCharge(): Promise<{ id: string; clientToken: string }> {
  const payload = dataOf(
    await h.gql(CreateTrueMoneyChargeDocument, { input: { amount: 12_300 } }, allKey),
  ).createTrueMoneyCharge;
  return { id: payload.charge!.id, clientToken: payload.clientToken! };
}

/** Paid at the simulator, as the customer's app does: its webhook reaches the gateway, which publishes. */
async function pay(chargeId: string): Promise<void> {
  const response = await fetch(`${h.sim.url}/charges/${chargeId}/mark_as_paid`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${h.sim.secretKey}:`).toString('base64')}` },
  });
  expect(response.status).toBe(200);
}

async function metric(pattern: RegExp): Promise<number> {
  const text = await (await h.http('/metrics', { headers: allKey })).text();
  const match = pattern.exec(text);
  return match ? Number(match[1]) : 0;
}
const executions = async () => ({
  group: await metric(/^graphql_subscription_executions_total\{sharing="group"\} (\d+)$/m),
  alone: await metric(/^graphql_subscription_executions_total\{sharing="alone"\} (\d+)$/m),
});

describe('one execution of a chargeStatus event per group of subscribers', () => {
  it('N subscribers of one charge get the same bytes from one execution, as text frames', async () => {
    const { id } = await createCharge();
    const reader = `Bearer ${KEY('reader')}`;
    const subscribers = await Promise.all(
      Array.from({ length: 5 }, () => watch(STATUS, { chargeId: id }, reader)),
    );
    try {
      const before = await executions();
      await pay(id);
      await waitFor(() => subscribers.every((s) => s.nexts().length >= 2));
      const after = await executions();
      expect(after.group - before.group).toBe(1);
      expect(after.alone - before.alone).toBe(0);

      const texts = subscribers.map((s) => s.nexts()[1]!);
      for (const frame of texts) {
        expect(frame.binary).toBe(false);
        expect(frame.text).toBe(texts[0]!.text);
        // Exactly what graphql-ws writes for a result: {"id","type","payload"} in that order.
        expect(frame.text).toBe(
          JSON.stringify({ id: '1', type: 'next', payload: { data: frame.message.payload!.data } }),
        );
      }
      expect(texts[0]!.message.payload).toEqual({
        data: {
          chargeStatus: {
            chargeId: id,
            status: 'SUCCESSFUL',
            terminal: true,
            occurredAt: expect.any(String),
            charge: { id, amount: 12_300, status: 'SUCCESSFUL', paidAt: expect.any(String) },
          },
        },
      });
      // And each stream completes after the terminal status, as before.
      await waitFor(() => subscribers.every((s) => s.frames.some((f) => f.message.type === 'complete')));
    } finally {
      for (const s of subscribers) s.close();
    }
  });

  it('a subscriber whose token expired meanwhile gets UNAUTHENTICATED, while its group and the others get the event', async () => {
    const { id, clientToken } = await createCharge();
    // The charge's own token lives a day (+ grace); this one for the same charge five minutes (+ grace).
    const short = (await auth.clientTokens.issue({ id, expiresAt: new Date(now().getTime() + 1_000) })).token;
    const shortLived = await watch(STATUS, { chargeId: id }, `Bearer ${short}`);
    const longLived = await watch(STATUS, { chargeId: id }, `Bearer ${clientToken}`);
    const service = await watch(STATUS, { chargeId: id }, `Bearer ${KEY('reader')}`);
    const all = [shortLived, longLived, service];
    try {
      const errorsBefore = await metric(/^graphql_errors_total\{code="UNAUTHENTICATED"\} (\d+)$/m);
      clockOffsetMs = 10 * 60_000;
      await pay(id);
      await waitFor(() => all.every((s) => s.nexts().length >= 2));

      for (const s of [longLived, service]) {
        expect(s.nexts()[1]!.message.payload).toMatchObject({
          data: { chargeStatus: { status: 'SUCCESSFUL' } },
        });
      }
      const refused = shortLived.nexts()[1]!.message.payload!;
      expect(refused).toEqual({
        data: null,
        errors: [
          {
            message: 'Client token expired.',
            locations: [{ line: 1, column: 38 }],
            path: ['chargeStatus'],
            extensions: { code: 'UNAUTHENTICATED', requestId: expect.any(String) },
          },
        ],
      });
      expect(await metric(/^graphql_errors_total\{code="UNAUTHENTICATED"\} (\d+)$/m)).toBe(errorsBefore + 1);
    } finally {
      clockOffsetMs = 0;
      for (const s of all) s.close();
    }
  });

  it('different selection sets and different variables get their own results', async () => {
    const { id } = await createCharge();
    const reader = `Bearer ${KEY('reader')}`;
    const INCLUDE = `subscription($chargeId: ID!, $full: Boolean!) { chargeStatus(chargeId: $chargeId) { status charge @include(if: $full) { id } } }`;
    const narrow = await watch(
      `subscription($chargeId: ID!) { chargeStatus(chargeId: $chargeId) { status } }`,
      {
        chargeId: id,
      },
      reader,
    );
    const wide = await watch(STATUS, { chargeId: id }, reader);
    const withCharge = await watch(INCLUDE, { chargeId: id, full: true }, reader);
    const withoutCharge = await watch(INCLUDE, { chargeId: id, full: false }, reader);
    const all = [narrow, wide, withCharge, withoutCharge];
    try {
      const before = await executions();
      await pay(id);
      await waitFor(() => all.every((s) => s.nexts().length >= 2));
      expect((await executions()).group - before.group).toBe(4);
      const payloads = all.map((s) => s.nexts()[1]!.message.payload);
      expect(payloads[0]).toEqual({ data: { chargeStatus: { status: 'SUCCESSFUL' } } });
      expect(payloads[1]).toMatchObject({ data: { chargeStatus: { status: 'SUCCESSFUL', charge: { id } } } });
      expect(payloads[2]).toEqual({ data: { chargeStatus: { status: 'SUCCESSFUL', charge: { id } } } });
      expect(payloads[3]).toEqual({ data: { chargeStatus: { status: 'SUCCESSFUL' } } });
    } finally {
      for (const s of all) s.close();
    }
  });

  it('an event whose execution has errors reaches every subscriber with its own errors and request id', async () => {
    const { id } = await createCharge();
    const reader = `Bearer ${KEY('reader')}`;
    const QR = `subscription($chargeId: ID!) { chargeStatus(chargeId: $chargeId) { status charge { qrCode { imageDataUri } } } }`;
    failQrImages = true;
    const subscribers = await Promise.all(
      Array.from({ length: 3 }, () => watch(QR, { chargeId: id }, reader)),
    );
    try {
      const before = await executions();
      const errorsBefore = await metric(/^graphql_errors_total\{code="UPSTREAM_UNAVAILABLE"\} (\d+)$/m);
      await pay(id);
      await waitFor(() => subscribers.every((s) => s.nexts().length >= 2));
      const after = await executions();
      // One run for the group; its errors are not shared: the others run alone.
      expect(after.group - before.group).toBe(1);
      expect(after.alone - before.alone).toBe(2);
      expect(await metric(/^graphql_errors_total\{code="UPSTREAM_UNAVAILABLE"\} (\d+)$/m)).toBe(
        errorsBefore + 3,
      );

      const requestIds = subscribers.map((s) => {
        const first = s.nexts()[0]!.message.payload!.errors![0]!;
        const event = s.nexts()[1]!.message.payload!;
        expect(event.data).toEqual({
          chargeStatus: { status: 'SUCCESSFUL', charge: { qrCode: { imageDataUri: null } } },
        });
        expect(event.errors).toEqual([
          {
            message: expect.any(String),
            locations: expect.any(Array),
            path: ['chargeStatus', 'charge', 'qrCode', 'imageDataUri'],
            extensions: { code: 'UPSTREAM_UNAVAILABLE', requestId: first.extensions!['requestId'] },
          },
        ]);
        return first.extensions!['requestId'];
      });
      expect(new Set(requestIds).size).toBe(3);
    } finally {
      failQrImages = false;
      for (const s of subscribers) s.close();
    }
  });
});

/** A raw graphql-transport-ws socket on which several subscriptions can be opened by id. */
async function rawSocket(authorization: string) {
  const socket = new WebSocket(h.gateway.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
  const frames: Frame[] = [];
  socket.on('message', (data, binary) => {
    const text = String(data);
    frames.push({ text, binary, message: JSON.parse(text) as Frame['message'] });
  });
  let closeCode: number | undefined;
  socket.on('close', (code) => (closeCode = code));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization } }));
  await waitFor(() => frames.some((f) => f.message.type === 'connection_ack'));
  const of = (id: string) => frames.filter((f) => f.message.id === id);
  return {
    socket,
    frames,
    /** Every frame of one subscription id, as `type` or `type:STATUS` / `type:error`. */
    kinds: (id: string) =>
      of(id).map((f) => {
        const payload = f.message.payload;
        if (f.message.type !== 'next') return f.message.type;
        if (payload?.errors) return 'next:error';
        const data = payload?.data as { chargeStatus?: { status?: string } } | undefined;
        return `next:${data?.chargeStatus?.status ?? '?'}`;
      }),
    subscribe: (id: string, query: string, variables: Record<string, unknown>) =>
      socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query, variables } })),
    complete: (id: string) => socket.send(JSON.stringify({ id, type: 'complete' })),
    get closeCode() {
      return closeCode;
    },
    close: () => socket.terminate(),
  };
}

const NARROW = `subscription($chargeId: ID!) { chargeStatus(chargeId: $chargeId) { chargeId status terminal } }`;
/** Lets frames already on their way arrive (what must NOT come is checked after it). */
const settle = () => new Promise((resolve) => setTimeout(resolve, 150));

describe('the protocol around a shared next frame (graphql-transport-ws)', () => {
  it('the terminal next and complete come once each, nothing after, and the id is free again at once', async () => {
    const { id } = await createCharge();
    const s = await rawSocket(`Bearer ${KEY('reader')}`);
    try {
      s.subscribe('1', NARROW, { chargeId: id });
      await waitFor(() => s.kinds('1').length >= 1);
      await pay(id);
      await waitFor(() => s.kinds('1').includes('complete'));
      // The client's own complete after ours is harmless (graphql-ws ignores an unknown id).
      s.complete('1');
      await settle();
      expect(s.kinds('1')).toEqual(['next:PENDING', 'next:SUCCESSFUL', 'complete']);
      const terminal = s.frames.find((f) => f.text.includes('SUCCESSFUL'))!;
      expect(terminal.binary).toBe(false);
      expect(terminal.text).toBe(
        JSON.stringify({ id: '1', type: 'next', payload: { data: terminal.message.payload!.data } }),
      );
      expect(s.frames.find((f) => f.message.type === 'complete')!.text).toBe('{"id":"1","type":"complete"}');

      // The same id again, on the same socket: accepted (not 4409), answered with the outcome.
      s.subscribe('1', NARROW, { chargeId: id });
      await waitFor(() => s.kinds('1').length >= 5);
      await settle();
      expect(s.kinds('1')).toEqual([
        'next:PENDING',
        'next:SUCCESSFUL',
        'complete',
        'next:SUCCESSFUL',
        'complete',
      ]);
      expect(s.closeCode).toBeUndefined();
    } finally {
      s.close();
    }
  });

  it('a subscribe with the same id sent the moment our complete arrives is accepted', async () => {
    const { id } = await createCharge();
    const s = await rawSocket(`Bearer ${KEY('reader')}`);
    try {
      s.socket.on('message', (data) => {
        const message = JSON.parse(String(data)) as Frame['message'];
        if (message.id === 'r' && message.type === 'complete' && s.kinds('r').length === 3) {
          s.subscribe('r', NARROW, { chargeId: id });
        }
      });
      s.subscribe('r', NARROW, { chargeId: id });
      await waitFor(() => s.kinds('r').length >= 1);
      await pay(id);
      await waitFor(() => s.kinds('r').length >= 5);
      await settle();
      expect(s.kinds('r')).toEqual([
        'next:PENDING',
        'next:SUCCESSFUL',
        'complete',
        'next:SUCCESSFUL',
        'complete',
      ]);
      expect(s.closeCode).toBeUndefined();
    } finally {
      s.close();
    }
  });

  it("after the client's complete, nothing more comes for that id, and a new subscription with it gets only its own frames", async () => {
    const { id } = await createCharge();
    const s = await rawSocket(`Bearer ${KEY('reader')}`);
    try {
      s.subscribe('a', NARROW, { chargeId: id });
      s.subscribe('b', NARROW, { chargeId: id });
      await waitFor(() => s.kinds('a').length >= 1 && s.kinds('b').length >= 1);
      s.complete('a');
      await settle();
      s.subscribe('a', STATUS, { chargeId: id });
      await waitFor(() => s.kinds('a').length >= 2);
      await pay(id);
      await waitFor(() => s.kinds('a').includes('complete') && s.kinds('b').includes('complete'));
      await settle();
      expect(s.kinds('a')).toEqual(['next:PENDING', 'next:PENDING', 'next:SUCCESSFUL', 'complete']);
      expect(s.kinds('b')).toEqual(['next:PENDING', 'next:SUCCESSFUL', 'complete']);
      // The second 'a' is the wide selection: its frames, not the first subscription's.
      const lastA = s.frames.filter((f) => f.message.id === 'a' && f.message.type === 'next').at(-1)!;
      expect(lastA.message.payload!.data).toMatchObject({ chargeStatus: { charge: { id } } });
      expect(s.closeCode).toBeUndefined();
    } finally {
      s.close();
    }
  });

  it('a result with errors (through graphql-ws) and a shared one after it keep their order on one socket', async () => {
    const { id } = await createCharge();
    const QR = `subscription($chargeId: ID!) { chargeStatus(chargeId: $chargeId) { status charge { qrCode { imageDataUri } } } }`;
    failQrImages = true;
    const s = await rawSocket(`Bearer ${KEY('reader')}`);
    try {
      s.subscribe('q', QR, { chargeId: id });
      s.subscribe('n', NARROW, { chargeId: id });
      await waitFor(() => s.kinds('q').length >= 1 && s.kinds('n').length >= 1);
      failQrImages = false;
      await pay(id);
      await waitFor(() => s.kinds('q').includes('complete') && s.kinds('n').includes('complete'));
      await settle();
      expect(s.kinds('q')).toEqual(['next:error', 'next:SUCCESSFUL', 'complete']);
      expect(s.kinds('n')).toEqual(['next:PENDING', 'next:SUCCESSFUL', 'complete']);
    } finally {
      failQrImages = false;
      s.close();
    }
  });

  it('a socket that closed before the event costs the others nothing: they get it, it is freed', async () => {
    const { id } = await createCharge();
    const gone = await rawSocket(`Bearer ${KEY('reader')}`);
    const stays = await rawSocket(`Bearer ${KEY('reader')}`);
    try {
      gone.subscribe('1', NARROW, { chargeId: id });
      stays.subscribe('1', NARROW, { chargeId: id });
      await waitFor(() => gone.kinds('1').length >= 1 && stays.kinds('1').length >= 1);
      const open = h.gateway.chargeStatusFeed.openCount;
      gone.close();
      await waitFor(() => h.gateway.chargeStatusFeed.openCount === open - 1);
      await pay(id);
      await waitFor(() => stays.kinds('1').includes('complete'));
      expect(stays.kinds('1')).toEqual(['next:PENDING', 'next:SUCCESSFUL', 'complete']);
      expect(gone.kinds('1')).toEqual(['next:PENDING']);
    } finally {
      gone.close();
      stays.close();
    }
  });
});
