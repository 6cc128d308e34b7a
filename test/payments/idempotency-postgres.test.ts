import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { OmiseClient } from '../../src/omise/client.js';
import { createPaymentsService } from '../../src/payments/omise-payments-service.js';
import {
  closeRedisConnection,
  createRedisConnection,
  waitUntilReady,
} from '../../src/realtime/redis-connection.js';
import { RedisKeyValueStore } from '../../src/realtime/redis-key-value-store.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/index.js';

/**
 * Two gateway instances (two services, two Redis connections) sharing idempotency state in the real
 * Redis at 127.0.0.1:6379, in front of the real simulator.
 */

const prefix = `test-payments-${randomUUID()}:`;
let sim: RunningSimulator;
let redisA: Redis;
let redisB: Redis;

beforeAll(async () => {
  sim = await startSimulator();
  redisA = createRedisConnection('redis://127.0.0.1:6379', { name: 'payments-test-a' });
  redisB = createRedisConnection('redis://127.0.0.1:6379', { name: 'payments-test-b' });
  await Promise.all([waitUntilReady(redisA, 5000), waitUntilReady(redisB, 5000)]);
});

afterAll(async () => {
  const keys = await redisA.keys(`${prefix}*`);
  if (keys.length > 0) await redisA.del(...keys);
  await Promise.all([closeRedisConnection(redisA), closeRedisConnection(redisB)]);
  await sim.close();
});

function instance(redis: Redis) {
  return createPaymentsService({
    omise: new OmiseClient({ baseUrl: sim.url, secretKey: sim.secretKey, maxAttempts: 1 }),
    kv: new RedisKeyValueStore(redis, { keyPrefix: prefix }),
    mode: 'simulator',
    idempotencyTtlMs: 24 * 3600_000,
  });
}

describe('idempotency across gateway instances (Redis)', () => {
  it('20 concurrent identical creates on two instances → one Omise charge; Dates survive Redis', async () => {
    const a = instance(redisA);
    const b = instance(redisB);
    const input = { amount: 12_345, currency: 'THB' as const, idempotencyKey: 'multi-instance' };
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).createTrueMoneyCharge(input)),
    );
    const ids = new Set(results.map((r) => (r.ok ? r.value.id : 'failed')));
    expect([...ids]).toHaveLength(1);
    expect(ids.has('failed')).toBe(false);
    const page = await new OmiseClient({ baseUrl: sim.url, secretKey: sim.secretKey }).listCharges({
      limit: 100,
    });
    expect(page.total).toBe(1);
    const replay = await b.createTrueMoneyCharge(input);
    expect(replay.ok && replay.value.createdAt).toBeInstanceOf(Date);
    expect(replay).toEqual(results[0]);
    expect(codes(await a.createTrueMoneyCharge({ ...input, amount: 12_346 }))).toEqual([
      'IDEMPOTENCY_KEY_REUSED',
    ]);
  });
});

function codes(result: { ok: boolean; errors?: { code: string }[] }): string[] {
  return result.errors?.map((e) => e.code) ?? [];
}
