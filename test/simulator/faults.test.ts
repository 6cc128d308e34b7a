import { afterEach, describe, expect, it } from '@jest/globals';
import { request } from 'node:http';
import type { RunningSimulator, SimulatorOptions } from '../../src/simulator/index.js';
import { basic, call, createCharge, startTestSimulator } from './helpers.js';
import { startReceiver, type Receiver } from './receiver.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function simulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const sim = await startTestSimulator(options);
  cleanups.push(() => sim.close());
  return sim;
}

async function receiver(): Promise<Receiver> {
  const r = await startReceiver();
  cleanups.push(() => r.close());
  return r;
}

/** POST /charges with node:http and report whether an answer came or the socket was dropped. */
function rawCreate(sim: RunningSimulator): Promise<{ status: number } | { dropped: string }> {
  return new Promise((resolve) => {
    const body = JSON.stringify({ amount: 400000, currency: 'THB', source: { type: 'truemoney_qr' } });
    const req = request(`${sim.url}/charges`, {
      method: 'POST',
      agent: false,
      headers: {
        authorization: basic(sim.secretKey),
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ dropped: err.code ?? err.message }));
    req.end(body);
  });
}

async function chargeCount(sim: RunningSimulator): Promise<number> {
  return (await call(sim, 'GET', '/charges')).body.total as number;
}

describe('API faults', () => {
  it('are all off by default', async () => {
    const sim = await simulator();
    expect(sim.faults.get()).toMatchObject({
      latencyMs: 0,
      errorRate: 0,
      rateLimitRate: 0,
      dropRate: 0,
      webhooksEnabled: true,
      webhookLossRate: 0,
      webhookDuplicateRate: 0,
      webhookDelayMs: 0,
      webhookReorderBatch: 0,
    });
  });

  it('answer 500/503 with an Omise error body at errorRate, deterministically for a seed', async () => {
    const sim = await simulator({ faults: { errorRate: 1 } });
    const answer = await call(sim, 'GET', '/charges');
    expect([500, 503]).toContain(answer.status);
    expect(answer.body).toMatchObject({ object: 'error' });
    expect(['internal_error', 'service_unavailable']).toContain(answer.body.code);

    const pattern = async () => {
      sim.faults.set({ errorRate: 0.5, seed: 42 });
      const statuses: number[] = [];
      for (let i = 0; i < 16; i += 1) statuses.push((await call(sim, 'GET', '/charges')).status);
      return statuses;
    };
    const first = await pattern();
    expect(await pattern()).toEqual(first);
    expect(first).toContain(200);
    expect(first.some((s) => s >= 500)).toBe(true);
    sim.faults.reset();
    expect((await call(sim, 'GET', '/charges')).status).toBe(200);
  });

  it('answer 429 with Retry-After at rateLimitRate', async () => {
    const sim = await simulator();
    sim.faults.set({ rateLimitRate: 1, retryAfterSeconds: 7 });
    const answer = await call(sim, 'POST', '/charges', { json: {} });
    expect(answer.status).toBe(429);
    expect(answer.headers.get('retry-after')).toBe('7');
    expect(answer.body).toMatchObject({ object: 'error', code: 'too_many_requests' });
  });

  it('drop the connection before processing: nothing was created', async () => {
    const sim = await simulator({ faults: { dropRate: 1 } });
    const result = await rawCreate(sim);
    expect(result).toHaveProperty('dropped');
    sim.faults.reset();
    expect(await chargeCount(sim)).toBe(0);
  });

  it('drop the connection after processing: the charge exists though the answer was lost', async () => {
    const sim = await simulator({ faults: { dropRate: 1, dropAfterProcessing: true } });
    const result = await rawCreate(sim);
    expect(result).toHaveProperty('dropped');
    sim.faults.set({ dropRate: 0 });
    expect(await chargeCount(sim)).toBe(1);
  });

  it('delay answers by latencyMs (an unfaulted admin call overtakes a delayed one)', async () => {
    const sim = await simulator({ faults: { latencyMs: 1500 } });
    const order: string[] = [];
    const slow = call(sim, 'GET', '/charges').then((a) => order.push(`api:${a.status}`));
    await new Promise((resolve) => setImmediate(resolve));
    await call(sim, 'GET', '/_simulator/faults').then((a) => order.push(`admin:${a.status}`));
    await slow;
    expect(order).toEqual(['admin:200', 'api:200']);
  });

  it('never apply to the admin routes', async () => {
    const sim = await simulator({ faults: { errorRate: 1, rateLimitRate: 1 } });
    const answer = await call(sim, 'GET', '/_simulator/faults');
    expect(answer.status).toBe(200);
    expect(answer.body.errorRate).toBe(1);
  });

  it('are counted by kind, over the admin API too, and the counts survive a reset', async () => {
    const sim = await simulator({ faults: { dropRate: 1 } });
    await rawCreate(sim);
    sim.faults.set({ dropAfterProcessing: true });
    await rawCreate(sim);
    sim.faults.set({ dropRate: 0, rateLimitRate: 1 });
    await call(sim, 'GET', '/charges');
    sim.faults.reset();
    await call(sim, 'GET', '/charges');
    expect(sim.faults.stats()).toEqual({ dropBeforeProcessing: 1, dropAfterProcessing: 1, rateLimited: 1 });
    expect((await call(sim, 'GET', '/_simulator/faults/stats')).body).toEqual(sim.faults.stats());
  });

  it('refuse invalid settings', async () => {
    const sim = await simulator();
    expect(() => sim.faults.set({ errorRate: 2 })).toThrow();
    expect(() => sim.faults.set({ nope: 1 } as never)).toThrow();
  });
});

