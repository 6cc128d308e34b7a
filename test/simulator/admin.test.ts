import { afterEach, describe, expect, it } from '@jest/globals';
import { Agent, request } from 'node:http';
import type { RunningSimulator, SimulatorOptions } from '../../src/simulator/index.js';
import { basic, call, createCharge, DAY, startTestSimulator } from './helpers.js';
import { startReceiver } from './receiver.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function simulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const sim = await startTestSimulator(options);
  cleanups.push(() => sim.close());
  return sim;
}

describe('admin API', () => {
  it('needs the secret key', async () => {
    const sim = await simulator();
    expect((await call(sim, 'GET', '/_simulator/faults', { key: null })).status).toBe(401);
    expect((await call(sim, 'GET', '/_simulator/faults', { key: sim.publicKey })).status).toBe(401);
    expect((await call(sim, 'GET', '/_simulator/nothing')).status).toBe(404);
  });

  it('sets and resets faults', async () => {
    const sim = await simulator();
    const set = await call(sim, 'POST', '/_simulator/faults', {
      json: { errorRate: 1, dropAfterProcessing: true },
    });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ errorRate: 1, dropAfterProcessing: true, latencyMs: 0 });
    expect(sim.faults.get().errorRate).toBe(1);
    expect((await call(sim, 'GET', '/charges')).status).toBeGreaterThanOrEqual(500);
    const bad = await call(sim, 'POST', '/_simulator/faults', { json: { errorRate: 'lots' } });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ object: 'error', code: 'bad_request' });
    expect(bad.body.message).toContain('errorRate');
    const unknown = await call(sim, 'POST', '/_simulator/faults', { json: { fooRate: 1 } });
    expect(unknown.status).toBe(400);
    const reset = await call(sim, 'POST', '/_simulator/faults/reset');
    expect(reset.body.errorRate).toBe(0);
    expect((await call(sim, 'GET', '/charges')).status).toBe(200);
  });

  it('moves the clock (advance and set), running expiries', async () => {
    const sim = await simulator();
    const id = (await createCharge(sim)).body.id as string;
    const before = await call(sim, 'GET', '/_simulator/clock');
    expect(before.body.now).toBe('2024-09-23T03:18:47Z');
    const advanced = await call(sim, 'POST', '/_simulator/clock/advance', { json: { ms: DAY } });
    expect(advanced.body.now).toBe('2024-09-24T03:18:47Z');
    const events = (await call(sim, 'GET', '/events')).body.data.map((e: { key: string }) => e.key);
    expect(events).toEqual(['charge.create', 'charge.expire']);
    expect((await call(sim, 'GET', `/charges/${id}`)).body.status).toBe('expired');
    const set = await call(sim, 'POST', '/_simulator/clock/set', { json: { time: '2025-01-01T00:00:00Z' } });
    expect(set.body.now).toBe('2025-01-01T00:00:00Z');
    expect((await call(sim, 'POST', '/_simulator/clock/advance', { json: { ms: -1 } })).status).toBe(400);
    expect((await call(sim, 'POST', '/_simulator/clock/set', { json: {} })).status).toBe(400);
  });

  it('sets webhook URLs and shows the deliveries', async () => {
    const receiver = await startReceiver([500]);
    cleanups.push(() => receiver.close());
    const sim = await simulator();
    const put = await call(sim, 'PUT', '/_simulator/webhook-urls', { json: { urls: [receiver.url] } });
    expect(put.body).toEqual({ urls: [receiver.url] });
    expect((await call(sim, 'GET', '/_simulator/webhook-urls')).body.urls).toEqual([receiver.url]);
    expect((await call(sim, 'PUT', '/_simulator/webhook-urls', { json: { urls: ['ftp://x'] } })).status).toBe(
      400,
    );
    await createCharge(sim);
    const waited = await call(sim, 'POST', '/_simulator/deliveries/wait', { json: { timeoutMs: 10_000 } });
    expect(waited.status).toBe(200);
    const list = await call(sim, 'GET', '/_simulator/deliveries');
    expect(list.body.object).toBe('list');
    expect(list.body.data.map((d: { status: number }) => d.status)).toEqual([500, 200]);
    expect(list.body.data[0]).toMatchObject({ url: receiver.url, eventKey: 'charge.create', attempt: 1 });
  });
});

describe('server hygiene', () => {
  it('answers 413 with an error object to bodies over the limit (declared or streamed)', async () => {
    const sim = await simulator({ bodyLimitBytes: 1024 });
    const big = JSON.stringify({ amount: 400000, description: 'x'.repeat(2000) });
    const declared = await call(sim, 'POST', '/charges', { rawBody: big, contentType: 'application/json' });
    expect(declared.status).toBe(413);
    expect(declared.body).toMatchObject({ object: 'error', code: 'bad_request' });

    const streamed = await new Promise<number>((resolve, reject) => {
      const req = request(`${sim.url}/charges`, {
        method: 'POST',
        agent: false,
        headers: { authorization: basic(sim.secretKey), 'content-type': 'application/json' },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write(big.slice(0, 800));
      req.end(big.slice(800));
    });
    expect(streamed).toBe(413);
    expect((await call(sim, 'GET', '/charges')).status).toBe(200);
  });

  it('serves keep-alive connections and close() ends them', async () => {
    const sim = await startTestSimulator();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const get = () =>
        new Promise<{ status: number; socketClosed: Promise<void> }>((resolve, reject) => {
          const req = request(`${sim.url}/charges`, {
            agent,
            headers: { authorization: basic(sim.secretKey) },
          });
          req.on('response', (res) => {
            res.resume();
            const socketClosed = new Promise<void>((r) => req.socket?.once('close', () => r()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, socketClosed }));
          });
          req.on('error', reject);
          req.end();
        });
      const first = await get();
      const second = await get();
      expect([first.status, second.status]).toEqual([200, 200]);
      await sim.close();
      await second.socketClosed;
    } finally {
      agent.destroy();
      await sim.close();
    }
  });
});
