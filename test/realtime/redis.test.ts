import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer } from 'node:net';
import type { Redis } from 'ioredis';
import {
  createRealtime,
  RealtimeUnavailableError,
  RedisKeyValueStore,
  RedisPubSub,
  SubscriptionOverflowError,
  type TopicSubscription,
} from '../../src/realtime/index.js';
import {
  closeRedisConnection,
  connect,
  closeAllConnections,
  deleteKeysWithPrefix,
  SHARED_REDIS_URL,
  uniquePrefix,
  waitFor,
} from './helpers.js';
import { describeKeyValueStoreContract } from './kv-contract.js';
import { describePubSubContract } from './pubsub-contract.js';

describeKeyValueStoreContract('redis', async () => {
  const redis = await connect(SHARED_REDIS_URL, 'test-kv');
  const keyPrefix = uniquePrefix();
  return {
    store: new RedisKeyValueStore(redis, { keyPrefix }),
    // Real TTLs: waiting a little longer than asked is always enough for Redis to have expired a key.
    elapse: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    dispose: async () => {
      await deleteKeysWithPrefix(redis, keyPrefix);
      await closeRedisConnection(redis);
    },
  };
});

describePubSubContract('redis', async (options) => {
  const publisher = await connect(SHARED_REDIS_URL, 'test-pub');
  const subscriber = await connect(SHARED_REDIS_URL, 'test-sub');
  const pubsub = new RedisPubSub({ publisher, subscriber, keyPrefix: uniquePrefix(), ...options });
  return {
    pubsub,
    dispose: async () => {
      await pubsub.close();
      await Promise.all([closeRedisConnection(publisher), closeRedisConnection(subscriber)]);
    },
  };
});

interface Instance {
  pubsub: RedisPubSub<unknown>;
  close(): Promise<void>;
}

async function instance(keyPrefix: string, maxQueuedMessages?: number): Promise<Instance> {
  const publisher = await connect(SHARED_REDIS_URL, 'test-pub');
  const subscriber = await connect(SHARED_REDIS_URL, 'test-sub');
  const pubsub = new RedisPubSub({ publisher, subscriber, keyPrefix, maxQueuedMessages });
  return {
    pubsub,
    close: async () => {
      await pubsub.close();
      await Promise.all([closeRedisConnection(publisher), closeRedisConnection(subscriber)]);
    },
  };
}

async function first(sub: TopicSubscription<unknown>): Promise<unknown> {
  const result = await sub[Symbol.asyncIterator]().next();
  return result.value;
}

