import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { OmiseClient } from '../../src/omise/client.js';
import { ChargeCache, chargeProgress } from '../../src/payments/charge-cache.js';
import { ChargeReader } from '../../src/payments/charge-reader.js';
import type { Charge } from '../../src/payments/model.js';
import { mapCharge } from '../../src/payments/omise-mapper.js';
import { MemoryKeyValueStore } from '../../src/realtime/memory-key-value-store.js';
import { MemoryPubSub } from '../../src/realtime/memory-pubsub.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/index.js';
import { countingFetch } from '../status-feed/support/harness.js';

/** The charge reader and its cache against the simulator, through the real Omise client. */

let sim: RunningSimulator;
let admin: OmiseClient;
let kv: MemoryKeyValueStore;
let amount = 20_000;

beforeAll(async () => {
  sim = await startSimulator();
  admin = new OmiseClient({ baseUrl: sim.url, secretKey: sim.secretKey, maxAttempts: 1 });
  kv = new MemoryKeyValueStore();
});
afterAll(async () => {
  kv.close();
  await sim.close();
});

/** A reader whose Omise GETs are counted. */
function reader(options: Partial<ConstructorParameters<typeof ChargeReader>[0]> = {}) {
  const counting = countingFetch();
  const omise = new OmiseClient({
    baseUrl: sim.url,
    secretKey: sim.secretKey,
    maxAttempts: 1,
    fetch: counting.fetch,
  });
  const lookups: string[] = [];
  const charges = new ChargeReader({ omise, kv, onLookup: (o) => lookups.push(o), ...options });
  return { charges, gets: () => counting.calls().filter((c) => c.startsWith('GET /charges/')), lookups };
}

async function newCharge(): Promise<Charge> {
  const raw = await admin.createCharge({
    amount: (amount += 100),
    currency: 'THB',
    source: { type: 'truemoney_qr' },
  });
  return mapCharge(raw);
}

describe('ChargeReader', () => {
  it('one "not found" rule: a malformed id without asking Omise, an unknown id after a 404 → null', async () => {
    const { charges, gets } = reader();
    expect(await charges.read('../charges')).toBeNull();
    expect(await charges.readFresh('not-an-id')).toBeNull();
    expect(gets()).toEqual([]);
    expect(await charges.read('chrg_test_doesnotexist0000000')).toBeNull();
    expect(await charges.readFresh('chrg_test_doesnotexist0000000')).toBeNull();
    expect(gets()).toHaveLength(2);
  });

  it('any other failure throws (the caller decides: 503 to Omise, UPSTREAM_UNAVAILABLE to a client)', async () => {
    const { charges } = reader();
    const { id } = await newCharge();
    sim.faults.set({ errorRate: 1 });
    try {
      await expect(charges.read(id)).rejects.toThrow(/500|failed/);
    } finally {
      sim.faults.reset();
    }
  });

  it('serves a paid charge from memory: one Omise read for many reads (hits and misses counted)', async () => {
    const { charges, gets, lookups } = reader();
    const { id } = await newCharge();
    await admin.markChargeAsPaid(id);
    for (let i = 0; i < 20; i++) expect((await charges.read(id))?.status).toBe('SUCCESSFUL');
    expect(gets()).toEqual([`GET /charges/${id}`]);
    expect(lookups.filter((l) => l === 'miss')).toHaveLength(1);
    expect(lookups.filter((l) => l === 'hit')).toHaveLength(19);
  });

  it('single flight: concurrent misses of one charge share one Omise call', async () => {
    const { charges, gets } = reader();
    const { id } = await newCharge();
    const results = await Promise.all(Array.from({ length: 50 }, () => charges.read(id)));
    expect(new Set(results.map((c) => c?.id))).toEqual(new Set([id]));
    expect(gets()).toEqual([`GET /charges/${id}`]);
  });

  it('a pending charge is served for pendingTtlMs only: a change at Omise without a webhook shows after it', async () => {
    let now = Date.now();
    const { charges, gets } = reader({ cache: { pendingTtlMs: 1_000, now: () => now } });
    const { id } = await newCharge();
    expect((await charges.read(id))?.status).toBe('PENDING');
    await admin.markChargeAsPaid(id); // no webhook reaches this reader
    now += 999;
    expect((await charges.read(id))?.status).toBe('PENDING');
    expect(gets()).toHaveLength(1);
    now += 2;
    expect((await charges.read(id))?.status).toBe('SUCCESSFUL');
    expect(gets()).toHaveLength(2);
  });

  it('readFresh always asks Omise (webhooks, the poll, the rules of a refund) and feeds the cache', async () => {
    const { charges, gets } = reader();
    const { id } = await newCharge();
    await charges.read(id);
    await admin.markChargeAsPaid(id);
    expect((await charges.readFresh(id))?.status).toBe('SUCCESSFUL');
    expect((await charges.read(id))?.status).toBe('SUCCESSFUL');
    expect(gets()).toHaveLength(2);
  });

  it('read-your-writes across instances: a state remembered by A makes B ask Omise, even without pub/sub', async () => {
    const shared = new MemoryKeyValueStore();
    try {
      const a = reader({ kv: shared });
      const b = reader({ kv: shared }); // no pub/sub: only the shared version tells B
      const { id } = await newCharge();
      await admin.markChargeAsPaid(id);
      expect((await b.charges.read(id))?.refundedAmount).toBe(0);
      await admin.createRefund(id, { amount: 1_000 });
      // A refunds (as its mutation would) and remembers the result before answering.
      const after = await a.charges.readFresh(id);
      expect(after?.refundedAmount).toBe(1_000);
      expect((await b.charges.read(id))?.refundedAmount).toBe(1_000);
      expect(b.gets()).toHaveLength(2);
    } finally {
      shared.close();
    }
  });

  it('hands what it learns to the other instances over pub/sub; they serve it without asking Omise', async () => {
    const pubsub = new MemoryPubSub();
    const shared = new MemoryKeyValueStore();
    const a = reader({ kv: shared, pubsub });
    const b = reader({ kv: shared, pubsub });
    await a.charges.start();
    await b.charges.start();
    try {
      const { id } = await newCharge();
      await admin.markChargeAsPaid(id);
      await a.charges.readFresh(id); // e.g. the webhook arrived at A
      for (let i = 0; i < 100 && !b.charges.cache.fresh(id); i++) await new Promise((r) => setTimeout(r, 5));
      expect((await b.charges.read(id))?.status).toBe('SUCCESSFUL');
      expect(b.gets()).toEqual([]);
    } finally {
      await a.charges.close();
      await b.charges.close();
      await pubsub.close();
      shared.close();
    }
  });
});

