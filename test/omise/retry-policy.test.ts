import { describe, expect, it } from '@jest/globals';
import {
  backoffDelayMs,
  decideRetry,
  isRetryable,
  parseRetryAfterMs,
  provablyNotSent,
  type RetryPolicyOptions,
} from '../../src/omise/retry-policy.js';

const options: RetryPolicyOptions = {
  maxAttempts: 3,
  baseDelayMs: 100,
  maxDelayMs: 1000,
  maxRetryAfterMs: 5000,
  random: () => 0.5,
};

describe('isRetryable', () => {
  it('retries GET on network errors, timeouts, 429 and 5xx only', () => {
    expect(isRetryable('GET', { kind: 'network', code: 'ECONNRESET', mayHaveReachedServer: true })).toBe(
      true,
    );
    expect(isRetryable('GET', { kind: 'timeout' })).toBe(true);
    expect(isRetryable('GET', { kind: 'status', status: 429 })).toBe(true);
    expect(isRetryable('GET', { kind: 'status', status: 500 })).toBe(true);
    expect(isRetryable('GET', { kind: 'status', status: 503 })).toBe(true);
    expect(isRetryable('GET', { kind: 'status', status: 404 })).toBe(false);
    expect(isRetryable('GET', { kind: 'status', status: 401 })).toBe(false);
    expect(isRetryable('GET', { kind: 'status', status: 200 })).toBe(false);
  });

  it('retries POST and PATCH only when Omise provably did nothing', () => {
    for (const method of ['POST', 'PATCH']) {
      expect(
        isRetryable(method, { kind: 'network', code: 'ECONNREFUSED', mayHaveReachedServer: false }),
      ).toBe(true);
      expect(isRetryable(method, { kind: 'status', status: 429 })).toBe(true);
      expect(isRetryable(method, { kind: 'network', code: 'ECONNRESET', mayHaveReachedServer: true })).toBe(
        false,
      );
      expect(
        isRetryable(method, { kind: 'network', code: 'UND_ERR_SOCKET', mayHaveReachedServer: true }),
      ).toBe(false);
      expect(isRetryable(method, { kind: 'timeout' })).toBe(false);
      expect(isRetryable(method, { kind: 'status', status: 500 })).toBe(false);
      expect(isRetryable(method, { kind: 'status', status: 503 })).toBe(false);
      expect(isRetryable(method, { kind: 'status', status: 400 })).toBe(false);
    }
  });
});

describe('provablyNotSent', () => {
  it('knows the codes of connections that never carried the request', () => {
    for (const code of ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']) {
      expect(provablyNotSent(code)).toBe(true);
    }
    for (const code of ['ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE', undefined]) {
      expect(provablyNotSent(code)).toBe(false);
    }
  });
});

describe('backoffDelayMs', () => {
  it('draws uniformly below an exponentially growing, capped ceiling', () => {
    expect(backoffDelayMs(1, { ...options, random: () => 0.999 })).toBe(99);
    expect(backoffDelayMs(2, { ...options, random: () => 0.5 })).toBe(100);
    expect(backoffDelayMs(3, { ...options, random: () => 0.5 })).toBe(200);
    expect(backoffDelayMs(10, { ...options, random: () => 0.5 })).toBe(500);
    expect(backoffDelayMs(3, { ...options, random: () => 0 })).toBe(0);
  });
});

describe('parseRetryAfterMs', () => {
  const now = Date.parse('2026-11-27T10:00:00Z');
  it('reads delta-seconds and HTTP dates', () => {
    expect(parseRetryAfterMs('2', now)).toBe(2000);
    expect(parseRetryAfterMs(' 0 ', now)).toBe(0);
    expect(parseRetryAfterMs('Fri, 27 Nov 2026 10:00:30 GMT', now)).toBe(30_000);
  });
  it('never goes negative and ignores what it cannot read', () => {
    expect(parseRetryAfterMs('Fri, 27 Nov 2026 09:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfterMs('soon', now)).toBeUndefined();
    expect(parseRetryAfterMs('', now)).toBeUndefined();
    expect(parseRetryAfterMs(null, now)).toBeUndefined();
  });
});

describe('decideRetry', () => {
  it('stops at maxAttempts', () => {
    const failure = { kind: 'status', status: 500 } as const;
    expect(decideRetry('GET', 1, failure, options)).toEqual({ retry: true, delayMs: 50 });
    expect(decideRetry('GET', 2, failure, options)).toEqual({ retry: true, delayMs: 100 });
    expect(decideRetry('GET', 3, failure, options)).toEqual({ retry: false });
  });
  it('waits what Retry-After asks, capped', () => {
    expect(decideRetry('POST', 1, { kind: 'status', status: 429, retryAfterMs: 2000 }, options)).toEqual({
      retry: true,
      delayMs: 2000,
    });
    expect(decideRetry('GET', 1, { kind: 'status', status: 503, retryAfterMs: 60_000 }, options)).toEqual({
      retry: true,
      delayMs: 5000,
    });
  });
  it('never retries a POST that may have been processed', () => {
    expect(decideRetry('POST', 1, { kind: 'timeout' }, options)).toEqual({ retry: false });
  });
});
