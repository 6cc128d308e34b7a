import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { OmiseClient, type OmiseClientOptions } from '../../src/omise/client.js';
import { OmiseError, OmiseNetworkError, OmiseTimeoutError } from '../../src/omise/errors.js';
import { paginate } from '../../src/omise/paginate.js';
import type { OmiseCharge } from '../../src/omise/types.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/index.js';

/** Every OmiseClient call, over real HTTP, against the in-process Omise simulator. */

const key = (kind: 'pkey' | 'skey') => `${kind}_test_${randomBytes(12).toString('hex')}`;

let sim: RunningSimulator;
let client: OmiseClient;
/** Waits the client asked for between attempts (recorded, not slept). */
let delays: number[] = [];
/** Runs while the client waits to retry: lets a test change the simulator between two attempts. */
let betweenAttempts: (() => void) | undefined;
/** fetch calls the client made (attempts that reached the network layer). */
let fetchCalls = 0;

function makeClient(options: Partial<OmiseClientOptions> = {}): OmiseClient {
  return new OmiseClient({
    baseUrl: sim.url,
    secretKey: sim.secretKey,
    publicKey: sim.publicKey,
    timeoutMs: 5000,
    maxAttempts: 3,
    sleep: async (ms) => {
      delays.push(ms);
      betweenAttempts?.();
    },
    fetch: (input, init) => {
      fetchCalls++;
      return fetch(input, init);
    },
    ...options,
  });
}

beforeAll(async () => {
  // Explicit keys: the simulator then accepts only these (so a wrong key is refused).
  sim = await startSimulator({
    secretKey: key('skey'),
    publicKey: key('pkey'),
    webhooksEnabled: false,
  } as never);
  client = makeClient();
});
afterAll(() => sim.close());
afterEach(() => {
  sim.faults.reset();
  delays = [];
  betweenAttempts = undefined;
  fetchCalls = 0;
});

const THB = (baht: number) => baht * 100;

async function newCharge(amount = THB(1000), metadata: Record<string, unknown> = {}): Promise<OmiseCharge> {
  return client.createCharge({ amount, currency: 'THB', source: { type: 'truemoney_qr' }, metadata });
}

async function paidCharge(amount = THB(1000)): Promise<OmiseCharge> {
  return client.markChargeAsPaid((await newCharge(amount)).id);
}

async function chargesWithMarker(marker: string): Promise<OmiseCharge[]> {
  const found: OmiseCharge[] = [];
  for await (const charge of paginate((p) => client.listCharges(p))) {
    if (charge.metadata?.marker === marker) found.push(charge);
  }
  return found;
}

