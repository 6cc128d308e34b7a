import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import {
  createRealtime,
  RealtimeUnavailableError,
  RedisKeyValueStore,
  RedisPubSub,
  type Realtime,
} from '../../src/realtime/index.js';
import {
  closeAllConnections,
  closeRedisConnection,
  connect,
  isSettled,
  uniquePrefix,
  waitFor,
} from './helpers.js';
import { freePort, PrivateRedisServer } from './private-redis-server.js';

/**
 * Kills and restarts a private redis-server under live adapters. "Promptly" is asserted without clocks:
 * a command issued while Redis is down must reject before the connection has made a single reconnect
 * attempt (ioredis' defaults would hold it for 20), and one in flight when Redis dies before a second.
 */
describe('Redis adapters through a Redis restart', () => {
  const topic = 'charge:chrg_test_restart';
  const keyPrefix = uniquePrefix();
  let server: PrivateRedisServer;
  let commands: Redis;
  let subscriber: Redis;
  let kv: RedisKeyValueStore;
  let pubsubA: RedisPubSub<unknown>;
  let b: Realtime;
  let reconnects = 0;

  beforeAll(async () => {
    server = new PrivateRedisServer(await freePort());
    await server.start();
    // Instance A is built by hand to watch its connection; instance B through the factory.
    [commands, subscriber] = await Promise.all([
      connect(server.url, 'a-commands'),
      connect(server.url, 'a-sub'),
    ]);
    commands.on('reconnecting', () => (reconnects += 1));
    kv = new RedisKeyValueStore(commands, { keyPrefix });
    pubsubA = new RedisPubSub({ publisher: commands, subscriber, keyPrefix });
    b = await createRealtime({ redisUrl: server.url, keyPrefix, commandTimeoutMs: 60_000 });
  });

  afterAll(async () => {
    // Written to survive a beforeAll that failed half-way: the child must never outlive the run.
    await server?.kill();
    await Promise.all([pubsubA?.close(), b?.close()]);
    await closeAllConnections();
  });

  it('a command stuck on an unresponsive server rejects after the command timeout', async () => {
    const impatient = await connect(server.url, 'impatient', 200);
    const admin = await connect(server.url, 'admin');
    try {
      const store = new RedisKeyValueStore(impatient, { keyPrefix });
      // WRITE: writes wait, while the admin connection can still send CLIENT UNPAUSE.
      await admin.call('CLIENT', 'PAUSE', '30000', 'WRITE');
      await expect(store.set('anything', 'v', 60_000)).rejects.toThrow(RealtimeUnavailableError);
    } finally {
      await admin.call('CLIENT', 'UNPAUSE');
      await Promise.all([closeRedisConnection(impatient), closeRedisConnection(admin)]);
    }
  });

  it('fails fast while Redis is down and recovers by itself, subscriptions included', async () => {
    const onB = await b.pubsub.subscribe(topic);
    const messages = onB[Symbol.asyncIterator]();
    await pubsubA.publish(topic, 'before');
    expect(await messages.next()).toEqual({ value: 'before', done: false });
    expect(await kv.setIfAbsent('event:1', 'seen', 60_000)).toBe(true);

    // A command held by the server (paused) is in flight when the server dies.
    const admin = await connect(server.url, 'admin');
    await admin.call('CLIENT', 'PAUSE', '30000', 'WRITE');
    const inFlight = kv.setIfAbsent('event:in-flight', 'seen', 60_000);
    const reconnectsAtKill = reconnects;
    await server.kill();
    await expect(inFlight).rejects.toThrow(RealtimeUnavailableError);
    expect(reconnects - reconnectsAtKill).toBeLessThanOrEqual(1);
    await closeRedisConnection(admin);

    // Issued while down: rejected on the spot, nothing queued.
    await waitFor(() => commands.status !== 'ready');
    const reconnectsWhileDown = reconnects;
    await expect(pubsubA.publish(topic, 'lost')).rejects.toThrow(RealtimeUnavailableError);
    await expect(kv.setIfAbsent('event:2', 'seen', 60_000)).rejects.toThrow(RealtimeUnavailableError);
    await expect(kv.setIfGreater('version', 2, 60_000)).rejects.toThrow(RealtimeUnavailableError);
    await expect(kv.get('event:1')).rejects.toThrow(RealtimeUnavailableError);
    await expect(pubsubA.ping()).rejects.toThrow(RealtimeUnavailableError);
    await expect(pubsubA.subscribe('charge:other')).rejects.toThrow(RealtimeUnavailableError);
    expect(pubsubA.subscriberCount('charge:other')).toBe(0);
    expect(reconnects - reconnectsWhileDown).toBe(0);
    await expect(b.pubsub.ping()).rejects.toThrow(RealtimeUnavailableError);
    await expect(b.kv.ping()).rejects.toThrow(RealtimeUnavailableError);

    await server.start();
    await waitFor(() =>
      pubsubA.ping().then(
        () => true,
        () => false,
      ),
    );
    await waitFor(() =>
      b.pubsub.ping().then(
        () => true,
        () => false,
      ),
    );
    // The new server starts empty: a refused or failed SET NX was not replayed behind the caller's back.
    expect(await kv.get('event:in-flight')).toBeUndefined();
    expect(await kv.get('event:2')).toBeUndefined();
    expect(await kv.setIfAbsent('event:2', 'seen', 60_000)).toBe(true);
    expect(await kv.setIfGreater('version', 3, 60_000)).toBe(true);

    // B's existing subscription receives again once B has resubscribed by itself.
    const next = messages.next();
    await waitFor(async () => {
      await pubsubA.publish(topic, 'again');
      return isSettled(next);
    });
    expect(await next).toEqual({ value: 'again', done: false });
    await pubsubA.publish(topic, 'in order 1');
    await pubsubA.publish(topic, 'in order 2');
    const after: unknown[] = [];
    while (after.length < 2) {
      const { value } = await messages.next();
      if (value !== 'again') after.push(value);
    }
    expect(after).toEqual(['in order 1', 'in order 2']);

    // Still exactly one Redis subscription for the topic on the new server.
    const admin2 = await connect(server.url, 'admin');
    const numsub = async () =>
      Number(((await admin2.call('PUBSUB', 'NUMSUB', keyPrefix + topic)) as unknown[])[1]);
    expect(await numsub()).toBe(1);
    await onB.close();
    expect(await numsub()).toBe(0);
    await closeRedisConnection(admin2);
  });
});