describe('webhook faults', () => {
  it('webhooksEnabled: false delivers nothing', async () => {
    const r = await receiver();
    const sim = await simulator({ webhookUrls: [r.url], faults: { webhooksEnabled: false } });
    await createCharge(sim);
    await sim.waitForIdle();
    expect(r.received).toHaveLength(0);
    expect(sim.deliveries()).toHaveLength(0);
  });

  it('webhookLossRate loses deliveries (logged as lost, absent from webhook_deliveries)', async () => {
    const r = await receiver();
    const sim = await simulator({ webhookUrls: [r.url], faults: { webhookLossRate: 1 } });
    const id = (await createCharge(sim)).body.id as string;
    await sim.waitForIdle();
    expect(r.received).toHaveLength(0);
    expect(sim.deliveries().map((d) => d.outcome)).toEqual(['lost']);
    const event = (await call(sim, 'GET', `/charges/${id}/events`)).body.data[0];
    expect(event.webhook_deliveries).toEqual([]);
  });

  it('webhookDuplicateRate sends the same event twice', async () => {
    const r = await receiver();
    const sim = await simulator({ webhookUrls: [r.url], faults: { webhookDuplicateRate: 1 } });
    const id = (await createCharge(sim)).body.id as string;
    await sim.waitForIdle();
    expect(r.received).toHaveLength(2);
    expect(r.received[0]?.json.id).toBe(r.received[1]?.json.id);
    expect(
      sim
        .deliveries()
        .map((d) => d.duplicate)
        .sort(),
    ).toEqual([false, true]);
    const event = (await call(sim, 'GET', `/charges/${id}/events`)).body.data[0];
    expect(event.webhook_deliveries).toHaveLength(2);
  });

  it('webhookDelayMs delays the first attempt', async () => {
    const r = await receiver();
    const sim = await simulator({ webhookUrls: [r.url], faults: { webhookDelayMs: 300 } });
    const before = Date.now();
    await createCharge(sim);
    await sim.waitForIdle();
    expect(r.received).toHaveLength(1);
    const at = Date.parse(sim.deliveries()[0]?.at ?? '');
    expect(at - before).toBeGreaterThanOrEqual(300);
  });

  it('webhookReorderBatch holds events until the batch is full, then sends them shuffled (seeded)', async () => {
    const order = async (seed: number) => {
      const r = await receiver();
      const sim = await simulator({
        webhookUrls: [r.url],
        faults: { webhookReorderBatch: 6, webhookReorderMaxHoldMs: 600_000, seed },
      });
      const ids: string[] = [];
      for (let i = 0; i < 5; i += 1) ids.push((await createCharge(sim)).body.id);
      // Five events are held: nothing can have been sent.
      expect(sim.deliveries()).toHaveLength(0);
      ids.push((await createCharge(sim)).body.id);
      await sim.waitForIdle();
      expect(r.received).toHaveLength(6);
      const sent = sim
        .deliveries()
        .sort((a, b) => a.dispatchSeq - b.dispatchSeq)
        .map((d) => ids.indexOf(r.received.find((x) => x.json.id === d.eventId)?.json.data.id));
      expect([...sent].sort()).toEqual([0, 1, 2, 3, 4, 5]);
      return sent;
    };
    const first = await order(3);
    expect(first).not.toEqual([0, 1, 2, 3, 4, 5]);
    expect(await order(3)).toEqual(first);
  });

  it('a partial reorder batch is flushed after webhookReorderMaxHoldMs', async () => {
    const r = await receiver();
    const sim = await simulator({
      webhookUrls: [r.url],
      faults: { webhookReorderBatch: 10, webhookReorderMaxHoldMs: 50 },
    });
    await createCharge(sim);
    await createCharge(sim);
    await sim.waitForIdle();
    expect(r.received).toHaveLength(2);
  });
});