async function omiseError(promise: Promise<unknown>): Promise<OmiseError> {
  const error = await promise.then(
    () => new Error('expected the call to fail'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OmiseError);
  return error as OmiseError;
}

describe('sources', () => {
  it('creates a source with the public key and reads it back', async () => {
    const source = await client.createSource({ type: 'truemoney_qr', amount: THB(500), currency: 'THB' });
    expect(source.object).toBe('source');
    expect(source.id).toMatch(/^src_test_[0-9a-z]{19}$/);
    expect([source.type, source.amount, source.currency]).toEqual(['truemoney_qr', THB(500), 'THB']);
    expect((await client.retrieveSource(source.id)).id).toBe(source.id);
  });

  it('refuses an unsupported currency', async () => {
    const error = await omiseError(
      client.createSource({ type: 'truemoney_qr', amount: THB(500), currency: 'USD' }),
    );
    expect([error.status, error.code, error.omiseMessage]).toEqual([
      400,
      'bad_request',
      'currency is currently not supported',
    ]);
  });
});

describe('charges', () => {
  it('charges a source id: pending, with a QR PNG to download without auth', async () => {
    const source = await client.createSource({ type: 'truemoney_qr', amount: THB(500), currency: 'THB' });
    const charge = await client.createCharge({
      amount: THB(500),
      currency: 'THB',
      source: source.id,
      return_uri: 'https://shop.example/return',
    });
    expect(charge.id).toMatch(/^chrg_test_[0-9a-z]{19}$/);
    expect([charge.status, charge.source?.id, charge.amount]).toEqual(['pending', source.id, THB(500)]);
    const uri = charge.source?.scannable_code?.image.download_uri ?? '';
    expect(uri).toMatch(/\/downloads\/[0-9A-F]{16}$/);
    const png = await client.downloadDocument(uri);
    expect(Array.from(png.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  });

  it('charges an inline source and retrieves the charge', async () => {
    const charge = await newCharge(THB(250));
    expect(charge.source?.type).toBe('truemoney_qr');
    const again = await client.retrieveCharge(charge.id);
    expect([again.id, again.status, again.amount]).toEqual([charge.id, 'pending', THB(250)]);
  });

  it('updates description and metadata', async () => {
    const charge = await newCharge();
    const updated = await client.updateCharge(charge.id, {
      description: 'order 42',
      metadata: { order: '42' },
    });
    expect([updated.description, updated.metadata]).toEqual(['order 42', { order: '42' }]);
    expect((await client.retrieveCharge(charge.id)).description).toBe('order 42');
  });

  it('expires a pending charge, then refuses to expire it again', async () => {
    const expired = await client.expireCharge((await newCharge()).id);
    expect([expired.status, expired.expired]).toEqual(['expired', true]);
    const error = await omiseError(client.markChargeAsPaid(expired.id));
    expect(error.status).toBe(400);
  });

  it('marks charges as paid and as failed (test mode)', async () => {
    const paid = await paidCharge();
    expect([paid.status, paid.paid, paid.authorized]).toEqual(['successful', true, true]);
    const failed = await client.markChargeAsFailed((await newCharge()).id);
    expect([failed.status, failed.failure_code]).toEqual(['failed', 'failed_processing']);
  });

  it('lists across several pages with paginate()', async () => {
    const marker = `page-${randomBytes(4).toString('hex')}`;
    for (let i = 0; i < 5; i++) await newCharge(THB(100 + i), { marker });
    const total = (await client.listCharges({ limit: 1 })).total;
    expect(total).toBeGreaterThan(2);
    const pages: number[] = [];
    const seen: string[] = [];
    for await (const charge of paginate(
      async (p) => {
        const page = await client.listCharges(p);
        pages.push(page.data.length);
        return page;
      },
      { limit: 2 },
    )) {
      seen.push(charge.id);
    }
    expect(seen).toHaveLength(total);
    expect(new Set(seen).size).toBe(total);
    expect(pages.length).toBe(Math.ceil(total / 2));
    expect((await chargesWithMarker(marker)).map((c) => c.amount)).toEqual([
      10000, 10100, 10200, 10300, 10400,
    ]);
    const newestFirst = await client.listCharges({ limit: 1, order: 'reverse_chronological' });
    expect(newestFirst.data[0]?.metadata.marker).toBe(marker);
  });

  it('refuses an amount below the TrueMoney QR minimum', async () => {
    const error = await omiseError(newCharge(100));
    expect([error.status, error.code]).toEqual([400, 'invalid_charge']);
    expect(error.isClientError).toBe(true);
  });

  it('answers 404 not_found for an unknown charge', async () => {
    const error = await omiseError(client.retrieveCharge('chrg_test_0000000000000000000'));
    expect([error.status, error.code]).toEqual([404, 'not_found']);
    expect(error.location).toMatch(/^https:\/\//);
  });
});

describe('refunds', () => {
  it('refunds partially then fully; lists per charge and overall; retrieves one', async () => {
    const charge = await paidCharge(THB(1000));
    const partial = await client.createRefund(charge.id, {
      amount: THB(100),
      metadata: { reason: 'partial' },
    });
    expect([partial.object, partial.amount, partial.charge, partial.voided]).toEqual([
      'refund',
      THB(100),
      charge.id,
      false,
    ]);
    expect(partial.metadata).toEqual({ reason: 'partial' });
    const rest = await client.createRefund(charge.id, { amount: THB(900) });
    expect((await client.retrieveCharge(charge.id)).refunded_amount).toBe(THB(1000));

    const perCharge = await client.listRefunds(charge.id);
    expect([perCharge.total, perCharge.data.map((r) => r.id)]).toEqual([2, [partial.id, rest.id]]);
    const all: string[] = [];
    for await (const refund of paginate((p) => client.listAllRefunds(p), { limit: 1 })) all.push(refund.id);
    expect(all).toEqual(expect.arrayContaining([partial.id, rest.id]));
    expect((await client.retrieveRefund(charge.id, rest.id)).amount).toBe(THB(900));

    const tooMuch = await omiseError(client.createRefund(charge.id, { amount: 1 }));
    expect(tooMuch.code).toBe('failed_refund');
  });

  it('voids a charge paid today with void: true', async () => {
    const charge = await paidCharge(THB(300));
    const refund = await client.createRefund(charge.id, { amount: THB(300), void: true });
    expect(refund.voided).toBe(true);
    const after = await client.retrieveCharge(charge.id);
    expect([after.voided, after.refunded_amount, after.refundable]).toEqual([true, THB(300), false]);
  });

  it('refuses a partial void with failed_void', async () => {
    const charge = await paidCharge(THB(300));
    const error = await omiseError(client.createRefund(charge.id, { amount: THB(100), void: true }));
    expect(error.code).toBe('failed_void');
  });

  it('answers 404 for a refund of another charge', async () => {
    const error = await omiseError(
      client.retrieveRefund('chrg_test_0000000000000000000', 'rfnd_test_0000000000000000000'),
    );
    expect(error.code).toBe('not_found');
  });
});

describe('events', () => {
  it('lists, retrieves and lists per charge', async () => {
    const charge = await paidCharge();
    const perCharge = await client.listChargeEvents(charge.id);
    const keys = perCharge.data.map((e) => e.key);
    expect(keys).toEqual(expect.arrayContaining(['charge.create', 'charge.complete']));
    const first = perCharge.data[0];
    expect(first).toBeDefined();
    const event = await client.retrieveEvent(first?.id ?? '');
    expect([event.object, event.id]).toEqual(['event', first?.id]);
    expect((event.data as { id?: string }).id).toBe(charge.id);
    const recent = await client.listEvents({ order: 'reverse_chronological', limit: 5 });
    expect(recent.data.map((e) => e.id)).toEqual(expect.arrayContaining([perCharge.data.at(-1)?.id]));
    expect(recent.total).toBeGreaterThanOrEqual(perCharge.total);
  });
});

describe('authentication', () => {
  it('refuses a wrong secret key with 401 authentication_failure', async () => {
    const error = await omiseError(makeClient({ secretKey: key('skey') }).retrieveCharge('chrg_test_x'));
    expect([error.status, error.code]).toEqual([401, 'authentication_failure']);
    expect(fetchCalls).toBe(1);
  });

  it('refuses the public key for charges', async () => {
    const publicOnly = makeClient({ secretKey: sim.publicKey });
    const error = await omiseError(
      publicOnly.createCharge({ amount: THB(200), currency: 'THB', source: { type: 'truemoney_qr' } }),
    );
    expect([error.status, error.code]).toEqual([401, 'authentication_failure']);
    // ...while the same key may create a source.
    expect(
      (await publicOnly.createSource({ type: 'truemoney_qr', amount: THB(200), currency: 'THB' })).object,
    ).toBe('source');
  });

  it('ping succeeds with the right key and fails with a wrong one', async () => {
    await client.ping();
    await expect(makeClient({ secretKey: key('skey') }).ping()).rejects.toBeInstanceOf(OmiseError);
  });
});

describe('simulator faults', () => {
  it('a GET that gets a 500/503 is retried and succeeds', async () => {
    const charge = await newCharge();
    fetchCalls = 0;
    sim.faults.set({ errorRate: 1 });
    betweenAttempts = () => sim.faults.reset();
    expect((await client.retrieveCharge(charge.id)).id).toBe(charge.id);
    expect(fetchCalls).toBe(2);
    expect(delays).toHaveLength(1);
  });

  it('a GET keeps failing until maxAttempts', async () => {
    sim.faults.set({ errorRate: 1 });
    const error = await omiseError(client.listCharges());
    expect([500, 503]).toContain(error.status);
    expect(fetchCalls).toBe(3);
  });

  it('a POST that gets a 5xx is not retried', async () => {
    const marker = `err-${randomBytes(4).toString('hex')}`;
    sim.faults.set({ errorRate: 1 });
    await omiseError(newCharge(THB(200), { marker }));
    expect(fetchCalls).toBe(1);
    sim.faults.reset();
    expect(await chargesWithMarker(marker)).toHaveLength(0);
  });

  it('a POST whose answer is lost after processing is not retried: exactly one charge exists', async () => {
    const marker = `drop-${randomBytes(4).toString('hex')}`;
    sim.faults.set({ dropRate: 1, dropAfterProcessing: true });
    const error = await newCharge(THB(200), { marker }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OmiseNetworkError);
    expect((error as OmiseNetworkError).mayHaveReachedServer).toBe(true);
    expect(fetchCalls).toBe(1);
    expect(delays).toHaveLength(0);
    sim.faults.reset();
    expect(await chargesWithMarker(marker)).toHaveLength(1);
  });

  it('a GET whose connection is dropped is retried', async () => {
    const charge = await newCharge();
    fetchCalls = 0;
    sim.faults.set({ dropRate: 1 });
    betweenAttempts = () => sim.faults.reset();
    expect((await client.retrieveCharge(charge.id)).id).toBe(charge.id);
    expect(fetchCalls).toBe(2);
  });

  it('a rate-limited POST waits Retry-After and is sent again: exactly one charge exists', async () => {
    const marker = `429-${randomBytes(4).toString('hex')}`;
    sim.faults.set({ rateLimitRate: 1, retryAfterSeconds: 2 });
    betweenAttempts = () => sim.faults.reset();
    const charge = await newCharge(THB(200), { marker });
    expect(delays).toEqual([2000]);
    expect(fetchCalls).toBe(2);
    expect((await chargesWithMarker(marker)).map((c) => c.id)).toEqual([charge.id]);
  });

  it('a slow answer times out', async () => {
    sim.faults.set({ latencyMs: 1000 });
    const slow = makeClient({ timeoutMs: 50, maxAttempts: 2 });
    const error = await slow.retrieveCharge('chrg_test_x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OmiseTimeoutError);
    expect(fetchCalls).toBe(2);
  });
});
