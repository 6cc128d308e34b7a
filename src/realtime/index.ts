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

export interface Realtime {
  kv: KeyValueStore;
  pubsub: PubSub;
  kind: 'memory' | 'redis';
  /** Ends all subscriptions and closes the Redis connections. */
  close(): Promise<void>;
}

export const DEFAULT_KEY_PREFIX = 'tmgw:';

/**
 * Builds the shared-state adapters: memory without `redisUrl`, Redis otherwise. With Redis it opens two
 * connections (commands + publish, and subscriptions) and resolves once both are ready; it rejects with
 * RealtimeUnavailableError when Redis is not reachable within `startupTimeoutMs`.
 */
export async function createRealtime(config: RealtimeConfig = {}): Promise<Realtime> {
  if (!config.redisUrl) {
    const kv = new MemoryKeyValueStore();
    const pubsub = new MemoryPubSub({ maxQueuedMessages: config.maxQueuedMessages });
    return {
      kv,
      pubsub,
      kind: 'memory',
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
    close: async () => {
      await pubsub.close();
      await closeConnections(commands, subscriber);
    },
  };
}
