import type { Redis } from 'ioredis';
import { RealtimeUnavailableError } from './errors.js';
import type { KeyValueStore } from './ports.js';
import { checkFiniteNumber, checkTtl } from './validation.js';

export interface RedisKeyValueStoreOptions {
  /** Prepended to every key, e.g. `tmgw:`; lets deployments and test runs share one Redis. */
  keyPrefix?: string;
}

/**
 * Stores `n` unless the key holds a number >= n; one script, so the read and the write are atomic.
 * A non-numeric current value never blocks (same as the memory store).
 */
const SET_IF_GREATER = `
local current = tonumber(redis.call('GET', KEYS[1]))
if current ~= nil and current >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;

const SCRIPT_COMMAND = 'tmgwSetIfGreater';

interface WithScript {
  [SCRIPT_COMMAND](key: string, n: string, ttlMs: number): Promise<number>;
}

/**
 * {@link KeyValueStore} on Redis, shared by all gateway instances. Each method is one atomic Redis
 * command (SET NX PX, a Lua script for setIfGreater). The connection is the caller's (see
 * `createRedisConnection`): with it, every method rejects with {@link RealtimeUnavailableError} at
 * once while Redis is unreachable, never waits for a reconnect. Invalid TTLs reject with RangeError.
 */
export class RedisKeyValueStore implements KeyValueStore {
  private readonly prefix: string;

  constructor(
    private readonly redis: Redis,
    options: RedisKeyValueStoreOptions = {},
  ) {
    this.prefix = options.keyPrefix ?? '';
    // EVALSHA, falling back to EVAL after a restart emptied the script cache.
    if (!(SCRIPT_COMMAND in redis))
      redis.defineCommand(SCRIPT_COMMAND, { numberOfKeys: 1, lua: SET_IF_GREATER });
  }

  async get(key: string): Promise<string | undefined> {
    const value = await this.call('get', () => this.redis.get(this.prefix + key));
    return value ?? undefined;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    const ttl = checkTtl(ttlMs);
    await this.call('set', () => this.redis.set(this.prefix + key, value, 'PX', ttl));
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    const ttl = checkTtl(ttlMs);
    const reply = await this.call('setIfAbsent', () =>
      this.redis.set(this.prefix + key, value, 'PX', ttl, 'NX'),
    );
    return reply === 'OK';
  }

  async setIfGreater(key: string, n: number, ttlMs: number): Promise<boolean> {
    const ttl = checkTtl(ttlMs);
    checkFiniteNumber(n);
    const redis = this.redis as unknown as WithScript;
    const reply = await this.call('setIfGreater', () =>
      redis[SCRIPT_COMMAND](this.prefix + key, String(n), ttl),
    );
    return reply === 1;
  }

  async delete(key: string): Promise<void> {
    await this.call('delete', () => this.redis.del(this.prefix + key));
  }

  async ping(): Promise<void> {
    await this.call('ping', () => this.redis.ping());
  }

  private async call<R>(operation: string, command: () => Promise<R>): Promise<R> {
    try {
      return await command();
    } catch (error) {
      throw new RealtimeUnavailableError(operation, { cause: error });
    }
  }
}
