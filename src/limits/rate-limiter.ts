import { isIP } from 'node:net';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import type { AuthResult, Principal } from '../auth/principal.js';

export type RateLimitDecision =
  { limited: false; remaining: number } | { limited: true; retryAfterSeconds: number };

export interface RequestRateLimiter {
  /** False when RATE_LIMIT_PER_MINUTE is 0: every call is allowed. */
  readonly enabled: boolean;
  readonly store: 'off' | 'memory' | 'redis';
  /** Counts one request (HTTP) or one operation (WebSocket) against the key's budget for the minute. */
  consume(key: string): Promise<RateLimitDecision>;
}

export interface RateLimiterOptions {
  /** RATE_LIMIT_PER_MINUTE; 0 → off. */
  pointsPerMinute: number;
  /** Set (REDIS_URL) → one budget shared by every gateway instance. Its owner connects and closes it. */
  redis?: Redis;
  /** Prefix of the Redis keys (and of the memory ones). */
  keyPrefix?: string;
  logger?: Logger;
}

export const DEFAULT_RATE_LIMIT_KEY_PREFIX = 'gw:ratelimit';

/**
 * The rate limiter of RATE_LIMIT_PER_MINUTE, with `rate-limiter-flexible` (fixed one-minute windows).
 *
 * With Redis, an in-memory "insurance" limiter with the same budget takes over while Redis is not
 * connected or fails a command (`rejectIfRedisNotReady`: no waiting on a dead connection): limiting
 * degrades to per instance rather than failing open (no limit at all) or failing closed (an outage of
 * Redis becoming an outage of payments). An unexpected error from the limiter itself fails open, logged.
 * Set ioredis `commandTimeout` on the client so that a hung Redis also turns into an error.
 */
export function createRateLimiter(options: RateLimiterOptions): RequestRateLimiter {
  const { pointsPerMinute, redis, logger } = options;
  if (!Number.isInteger(pointsPerMinute) || pointsPerMinute < 0) {
    throw new Error('pointsPerMinute must be a non-negative integer');
  }
  if (pointsPerMinute === 0) {
    return {
      enabled: false,
      store: 'off',
      consume: () => Promise.resolve({ limited: false, remaining: Infinity }),
    };
  }
  const keyPrefix = options.keyPrefix ?? DEFAULT_RATE_LIMIT_KEY_PREFIX;
  const memory = new RateLimiterMemory({ points: pointsPerMinute, duration: 60, keyPrefix });
  const limiter: RateLimiterAbstract =
    redis === undefined
      ? memory
      : new RateLimiterRedis({
          storeClient: redis,
          points: pointsPerMinute,
          duration: 60,
          keyPrefix,
          rejectIfRedisNotReady: true,
          insuranceLimiter: memory,
        });
  if (redis !== undefined) {
    // The insurance limiter hides Redis failures; say when it is in use, once per transition.
    let degraded = false;
    redis.on('ready', () => {
      if (degraded) logger?.info('rate limiting: Redis is back, budgets shared again');
      degraded = false;
    });
    redis.on('close', () => {
      if (!degraded) logger?.warn('rate limiting: Redis unavailable, limiting per instance in memory');
      degraded = true;
    });
  }

  return {
    enabled: true,
    store: redis === undefined ? 'memory' : 'redis',
    async consume(key) {
      try {
        const res = await limiter.consume(key, 1);
        return { limited: false, remaining: res.remainingPoints };
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes) {
          return { limited: true, retryAfterSeconds: Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)) };
        }
        logger?.error({ err: rejection }, 'rate limiter failed; request let through');
        return { limited: false, remaining: 0 };
      }
    },
  };
}

/** `::ffff:1.2.3.4` (IPv4 on a dual-stack socket) → `1.2.3.4`, so one client has one budget. */
export function normalizeIp(ip: string | undefined): string {
  if (ip === undefined || ip === '') return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1];
  if (mapped !== undefined) return mapped;
  return isIP(ip) === 0 ? 'unknown' : ip.toLowerCase();
}

/**
 * Whose budget a request uses: the service key's name, the client token's charge, or, with no (valid)
 * credential, the client's IP, so that guessing credentials is limited too.
 */
export function rateLimitKey(subject: Principal | AuthResult, clientIp: string | undefined): string {
  const principal: Principal | undefined =
    'ok' in subject ? (subject.ok ? subject.principal : undefined) : subject;
  switch (principal?.kind) {
    case 'service':
      return `svc:${principal.name}`;
    case 'client':
      return `charge:${principal.chargeId}`;
    default:
      return `ip:${normalizeIp(clientIp)}`;
  }
}
