import { describe, expect, it } from '@jest/globals';
import { createRealtime, MemoryKeyValueStore, MemoryPubSub } from '../../src/realtime/index.js';
import { describeKeyValueStoreContract } from './kv-contract.js';
import { describePubSubContract } from './pubsub-contract.js';

describeKeyValueStoreContract('memory', async () => {
  let now = 1_000_000;
  const store = new MemoryKeyValueStore(() => now);
  return {
    store,
    elapse: async (ms) => {
      now += ms;
    },
    dispose: async () => store.close(),
  };
});

describePubSubContract('memory', async (options) => {
  const pubsub = new MemoryPubSub(options);
  return { pubsub, dispose: () => pubsub.close() };
});

describe('MemoryPubSub', () => {
  it('forgets a topic once its last subscriber has left', async () => {
    const pubsub = new MemoryPubSub();
    const subs = await Promise.all([pubsub.subscribe('t'), pubsub.subscribe('t')]);
    expect(pubsub.subscriberCount('t')).toBe(2);
    await subs[0]?.close();
    expect(pubsub.subscriberCount('t')).toBe(1);
    await pubsub.publish('t', 'm');
    for await (const _ of subs[1] ?? []) break;
    expect(pubsub.subscriberCount('t')).toBe(0);
    await pubsub.close();
  });
});

describe('createRealtime without a Redis URL', () => {
  it('gives memory adapters', async () => {
    const realtime = await createRealtime({});
    expect(realtime.kind).toBe('memory');
    const sub = await realtime.pubsub.subscribe('t');
    await realtime.pubsub.publish('t', 'm');
    expect(await sub[Symbol.asyncIterator]().next()).toEqual({ value: 'm', done: false });
    expect(await realtime.kv.setIfAbsent('k', 'v', 1000)).toBe(true);
    await realtime.close();
  });
});