describe('ChargeCache', () => {
  async function states() {
    const { id } = await newCharge();
    const pending = mapCharge(await admin.retrieveCharge(id));
    const paid = mapCharge(await admin.markChargeAsPaid(id));
    await admin.createRefund(id, { amount: 1_000 });
    const refunded = mapCharge(await admin.retrieveCharge(id));
    return { pending, paid, refunded };
  }

  it('orders states: pending < paid < refunded; a refund more, or more refunded, is newer', async () => {
    const { pending, paid, refunded } = await states();
    expect(chargeProgress(pending)).toBeLessThan(chargeProgress(paid));
    expect(chargeProgress(paid)).toBeLessThan(chargeProgress(refunded));
    expect(chargeProgress({ ...refunded, status: 'REVERSED' })).toBeGreaterThan(chargeProgress(refunded));
    expect(Number.isSafeInteger(chargeProgress({ ...refunded, status: 'REVERSED' }))).toBe(true);
  });

  it('never replaces a state by an older one, whatever order they come in', async () => {
    const { pending, paid, refunded } = await states();
    const cache = new ChargeCache();
    cache.keep(refunded);
    cache.keep(pending);
    cache.keep(paid);
    expect(cache.fresh(paid.id)?.charge).toBe(refunded);
  });

  it('is bounded: beyond maxEntries the least recently used charge goes', async () => {
    const cache = new ChargeCache({ maxEntries: 3 });
    const charges = await Promise.all([1, 2, 3, 4].map(() => newCharge()));
    const [c1, c2, c3, c4] = charges as [Charge, Charge, Charge, Charge];
    cache.keep(c1);
    cache.keep(c2);
    cache.keep(c3);
    cache.fresh(c1.id); // used: c2 is now the least recently used
    cache.keep(c4);
    expect(cache.size).toBe(3);
    expect(cache.fresh(c2.id)).toBeUndefined();
    expect([c1, c3, c4].map((c) => cache.fresh(c.id)?.charge.id)).toEqual([c1.id, c3.id, c4.id]);
  });

  it('keeps a paid charge until its void day ends, then until its refund window ends, then for good', async () => {
    const { paid } = await states();
    const paidAt = paid.paidAt!.getTime();
    let now = paidAt;
    const cache = new ChargeCache({ now: () => now });
    cache.keep({ ...paid, voidable: true, refundable: true });
    // The end of the Bangkok day of payment (UTC+7).
    const endOfDay = (Math.floor((paidAt + 7 * 3_600_000) / 86_400_000) + 1) * 86_400_000 - 7 * 3_600_000;
    now = endOfDay - 1;
    expect(cache.fresh(paid.id)).toBeDefined();
    now = endOfDay;
    expect(cache.fresh(paid.id)).toBeUndefined();
    cache.keep({ ...paid, voidable: false, refundable: true });
    now = paidAt + 30 * 86_400_000 - 1;
    expect(cache.fresh(paid.id)).toBeDefined();
    now += 1;
    expect(cache.fresh(paid.id)).toBeUndefined();
    cache.keep({ ...paid, voidable: false, refundable: false });
    now += 365 * 86_400_000;
    expect(cache.fresh(paid.id)).toBeDefined();
  });
});
