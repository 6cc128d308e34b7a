import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { RealtimeUnavailableError } from './errors.js';

export interface RedisConnectionOptions {
  /** Shown in `CLIENT LIST` and in log lines, e.g. `tmgw-publisher`. */
  name: string;
  /**
   * A command still unanswered after this long rejects (server up but stuck).
   * @default 5000 ms
   */
  commandTimeoutMs?: number;
  /**
   * A connection attempt that takes longer is abandoned and retried.
   * @default 5000 ms
   */
  connectTimeoutMs?: number;
  /**
   * Cap of the reconnect back-off (50 ms, 100 ms, ... up to this).
   * @default 1000 ms
   */
  maxReconnectDelayMs?: number;
  logger?: Logger;
}

/**
 * Opens an ioredis connection that fails fast instead of queueing while Redis is down:
 * - `enableOfflineQueue: false`: a command issued while disconnected rejects at once;
 * - `maxRetriesPerRequest: 0`: commands in flight when the connection drops reject at once (ioredis
 *   would otherwise keep them for 20 reconnect attempts and then resend them);
 * - `autoResendUnfulfilledCommands: false`: a SET NX whose caller already saw an error is never
 *   replayed behind its back after the reconnect;
 * - `commandTimeout`: a connected but unresponsive server cannot hang a caller;
 * - `autoResubscribe: false`: {@link RedisPubSub} resubscribes itself, so that it knows when a topic is
 *   subscribed again and never resubscribes a topic nobody listens to any more;
 * - reconnects forever with a capped back-off.
 * The URL is never logged (it may carry a password).
 */
export function createRedisConnection(url: string, options: RedisConnectionOptions): Redis {
  const maxDelay = options.maxReconnectDelayMs ?? 1000;
  const redis = new Redis(url, {
    connectionName: options.name,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    autoResubscribe: false,
    commandTimeout: options.commandTimeoutMs ?? 5000,
    connectTimeout: options.connectTimeoutMs ?? 5000,
    retryStrategy: (attempt) => Math.min(attempt * 50, maxDelay),
    // disconnect() while reconnecting arms this timer on the dead socket (default 2 s keeps a
    // shutting-down process alive that long).
    disconnectTimeout: 200,
  });
  watchHealth(redis, options.name, options.logger);
  return redis;
}

/** Resolves when the connection is ready; rejects after `timeoutMs` or when it has ended. */
export function waitUntilReady(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    let lastError: Error | undefined;
    const onError = (error: Error) => (lastError = error);
    const cleanup = () => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('error', onError);
      redis.off('end', onEnd);
    };
    const onReady = () => {
      cleanup();
      resolve();
    };
    const onEnd = () => {
      cleanup();
      reject(new RealtimeUnavailableError('connect', { cause: lastError }));
    };
    const timer = setTimeout(onEnd, timeoutMs);
    redis.on('ready', onReady);
    redis.on('error', onError);
    redis.on('end', onEnd);
  });
}

/** Closes politely when possible, otherwise drops the socket; either way stops reconnecting. */
export async function closeRedisConnection(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  if (redis.status === 'ready') {
    try {
      await redis.quit();
      return;
    } catch {
      // fall through: the socket is gone or stuck
    }
  }
  redis.disconnect(false);
}

/** Logs one line when the connection is lost and one when it is back, not one per retry. */
function watchHealth(redis: Redis, name: string, logger: Logger | undefined): void {
  let down = false;
  // Without an 'error' listener ioredis prints every failed retry to the console.
  redis.on('error', (error: Error) => {
    if (down) return;
    down = true;
    logger?.warn({ connection: name, err: error.message }, 'redis unreachable; retrying');
  });
  // 'reconnecting' (unlike 'close') is not emitted after quit().
  redis.on('reconnecting', () => {
    if (down) return;
    down = true;
    logger?.warn({ connection: name }, 'redis connection lost; reconnecting');
  });
  redis.on('ready', () => {
    if (!down) return;
    down = false;
    logger?.info({ connection: name }, 'redis connection ready again');
  });
}
