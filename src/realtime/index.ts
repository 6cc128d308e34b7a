import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { MemoryKeyValueStore } from './memory-key-value-store.js';
import { MemoryPubSub } from './memory-pubsub.js';
import type { KeyValueStore, PubSub } from './ports.js';
import { closeRedisConnection, createRedisConnection, waitUntilReady } from './redis-connection.js';
import { RedisKeyValueStore } from './redis-key-value-store.js';
import { RedisPubSub } from './redis-pubsub.js';

export type { KeyValueStore, PubSub, TopicSubscription } from './ports.js';
export { RealtimeUnavailableError, SubscriptionOverflowError } from './errors.js';
export { MemoryKeyValueStore } from './memory-key-value-store.js';
export { MemoryPubSub, type MemoryPubSubOptions } from './memory-pubsub.js';
export { RedisKeyValueStore, type RedisKeyValueStoreOptions } from './redis-key-value-store.js';
export { RedisPubSub, type RedisPubSubOptions } from './redis-pubsub.js';
export {
  closeRedisConnection,
  createRedisConnection,
  waitUntilReady,
  type RedisConnectionOptions,
} from './redis-connection.js';
export { DEFAULT_MAX_QUEUED_MESSAGES } from './queued-subscription.js';

export interface RealtimeConfig {
  /** `redis://` or `rediss://` URL; unset → in-memory adapters (a single gateway instance). */
  redisUrl?: string;
  /**
   * Prefix of every Redis key and channel; ignored in memory.
   * @default 'tmgw:'
   */
  keyPrefix?: string;
  logger?: Logger;
  /**
   * How long start-up waits for Redis before rejecting.
   * @default 10_000 ms
   */
  startupTimeoutMs?: number;
  /**
   * Per-command timeout on a connected but unresponsive Redis.
   * @default 5000 ms
   */
  commandTimeoutMs?: number;
  /**
   * Bound of each subscription's queue.
   * @default {@link DEFAULT_MAX_QUEUED_MESSAGES}
   */
  maxQueuedMessages?: number;
}

/** A dependency readiness depends on (GET /readyz): resolves when it answers. */
export interface RealtimeReadinessCheck {
  name: string;
  check(): Promise<void>;
}

export interface Realtime {
  kv: KeyValueStore;
  pubsub: PubSub;
  kind: 'memory' | 'redis';
  /** Prefix of every key and channel; other stores on the same Redis (rate limits) put theirs after it. */
  keyPrefix: string;
  /**
   * Redis only: the rate limiter's own connection, failing fast (a command gives up after
   * {@link RATE_LIMIT_REDIS_COMMAND_TIMEOUT_MS}): a slow Redis must not slow every request down.
   */
  rateLimitRedis?: Redis;
  /** The key-value store and the pub/sub answer. */
  readinessChecks: RealtimeReadinessCheck[];
  /** Ends all subscriptions and closes the Redis connections. */
  close(): Promise<void>;
}

export const DEFAULT_KEY_PREFIX = 'tmgw:';
/** The rate limiter's Redis commands give up after this; its in-memory insurance then decides. */
export const RATE_LIMIT_REDIS_COMMAND_TIMEOUT_MS = 500;
/** Until its connection is ready each instance counts alone; start-up waits this long for it. */
export const RATE_LIMIT_REDIS_STARTUP_TIMEOUT_MS = 5_000;

function readinessChecksOf(kv: KeyValueStore, pubsub: PubSub): RealtimeReadinessCheck[] {
  return [
    { name: 'keyValueStore', check: () => kv.ping() },
    { name: 'pubSub', check: () => pubsub.ping() },
  ];
}

/**
 * Builds the shared-state adapters: memory without `redisUrl`, Redis otherwise. With Redis it opens three
 * connections (commands + publish, subscriptions, rate limits) and resolves once the first two are ready;
 * it rejects with RealtimeUnavailableError when Redis is not reachable within `startupTimeoutMs`. The
 * rate-limit connection is waited for a short while only: until it is ready the rate limiter counts per
 * instance in memory.
 */
export async function createRealtime(config: RealtimeConfig = {}): Promise<Realtime> {
  if (!config.redisUrl) {
    const kv = new MemoryKeyValueStore();
    const pubsub = new MemoryPubSub({ maxQueuedMessages: config.maxQueuedMessages });
    return {
      kv,
      pubsub,
      kind: 'memory',
      keyPrefix: config.keyPrefix ?? DEFAULT_KEY_PREFIX,
      readinessChecks: readinessChecksOf(kv, pubsub),
      close: async () => {
        await pubsub.close();
        kv.close();
      },
    };
  }

  const keyPrefix = config.keyPrefix ?? DEFAULT_KEY_PREFIX;
  const connectionOptions = { logger: config.logger, commandTimeoutMs: config.commandTimeoutMs };
  const commands = createRedisConnection(config.redisUrl, { ...connectionOptions, name: 'tmgw-commands' });
  const subscriber = createRedisConnection(config.redisUrl, {
    ...connectionOptions,
    name: 'tmgw-subscriber',
  });
  const closeConnections = (...connections: Redis[]) => Promise.all(connections.map(closeRedisConnection));
  try {
    const timeout = config.startupTimeoutMs ?? 10_000;
    await Promise.all([waitUntilReady(commands, timeout), waitUntilReady(subscriber, timeout)]);
  } catch (error) {
    await closeConnections(commands, subscriber);
    throw error;
  }
  const rateLimitRedis = createRedisConnection(config.redisUrl, {
    name: 'tmgw-ratelimit',
    commandTimeoutMs: RATE_LIMIT_REDIS_COMMAND_TIMEOUT_MS,
    logger: config.logger,
  });
  // Until it is ready each instance counts alone (the insurance limiter): start with budgets shared.
  await waitUntilReady(rateLimitRedis, RATE_LIMIT_REDIS_STARTUP_TIMEOUT_MS).catch(() =>
    config.logger?.warn('rate limiting: Redis not ready; limiting per instance in memory until it is'),
  );
  const kv = new RedisKeyValueStore(commands, { keyPrefix });
  const pubsub = new RedisPubSub({
    publisher: commands,
    subscriber,
    keyPrefix,
    logger: config.logger,
    maxQueuedMessages: config.maxQueuedMessages,
  });
  return {
    kv,
    pubsub,
    kind: 'redis',
    keyPrefix,
    rateLimitRedis,
    readinessChecks: readinessChecksOf(kv, pubsub),
    close: async () => {
      await pubsub.close();
      await closeConnections(commands, subscriber, rateLimitRedis);
    },
  };
}
