import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { closeRedisConnection, createRedisConnection, waitUntilReady } from '../../src/realtime/index.js';

/** The Redis every test run shares; each run isolates itself with its own key prefix. */
export const SHARED_REDIS_URL = 'redis://127.0.0.1:6379';

export function uniquePrefix(): string {
  return `tmgw-test:${randomUUID()}:`;
}

const opened = new Set<Redis>();

/**
 * A ready connection with the adapters' fail-fast options; `commandTimeoutMs` long unless set.
 * Remembered so that {@link closeAllConnections} can close it even when a test failed half-way.
 */
export async function connect(url: string, name: string, commandTimeoutMs = 60_000): Promise<Redis> {
  const redis = createRedisConnection(url, { name, commandTimeoutMs, maxReconnectDelayMs: 100 });
  opened.add(redis);
  await waitUntilReady(redis, 10_000);
  return redis;
}

export async function closeAllConnections(): Promise<void> {
  await Promise.all([...opened].map(closeRedisConnection));
  opened.clear();
}

export async function deleteKeysWithPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

export { closeRedisConnection };

/** Polls `check` until it returns true; throws after `limitMs` (a bound against hangs, not a timing claim). */
export async function waitFor(check: () => Promise<boolean> | boolean, limitMs = 10_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Resolves with whether the promise settled on its own (true) or was still pending (false). */
export function isSettled(promise: Promise<unknown>): Promise<boolean> {
  const marker = Symbol('pending');
  return Promise.race([
    promise.then(
      () => true,
      () => true,
    ),
    new Promise((r) => setImmediate(() => r(marker))),
  ]).then((v) => v === true);
}
