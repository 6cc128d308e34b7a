import { describe, expect, it } from '@jest/globals';
import { SharedTopics, type TopicListener } from '../../src/payments/status-feed/shared-topics.js';
import type { PubSub, TopicSubscription } from '../../src/realtime/ports.js';
import { MemoryPubSub } from '../../src/realtime/memory-pubsub.js';
import { flushAsync } from './support/helpers.js';

/** Records what a member hands over; `onMessage` may act (e.g. leave) on a message. */
function recorder(onMessage?: (message: unknown) => void) {
  const seen: unknown[] = [];
  const listener: TopicListener = {
    message: (message) => {
      seen.push(message);
      onMessage?.(message);
    },
    end: () => seen.push('end'),
    fail: (error) => seen.push(`fail: ${(error as Error).message}`),
  };
  return { seen, listener };
}

describe('SharedTopics', () => {
  it('hands over what arrived between join and listen first, in order, then each message as it comes', async () => {
    const pubsub = new MemoryPubSub();
    const topics = new SharedTopics(pubsub);
    const member = await topics.join('t');
    await pubsub.publish('t', { n: 1 });
    await pubsub.publish('t', { n: 2 });
    await flushAsync();
    const { seen, listener } = recorder();
    member.listen(listener);
    expect(seen).toEqual([{ n: 1 }, { n: 2 }]);
    await pubsub.publish('t', { n: 3 });
    await flushAsync();
    expect(seen).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    member.close();
  });

  it('gives every member the same message object, over one broker subscription', async () => {
    const pubsub = new MemoryPubSub();
    const topics = new SharedTopics(pubsub);
    const a = recorder();
    const b = recorder();
    const [ma, mb] = await Promise.all([topics.join('t'), topics.join('t')]);
    ma.listen(a.listener);
    mb.listen(b.listener);
    expect(pubsub.subscriberCount('t')).toBe(1);
    await pubsub.publish('t', { n: 1 });
    await flushAsync();
    expect(a.seen).toEqual([{ n: 1 }]);
    expect(a.seen[0]).toBe(b.seen[0]);
    ma.close();
    mb.close();
  });

  it('hands nothing more to a member that leaves on a message, queued or live; the last to leave closes the broker subscription', async () => {
    const pubsub = new MemoryPubSub();
    const topics = new SharedTopics(pubsub);
    const leaving = await topics.join('t');
    const staying = await topics.join('t');
    const stay = recorder();
    staying.listen(stay.listener);
    await pubsub.publish('t', { n: 1 });
    await pubsub.publish('t', { n: 2 });
    await flushAsync();
    const leave = recorder(() => leaving.close());
    leaving.listen(leave.listener);
    expect(leave.seen).toEqual([{ n: 1 }]);
    await pubsub.publish('t', { n: 3 });
    await flushAsync();
    expect(leave.seen).toEqual([{ n: 1 }]);
    expect(stay.seen).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(topics.size).toBe(1);
    staying.close();
    await flushAsync();
    expect(topics.size).toBe(0);
    expect(pubsub.subscriberCount('t')).toBe(0);
  });

  it('tells every member that the broker subscription ended, after what was queued for it', async () => {
    const pubsub = new MemoryPubSub();
    const topics = new SharedTopics(pubsub);
    const listening = await topics.join('t');
    const late = await topics.join('t');
    const now = recorder();
    listening.listen(now.listener);
    await pubsub.publish('t', { n: 1 });
    await pubsub.close();
    await flushAsync();
    expect(now.seen).toEqual([{ n: 1 }, 'end']);
    const later = recorder();
    late.listen(later.listener);
    expect(later.seen).toEqual([{ n: 1 }, 'end']);
    expect(topics.size).toBe(0);
  });

  it('tells every member that the broker subscription failed, with its error', async () => {
    let fail: (error: Error) => void = () => undefined;
    let send: () => void = () => undefined;
    const failing: TopicSubscription<unknown> = {
      async *[Symbol.asyncIterator]() {
        await new Promise<void>((resolve) => (send = resolve));
        yield { n: 1 };
        await new Promise<void>((_resolve, reject) => (fail = reject));
      },
      close: async () => undefined,
    };
    const pubsub = { subscribe: async () => failing } as unknown as PubSub<unknown>;
    const topics = new SharedTopics(pubsub);
    const early = await topics.join('t');
    const late = await topics.join('t');
    const a = recorder();
    early.listen(a.listener);
    send();
    await flushAsync();
    fail(new Error('broker gone'));
    await flushAsync();
    expect(a.seen).toEqual([{ n: 1 }, 'fail: broker gone']);
    const b = recorder();
    late.listen(b.listener);
    expect(b.seen).toEqual([{ n: 1 }, 'fail: broker gone']);
  });
});