describe('RedisPubSub across gateway instances', () => {
  const keyPrefix = uniquePrefix();
  let a: Instance;
  let b: Instance;
  let admin: Redis;
  const numsub = async (topic: string): Promise<number> => {
    const reply = (await admin.call('PUBSUB', 'NUMSUB', keyPrefix + topic)) as [string, number];
    return Number(reply[1]);
  };

  beforeAll(async () => {
    [a, b, admin] = await Promise.all([
      instance(keyPrefix),
      instance(keyPrefix),
      connect(SHARED_REDIS_URL, 'admin'),
    ]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await closeAllConnections();
  });

  it('a message published on instance A reaches subscribers on A and B', async () => {
    const onA = await a.pubsub.subscribe('charge:chrg_test_1');
    const onB = await b.pubsub.subscribe('charge:chrg_test_1');
    await a.pubsub.publish('charge:chrg_test_1', { status: 'successful' });
    expect(await first(onB)).toEqual({ status: 'successful' });
    expect(await first(onA)).toEqual({ status: 'successful' });
    await Promise.all([onA.close(), onB.close()]);
  });

  it('uses one Redis subscription per topic and instance, however many local subscribers', async () => {
    const topic = 'charge:chrg_test_many';
    const subs = await Promise.all(Array.from({ length: 50 }, () => b.pubsub.subscribe(topic)));
    expect(b.pubsub.subscriberCount(topic)).toBe(50);
    expect(await numsub(topic)).toBe(1);
    await a.pubsub.publish(topic, 'hello all');
    for (const sub of subs) expect(await first(sub)).toBe('hello all');
    await Promise.all(subs.slice(0, 49).map((s) => s.close()));
    expect(await numsub(topic)).toBe(1);
    await subs[49]?.close();
    expect(await numsub(topic)).toBe(0);
    expect(b.pubsub.subscriberCount(topic)).toBe(0);
  });

  it('a second instance subscribing adds its own single subscription', async () => {
    const topic = 'charge:chrg_test_two';
    const onA = await Promise.all([a.pubsub.subscribe(topic), a.pubsub.subscribe(topic)]);
    const onB = await Promise.all([b.pubsub.subscribe(topic), b.pubsub.subscribe(topic)]);
    expect(await numsub(topic)).toBe(2);
    await Promise.all([...onA, ...onB].map((s) => s.close()));
    expect(await numsub(topic)).toBe(0);
  });

  it('subscribe and unsubscribe racing on one topic end subscribed exactly when someone listens', async () => {
    const topic = 'charge:chrg_test_race';
    for (let round = 0; round < 20; round++) {
      // The last local subscriber leaves while a new one arrives: UNSUBSCRIBE and SUBSCRIBE interleave.
      // The newcomer arrives at varying points of the leaver's UNSUBSCRIBE round trip.
      const leaving = await b.pubsub.subscribe(topic);
      const closing = leaving.close();
      for (let tick = 0; tick < round % 5; tick++) await new Promise((resolve) => setImmediate(resolve));
      const arriving = await b.pubsub.subscribe(topic);
      await closing;
      expect(await numsub(topic)).toBe(1);
      await a.pubsub.publish(topic, round);
      expect(await first(arriving)).toBe(round);
      await arriving.close();
      expect(await numsub(topic)).toBe(0);
    }
  });

  it('a subscription that overflows leaves the topic, unsubscribing when it was the last one', async () => {
    const topic = 'charge:chrg_test_overflow';
    const small = await instance(keyPrefix, 2);
    try {
      const idle = await small.pubsub.subscribe(topic);
      const witness = await a.pubsub.subscribe(topic);
      for (const n of [1, 2, 3]) await a.pubsub.publish(topic, n);
      for (const n of [1, 2, 3]) expect(await first(witness)).toBe(n);
      await waitFor(() => small.pubsub.subscriberCount(topic) === 0);
      await waitFor(async () => (await numsub(topic)) === 1); // only the witness's instance
      expect(await first(idle)).toBe(1);
      expect(await first(idle)).toBe(2);
      await expect(first(idle)).rejects.toThrow(SubscriptionOverflowError);
      await witness.close();
    } finally {
      await small.close();
    }
  });

  it('drops a message on the channel that is not JSON and keeps delivering', async () => {
    const topic = 'charge:chrg_test_garbage';
    const sub = await b.pubsub.subscribe(topic);
    await admin.publish(keyPrefix + topic, 'not json {');
    await a.pubsub.publish(topic, 'valid');
    expect(await first(sub)).toBe('valid');
    await sub.close();
  });
});

describe('createRealtime with a Redis URL', () => {
  it('gives Redis adapters under the key prefix', async () => {
    const keyPrefix = uniquePrefix();
    const realtime = await createRealtime({ redisUrl: SHARED_REDIS_URL, keyPrefix });
    const admin = await connect(SHARED_REDIS_URL, 'admin');
    try {
      expect(realtime.kind).toBe('redis');
      expect(await realtime.kv.setIfAbsent('webhook:evnt_1', 'seen', 60_000)).toBe(true);
      expect(await admin.get(`${keyPrefix}webhook:evnt_1`)).toBe('seen');
      const sub = await realtime.pubsub.subscribe('charge:chrg_1');
      await admin.publish(`${keyPrefix}charge:chrg_1`, JSON.stringify({ status: 'failed' }));
      expect(await first(sub)).toEqual({ status: 'failed' });
      await realtime.pubsub.ping();
      await realtime.kv.ping();
    } finally {
      await realtime.close();
      await deleteKeysWithPrefix(admin, keyPrefix);
      await closeRedisConnection(admin);
    }
  });

  it('rejects when Redis cannot be reached at start-up', async () => {
    const port = await freePort();
    await expect(
      createRealtime({ redisUrl: `redis://127.0.0.1:${port}`, startupTimeoutMs: 300 }),
    ).rejects.toThrow(RealtimeUnavailableError);
  });
});

/** A port nothing listens on (taken from the OS, then released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
