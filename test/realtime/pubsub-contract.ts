import { afterEach, describe, expect, it } from '@jest/globals';
import { SubscriptionOverflowError, type PubSub, type TopicSubscription } from '../../src/realtime/index.js';

export interface PubSubHarness {
  pubsub: PubSub<unknown>;
  dispose(): Promise<void>;
}

export type PubSubFactory = (options?: { maxQueuedMessages?: number }) => Promise<PubSubHarness>;

/** Reads the next `count` messages of a subscription. */
async function take(subscription: TopicSubscription<unknown>, count: number): Promise<unknown[]> {
  const iterator = subscription[Symbol.asyncIterator]();
  const messages: unknown[] = [];
  while (messages.length < count) {
    const result = await iterator.next();
    if (result.done) throw new Error(`subscription ended after ${messages.length} messages`);
    messages.push(result.value);
  }
  return messages;
}

function next(subscription: TopicSubscription<unknown>): Promise<IteratorResult<unknown>> {
  return subscription[Symbol.asyncIterator]().next();
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** The behaviour every PubSub adapter must have; run once per adapter. */
export function describePubSubContract(name: string, create: PubSubFactory): void {
  describe(`PubSub contract: ${name}`, () => {
    const harnesses: PubSubHarness[] = [];
    const open = async (options?: { maxQueuedMessages?: number }) => {
      const harness = await create(options);
      harnesses.push(harness);
      return harness.pubsub;
    };
    afterEach(async () => {
      await Promise.all(harnesses.splice(0).map((h) => h.dispose()));
    });

    it('delivers messages in publish order', async () => {
      const pubsub = await open();
      const sub = await pubsub.subscribe('order');
      await Promise.all(range(100).map((n) => pubsub.publish('order', { n })));
      expect(await take(sub, 100)).toEqual(range(100).map((n) => ({ n })));
    });

    it('fans out every message to every subscriber of the topic', async () => {
      const pubsub = await open();
      const subs = await Promise.all(range(25).map(() => pubsub.subscribe('fan')));
      for (const n of range(10)) await pubsub.publish('fan', n);
      for (const sub of subs) expect(await take(sub, 10)).toEqual(range(10));
    });

    it('keeps topics apart', async () => {
      const pubsub = await open();
      const a = await pubsub.subscribe('topic-a');
      const b = await pubsub.subscribe('topic-b');
      await pubsub.publish('topic-a', 'for a');
      await pubsub.publish('topic-b', 'for b');
      expect(await take(a, 1)).toEqual(['for a']);
      expect(await take(b, 1)).toEqual(['for b']);
    });

    it('replays nothing published before subscribe() and delivers what follows its resolution', async () => {
      const pubsub = await open();
      await pubsub.publish('late', 'before');
      const sub = await pubsub.subscribe('late');
      await pubsub.publish('late', 'after');
      expect(await take(sub, 1)).toEqual(['after']);
    });

    it('a later subscriber to an already subscribed topic gets only what is published after it subscribed', async () => {
      const pubsub = await open();
      const first = await pubsub.subscribe('joined');
      // Published (and acknowledged) before the second subscribe() call, possibly still on the wire.
      await Promise.all(range(20).map(() => pubsub.publish('joined', 'only first')));
      const second = await pubsub.subscribe('joined');
      await pubsub.publish('joined', 'both');
      expect(await take(first, 21)).toEqual([...range(20).map(() => 'only first'), 'both']);
      expect(await take(second, 1)).toEqual(['both']);
    });

    it('carries messages as JSON: dates become strings, each subscriber gets its own copy', async () => {
      const pubsub = await open();
      const a = await pubsub.subscribe('json');
      const b = await pubsub.subscribe('json');
      const message = { at: new Date(0), amount: 35_000, nested: { tags: ['x'] } };
      await pubsub.publish('json', message);
      const [fromA] = await take(a, 1);
      const [fromB] = await take(b, 1);
      expect(fromA).toEqual({ at: '1970-01-01T00:00:00.000Z', amount: 35_000, nested: { tags: ['x'] } });
      expect(fromB).toEqual(fromA);
      expect(fromB).not.toBe(fromA);
      expect(fromA).not.toBe(message);
    });

    it('rejects a message JSON cannot carry', async () => {
      const pubsub = await open();
      await expect(pubsub.publish('bad', { amount: 1n })).rejects.toThrow(TypeError);
      await expect(pubsub.publish('bad', undefined)).rejects.toThrow(TypeError);
    });

    it('close() ends the iteration: a pending next() resolves done and nothing more arrives', async () => {
      const pubsub = await open();
      const sub = await pubsub.subscribe('closing');
      const witness = await pubsub.subscribe('closing');
      const pending = next(sub);
      await sub.close();
      expect(await pending).toEqual({ value: undefined, done: true });
      await pubsub.publish('closing', 'after close');
      expect(await take(witness, 1)).toEqual(['after close']);
      expect(await next(sub)).toEqual({ value: undefined, done: true });
      await sub.close(); // idempotent
    });

    it('leaving a for-await loop closes the subscription', async () => {
      const pubsub = await open();
      const sub = await pubsub.subscribe('loop');
      const witness = await pubsub.subscribe('loop');
      await pubsub.publish('loop', 1);
      await pubsub.publish('loop', 2);
      const seen: unknown[] = [];
      for await (const message of sub) {
        seen.push(message);
        break;
      }
      expect(seen).toEqual([1]);
      expect(await next(sub)).toEqual({ value: undefined, done: true });
      await pubsub.publish('loop', 3);
      expect(await take(witness, 3)).toEqual([1, 2, 3]);
    });

    it('one subscriber leaving does not affect the others', async () => {
      const pubsub = await open();
      const leaving = await pubsub.subscribe('stay');
      const staying = await pubsub.subscribe('stay');
      await leaving.close();
      await pubsub.publish('stay', 'still here');
      expect(await take(staying, 1)).toEqual(['still here']);
    });

    it('a topic can be subscribed again after its last subscriber left', async () => {
      const pubsub = await open();
      await (await pubsub.subscribe('again')).close();
      const sub = await pubsub.subscribe('again');
      await pubsub.publish('again', 'back');
      expect(await take(sub, 1)).toEqual(['back']);
    });

    it('subscribes and closes of one topic racing each other leave exactly the open ones receiving', async () => {
      const pubsub = await open();
      const churn = range(30).map(async (i) => {
        const sub = await pubsub.subscribe('churn');
        if (i % 2 === 0) {
          await sub.close();
          return undefined;
        }
        return sub;
      });
      // Closing and subscribing again while the first wave is still in flight.
      const again = range(10).map(async () => {
        const sub = await pubsub.subscribe('churn');
        await sub.close();
        return pubsub.subscribe('churn');
      });
      const live = (await Promise.all([...churn, ...again])).filter((s) => s !== undefined);
      expect(live).toHaveLength(25);
      await pubsub.publish('churn', 'to all');
      for (const sub of live) expect(await take(sub, 1)).toEqual(['to all']);
    });

    it('a subscriber that does not read holds up neither publish nor other subscribers', async () => {
      const pubsub = await open();
      const idle = await pubsub.subscribe('slow');
      const reader = await pubsub.subscribe('slow');
      for (const n of range(50)) await pubsub.publish('slow', n);
      expect(await take(reader, 50)).toEqual(range(50));
      expect(await take(idle, 50)).toEqual(range(50));
    });

    it('a subscriber more than the bound behind gets the queued messages, then SubscriptionOverflowError', async () => {
      const pubsub = await open({ maxQueuedMessages: 5 });
      const idle = await pubsub.subscribe('overflow');
      const sentinel = await pubsub.subscribe('overflow-sentinel');
      for (const n of range(7)) await pubsub.publish('overflow', n);
      // Messages of one publisher arrive in order: once the sentinel is in, so are the 7 before it.
      await pubsub.publish('overflow-sentinel', 'done');
      expect(await take(sentinel, 1)).toEqual(['done']);
      expect(await take(idle, 5)).toEqual(range(5));
      await expect(next(idle)).rejects.toThrow(SubscriptionOverflowError);
      expect(await next(idle)).toEqual({ value: undefined, done: true });
      const fresh = await pubsub.subscribe('overflow');
      await pubsub.publish('overflow', 'topic still works');
      expect(await take(fresh, 1)).toEqual(['topic still works']);
    });

    it('close() of the pubsub ends every subscription and refuses later calls', async () => {
      const pubsub = await open();
      const a = await pubsub.subscribe('shutdown');
      const b = await pubsub.subscribe('shutdown-2');
      const pending = next(a);
      await pubsub.close();
      expect(await pending).toEqual({ value: undefined, done: true });
      expect(await next(b)).toEqual({ value: undefined, done: true });
      await expect(pubsub.publish('shutdown', 'x')).rejects.toThrow();
      await expect(pubsub.subscribe('shutdown')).rejects.toThrow();
    });

    it('ping() resolves', async () => {
      const pubsub = await open();
      await expect(pubsub.ping()).resolves.toBeUndefined();
    });
  });
}
