import type { PubSub, TopicSubscription } from '../../realtime/ports.js';

/**
 * One broker subscription per topic in this process, however many local subscribers it has: 10,000
 * phones watching 200 charges are 200 subscriptions, and each message is received and decoded once per
 * topic, then handed to every local subscriber as the same object (subscribers must not mutate it).
 * A member joining a topic that is already subscribed is subscribed at once: anything published after
 * `join` resolves reaches it, as the PubSub port promises. The broker subscription closes with its last
 * member; when it ends or fails, every member's iteration ends (or throws) the same way.
 */
export class SharedTopics {
  private readonly topics = new Map<string, Promise<SharedTopic>>();

  constructor(private readonly pubsub: PubSub<unknown>) {}

  async join(topic: string): Promise<TopicSubscription<unknown>> {
    let shared = this.topics.get(topic);
    if (shared === undefined) {
      shared = this.pubsub
        .subscribe(topic)
        .then((subscription) => new SharedTopic(subscription, (left) => this.forget(topic, left)));
      this.topics.set(topic, shared);
      shared.catch(() => this.topics.delete(topic));
    }
    return (await shared).join();
  }

  /** Topics with a broker subscription (or one being made). */
  get size(): number {
    return this.topics.size;
  }

  private forget(topic: string, left: SharedTopic): void {
    void this.topics.get(topic)?.then((current) => {
      if (current === left) this.topics.delete(topic);
    });
  }
}

class SharedTopic {
  private readonly members = new Set<Member>();
  private closed = false;

  constructor(
    private readonly subscription: TopicSubscription<unknown>,
    private readonly onClosed: (topic: SharedTopic) => void,
  ) {
    void this.pump();
  }

  join(): TopicSubscription<unknown> {
    const member = new Member(() => this.leave(member));
    if (this.closed) member.end();
    else this.members.add(member);
    return member;
  }

  private leave(member: Member): void {
    this.members.delete(member);
    if (this.members.size === 0) void this.close();
  }

  private async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.onClosed(this);
    await this.subscription.close();
  }

  private async pump(): Promise<void> {
    let failure: unknown;
    try {
      for await (const message of this.subscription) {
        for (const member of this.members) member.push(message);
      }
    } catch (error) {
      failure = error;
    }
    this.closed = true;
    this.onClosed(this);
    for (const member of this.members) member.end(failure);
    this.members.clear();
  }
}

/** One local subscriber's view of a shared topic: its own queue, the same message objects. */
class Member implements TopicSubscription<unknown>, AsyncIterator<unknown> {
  private readonly queue: unknown[] = [];
  private readonly waiting: Array<{
    resolve: (r: IteratorResult<unknown>) => void;
    reject: (e: unknown) => void;
  }> = [];
  private done = false;
  private left = false;
  private failure: unknown;

  constructor(private readonly onClose: () => void) {}

  push(message: unknown): void {
    if (this.done) return;
    const waiter = this.waiting.shift();
    if (waiter) waiter.resolve({ value: message, done: false });
    else this.queue.push(message);
  }

  /** No more messages; with a failure, the iteration throws it once the queue is drained. */
  end(failure?: unknown): void {
    if (this.done) return;
    this.done = true;
    this.failure = failure;
    for (const waiter of this.waiting.splice(0)) {
      if (failure === undefined) waiter.resolve({ value: undefined, done: true });
      else waiter.reject(failure);
    }
  }

  next(): Promise<IteratorResult<unknown>> {
    if (this.queue.length > 0) return Promise.resolve({ value: this.queue.shift(), done: false });
    if (this.done) {
      return this.failure === undefined
        ? Promise.resolve({ value: undefined, done: true })
        : Promise.reject(this.failure);
    }
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  async return(): Promise<IteratorResult<unknown>> {
    await this.close();
    return { value: undefined, done: true };
  }

  async close(): Promise<void> {
    this.queue.length = 0;
    this.end();
    this.failure = undefined;
    if (this.left) return;
    this.left = true;
    this.onClose();
  }

  [Symbol.asyncIterator](): AsyncIterator<unknown> {
    return this;
  }
}
