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
  /** RATE_LIMIT_PER_MINUTE; 0 → off (the client budget too). */
  pointsPerMinute: number;
  /**
   * RATE_LIMIT_CLIENT_PER_MINUTE: the budget of keys made for client tokens (`client-ip:…`, see
   * {@link rateLimitKey}).
   * @default pointsPerMinute
   */
  clientPointsPerMinute?: number;
  /** Set (REDIS_URL) → one budget shared by every gateway instance. Its owner connects and closes it. */
  redis?: Redis;
  /** Prefix of the Redis keys (and of the memory ones). */
  keyPrefix?: string;
  logger?: Logger;
}

export const DEFAULT_RATE_LIMIT_KEY_PREFIX = 'gw:ratelimit';
/** Keys of the client-token budget start with this. */
export const CLIENT_BUDGET_KEY_PREFIX = 'client-ip:';

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
  const clientPoints = options.clientPointsPerMinute ?? pointsPerMinute;
  if (!Number.isInteger(clientPoints) || clientPoints < 1) {
    throw new Error('clientPointsPerMinute must be a positive integer');
  }
  const keyPrefix = options.keyPrefix ?? DEFAULT_RATE_LIMIT_KEY_PREFIX;
  const build = (points: number, prefix: string): RateLimiterAbstract => {
    const memory = new RateLimiterMemory({ points, duration: 60, keyPrefix: prefix });
    return redis === undefined
      ? memory
      : new RateLimiterRedis({
          storeClient: redis,
          points,
          duration: 60,
          keyPrefix: prefix,
          rejectIfRedisNotReady: true,
          insuranceLimiter: memory,
        });
  };
  const limiter = build(pointsPerMinute, keyPrefix);
  // Its own Redis keys: a change of either budget never reads the other's counters.
  const clientLimiter = build(clientPoints, `${keyPrefix}:client`);
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
        const budget = key.startsWith(CLIENT_BUDGET_KEY_PREFIX) ? clientLimiter : limiter;
        const res = await budget.consume(key, 1);
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
 * Whose budget a request uses: the service key's name; for a client token, the client's IP on the
 * (smaller) client budget, not the token's charge, since anyone who can open checkouts gets as many
 * tokens as they like but not as many addresses; with no (valid) credential, the client's IP, so that
 * guessing credentials is limited too.
 */
export function rateLimitKey(subject: Principal | AuthResult, clientIp: string | undefined): string {
  const principal: Principal | undefined =
    'ok' in subject ? (subject.ok ? subject.principal : undefined) : subject;
  switch (principal?.kind) {
    case 'service':
      return `svc:${principal.name}`;
    case 'client':
      return `${CLIENT_BUDGET_KEY_PREFIX}${normalizeIp(clientIp)}`;
    default:
      return `ip:${normalizeIp(clientIp)}`;
  }
}
