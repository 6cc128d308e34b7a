import type { PubSub, TopicSubscription } from '../../realtime/ports.js';

/**
 * One broker subscription per topic in this process, however many local subscribers it has: 10,000
 * phones watching 200 charges are 200 subscriptions, and each message is received and decoded once per
 * topic, then handed to every local subscriber as the same object (subscribers must not mutate it).
 * A member joining a topic that is already subscribed is subscribed at once: anything published after
 * `join` resolves reaches it, as the PubSub port promises. The broker subscription closes with its last
 * member; when it ends or fails, every member is told so.
 */
export class SharedTopics {
  private readonly topics = new Map<string, Promise<SharedTopic>>();

  constructor(private readonly pubsub: PubSub<unknown>) {}

  async join(topic: string): Promise<TopicMember> {
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

  join(): TopicMember {
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
    let failed = false;
    let failure: unknown;
    try {
      for await (const message of this.subscription) {
        for (const member of this.members) member.push(message);
      }
    } catch (error) {
      failed = true;
      failure = error;
    }
    this.closed = true;
    this.onClosed(this);
    for (const member of this.members) member.end(failed, failure);
    this.members.clear();
  }
}

/** What a member hands its messages to, synchronously and in order. Must not throw. */
export interface TopicListener {
  message(message: unknown): void;
  /** The broker subscription ended (shutdown): nothing more will come. */
  end(): void;
  /** The broker subscription failed. */
  fail(error: unknown): void;
}

/** One local subscriber of a shared topic. */
export interface TopicMember {
  /**
   * Hands what arrived since `join` to `listener`, then every later message as it is received, with no
   * queue or promise of its own per message (10,000 subscribers are 10,000 calls, not 10,000 async
   * iterations). Called once.
   */
  listen(listener: TopicListener): void;
  /** Leaves the topic at once: nothing more is handed over. The broker subscription closes with its last member. */
  close(): void;
}

/**
 * One local subscriber's view of a shared topic: the same message objects, handed over synchronously.
 * Until `listen`, what arrives is kept, so that nothing published after `join` is lost.
 */
class Member implements TopicMember {
  private queue: unknown[] | undefined = [];
  private listener: TopicListener | undefined;
  private done = false;
  private failed = false;
  private failure: unknown;
  private left = false;

  constructor(private readonly onClose: () => void) {}

  push(message: unknown): void {
    if (this.done) return;
    if (this.listener) this.listener.message(message);
    else this.queue?.push(message);
  }

  /** No more messages; `failed` with the broker's error. */
  end(failed = false, failure?: unknown): void {
    if (this.done) return;
    this.done = true;
    const listener = this.listener;
    if (listener === undefined) {
      this.failed = failed;
      this.failure = failure;
    } else if (failed) listener.fail(failure);
    else listener.end();
  }

  listen(listener: TopicListener): void {
    if (this.listener !== undefined || this.left) return;
    this.listener = listener;
    const queued = this.queue ?? [];
    this.queue = undefined;
    for (const message of queued) {
      // The listener may leave on any message (a terminal status).
      if (this.left) return;
      listener.message(message);
    }
    if (this.done && !this.left) {
      if (this.failed) listener.fail(this.failure);
      else listener.end();
    }
  }

  close(): void {
    this.queue = undefined;
    this.done = true;
    this.listener = undefined;
    this.failure = undefined;
    if (this.left) return;
    this.left = true;
    this.onClose();
  }
}
