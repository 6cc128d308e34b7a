import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import {
  createRateLimiter,
  normalizeIp,
  rateLimitKey,
  type RateLimitDecision,
} from '../../src/limits/rate-limiter.js';
import { rateLimitedError } from '../../src/limits/errors.js';

async function burst(consume: (key: string) => Promise<RateLimitDecision>, key: string, n: number) {
  const decisions: RateLimitDecision[] = [];
  for (let i = 0; i < n; i += 1) decisions.push(await consume(key));
  return decisions;
}

function expectLimitedAfter(decisions: RateLimitDecision[], allowed: number) {
  expect(decisions.slice(0, allowed).every((d) => !d.limited)).toBe(true);
  for (const d of decisions.slice(allowed)) {
    expect(d.limited).toBe(true);
    if (d.limited) {
      // Within the current one-minute window.
      expect(d.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect(d.retryAfterSeconds).toBeLessThanOrEqual(60);
    }
  }
}

describe('rate limiter in memory', () => {
  it('limits a burst beyond the budget, with a retry hint, per key', async () => {
    const limiter = createRateLimiter({ pointsPerMinute: 5, keyPrefix: `t-${randomUUID()}` });
    expect(limiter).toMatchObject({ enabled: true, store: 'memory' });
    const decisions = await burst(limiter.consume, 'svc:checkout', 8);
    expectLimitedAfter(decisions, 5);
    expect(decisions[4]).toEqual({ limited: false, remaining: 0 });
    // Another credential has its own budget.
    expect(await limiter.consume('svc:ops')).toEqual({ limited: false, remaining: 4 });
  });

  it('counts client-token keys on their own, smaller budget', async () => {
    const limiter = createRateLimiter({
      pointsPerMinute: 5,
      clientPointsPerMinute: 2,
      keyPrefix: `t-${randomUUID()}`,
    });
    expectLimitedAfter(await burst(limiter.consume, 'client-ip:1.2.3.4', 4), 2);
    // The same address without a client token is another budget, the larger one.
    expectLimitedAfter(await burst(limiter.consume, 'ip:1.2.3.4', 7), 5);
    expect(() => createRateLimiter({ pointsPerMinute: 5, clientPointsPerMinute: 0 })).toThrow();
  });

  it('is off with 0 per minute', async () => {
    const limiter = createRateLimiter({ pointsPerMinute: 0 });
    expect(limiter).toMatchObject({ enabled: false, store: 'off' });
    expect((await burst(limiter.consume, 'ip:1.2.3.4', 50)).every((d) => !d.limited)).toBe(true);
    expect(() => createRateLimiter({ pointsPerMinute: -1 })).toThrow();
  });
});

describe('rate limiter in Redis (127.0.0.1:6379)', () => {
  const prefix = `test:ratelimit:${randomUUID()}`;
  let redis: Redis;
  let other: Redis;

  beforeAll(async () => {
    redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
    other = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
    await Promise.all([redis.connect(), other.connect()]);
  });

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await Promise.all([redis.quit(), other.quit()]);
  });

  it('shares one budget between two gateway instances, and limits beyond it with a retry hint', async () => {
    const one = createRateLimiter({ pointsPerMinute: 6, redis, keyPrefix: prefix });
    const two = createRateLimiter({ pointsPerMinute: 6, redis: other, keyPrefix: prefix });
    expect(one.store).toBe('redis');
    const key = `charge:chrg_test_${randomUUID()}`;
    const decisions: RateLimitDecision[] = [];
    for (let i = 0; i < 5; i += 1) {
      decisions.push(await one.consume(key), await two.consume(key));
    }
    expectLimitedAfter(decisions, 6);
    // The counter really is in Redis, under the prefix.
    expect(Number(await redis.get(`${prefix}:${key}`))).toBe(10);
    const ttl = await redis.pttl(`${prefix}:${key}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('degrades to per-instance memory limiting when Redis is not connected (neither open nor closed)', async () => {
    // A client that never connects: status "wait", like one whose server is down.
    const down = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true, enableOfflineQueue: false });
    try {
      const limiter = createRateLimiter({ pointsPerMinute: 3, redis: down, keyPrefix: prefix });
      const key = `ip:203.0.113.${Math.floor(Math.random() * 200)}`;
      expectLimitedAfter(await burst(limiter.consume, key, 5), 3);
      expect(await redis.exists(`${prefix}:${key}`)).toBe(0);
    } finally {
      down.disconnect();
    }
  });
});

describe('rateLimitKey', () => {
  it('keys by service name, client tokens by client IP (whatever the charge), else by client IP', () => {
    expect(rateLimitKey({ kind: 'service', name: 'checkout', scopes: [] }, '1.2.3.4')).toBe('svc:checkout');
    expect(rateLimitKey({ kind: 'client', chargeId: 'chrg_1', expiresAt: new Date() }, '1.2.3.4')).toBe(
      'client-ip:1.2.3.4',
    );
    expect(rateLimitKey({ kind: 'client', chargeId: 'chrg_2', expiresAt: new Date() }, '1.2.3.4')).toBe(
      'client-ip:1.2.3.4',
    );
    expect(rateLimitKey({ kind: 'anonymous' }, '::ffff:1.2.3.4')).toBe('ip:1.2.3.4');
    expect(rateLimitKey({ kind: 'anonymous-test-mode' }, '2001:DB8::1')).toBe('ip:2001:db8::1');
    // A refused credential is limited by IP: guessing keys costs budget.
    expect(rateLimitKey({ ok: false, error: 'UNAUTHENTICATED', message: 'x' }, '10.0.0.1')).toBe(
      'ip:10.0.0.1',
    );
    expect(
      rateLimitKey({ ok: true, principal: { kind: 'service', name: 's', scopes: [] } }, '10.0.0.1'),
    ).toBe('svc:s');
    expect(normalizeIp(undefined)).toBe('unknown');
    expect(normalizeIp('not an ip')).toBe('unknown');
  });
});

describe('rateLimitedError', () => {
  it('carries RATE_LIMITED, the retry hint and, for Apollo, 429 with Retry-After', () => {
    const http = rateLimitedError(17);
    expect(http.extensions['code']).toBe('RATE_LIMITED');
    expect(http.extensions['retryAfterSeconds']).toBe(17);
    const httpPart = http.extensions['http'] as { status: number; headers: Map<string, string> };
    expect(httpPart.status).toBe(429);
    expect(httpPart.headers.get('retry-after')).toBe('17');
    expect(rateLimitedError(3, { httpStatus: false }).extensions).toEqual({
      code: 'RATE_LIMITED',
      retryAfterSeconds: 3,
    });
  });
});
