import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { Charge } from '../../src/payments/model.js';
import {
  ChargeNotFoundError,
  ChargeStatusFeed,
  chargeStatusEventOf,
  chargeStatusTopic,
  ReconciliationPoller,
  toChargeStatusMessage,
  type ChargeStatusEvent,
} from '../../src/payments/status-feed/index.js';
import { LISTEN } from '../../src/realtime/ports.js';
import { waitFor } from '../realtime/helpers.js';
import { flushAsync, ManualScheduler, memoryLogger } from './support/helpers.js';
import { chargeLoader, startHarness, type Harness } from './support/harness.js';

const INTERVAL_MS = 15_000;

describe('ChargeStatusFeed against the simulator', () => {
  let h: Harness;
  let scheduler: ManualScheduler;
  let poller: ReconciliationPoller;
  let feed: ChargeStatusFeed;
  let pollerLoads: string[];
  let logs: ReturnType<typeof memoryLogger>;

  async function setUp(options: { webhooks: boolean }) {
    h = await startHarness({ webhooks: options.webhooks });
    logs = memoryLogger();
    scheduler = new ManualScheduler();
    pollerLoads = [];
    const load = chargeLoader(h.omise);
    poller = new ReconciliationPoller({
      loadCharge: (id) => {
        pollerLoads.push(id);
        return load(id);
      },
      publisher: h.publisher,
      intervalMs: INTERVAL_MS,
      scheduler,
      logger: logs.logger,
    });
    feed = new ChargeStatusFeed({ pubsub: h.memory, loadCharge: load, poller, logger: logs.logger });
  }

  afterEach(async () => {
    await feed?.close();
    poller?.close();
    await h?.close();
  });

  const statusOf = (r: IteratorResult<ChargeStatusEvent>) => (r.done ? 'done' : r.value.status);

  describe('with webhooks', () => {
    beforeEach(() => setUp({ webhooks: true }));

    it('sends the current state first, then the change, then completes and lets go', async () => {
      const chargeId = await h.createCharge();
      const events = await feed.subscribe(chargeId);
      const first = await events.next();
      expect(first.value).toMatchObject({ chargeId, status: 'PENDING', terminal: false });
      expect(poller.watchedCount).toBe(1);

      await h.admin.markChargeAsPaid(chargeId);
      const second = await events.next();
      expect(second.value).toMatchObject({ chargeId, status: 'SUCCESSFUL', terminal: true });
      expect((second.value as ChargeStatusEvent).charge.paid).toBe(true);
      expect(await events.next()).toEqual({ value: undefined, done: true });

      expect(h.memory.subscriberCount(chargeStatusTopic(chargeId))).toBe(0);
      expect(poller.watchedCount).toBe(0);
      expect(feed.openCount).toBe(0);
      // The outcome came from the webhook, not from a poll.
      expect(pollerLoads).toEqual([]);
    });

    it('hands the same stream to a listener synchronously (LISTEN): the current state, stale states dropped, the outcome, the end', async () => {
      const chargeId = await h.createCharge();
      const pending = (await chargeLoader(h.omise)(chargeId)) as Charge;
      const events = await feed.subscribe(chargeId);
      const got: string[] = [];
      events[LISTEN]({
        item: (event) => got.push(event.status),
        end: () => got.push('end'),
        fail: () => got.push('fail'),
      });
      // The current state was queued before listening: handed over at once.
      expect(got).toEqual(['PENDING']);
      const topic = chargeStatusTopic(chargeId);
      await h.memory.publish(topic, toChargeStatusMessage(chargeStatusEventOf(pending, new Date())));
      await flushAsync();
      expect(got).toEqual(['PENDING']);
      await h.admin.markChargeAsPaid(chargeId);
      await waitFor(() => got.length === 3);
      expect(got).toEqual(['PENDING', 'SUCCESSFUL', 'end']);
      expect(h.memory.subscriberCount(topic)).toBe(0);
      expect(poller.watchedCount).toBe(0);
      expect(feed.openCount).toBe(0);
    });

    it('a listener that returns() hears nothing more, and the topic is let go', async () => {
      const chargeId = await h.createCharge();
      const events = await feed.subscribe(chargeId);
      const got: string[] = [];
      events[LISTEN]({
        item: (event) => got.push(event.status),
        end: () => got.push('end'),
        fail: () => got.push('fail'),
      });
      await events.return();
      await h.admin.markChargeAsPaid(chargeId);
      await h.simulator.waitForIdle(10_000);
      await flushAsync();
      expect(got).toEqual(['PENDING']);
      expect(h.memory.subscriberCount(chargeStatusTopic(chargeId))).toBe(0);
      expect(feed.openCount).toBe(0);
    });

    it('gives a late subscriber the outcome first thing and completes', async () => {
      const chargeId = await h.createCharge();
      await h.admin.markChargeAsPaid(chargeId);
      await h.simulator.waitForIdle(10_000);

      const events = await feed.subscribe(chargeId);
      expect(poller.watchedCount).toBe(0);
      const results = [];
      for await (const event of events) results.push(event);
      expect(results.map((e) => [e.status, e.terminal])).toEqual([['SUCCESSFUL', true]]);
      expect(results[0]!.occurredAt).toEqual(results[0]!.charge.paidAt);
      expect(h.memory.subscriberCount(chargeStatusTopic(chargeId))).toBe(0);
    });

    it('drops stale and duplicate states on the topic', async () => {
      const chargeId = await h.createCharge();
      const pending = (await chargeLoader(h.omise)(chargeId)) as Charge;
      const events = await feed.subscribe(chargeId);
      expect(statusOf(await events.next())).toBe('PENDING');

      const topic = chargeStatusTopic(chargeId);
      const publish = (charge: Charge) =>
        h.memory.publish(topic, toChargeStatusMessage(chargeStatusEventOf(charge, new Date())));
      await publish(pending); // a duplicate of what the subscriber has
      await h.memory.publish(topic, { not: 'an event' }); // unreadable: logged and dropped
      await publish({ ...pending, status: 'FAILED' });
      await publish({ ...pending, status: 'PENDING' }); // stale: after the terminal status
      expect(statusOf(await events.next())).toBe('FAILED');
      expect(statusOf(await events.next())).toBe('done');
      expect(logs.text()).toContain('unreadable charge status message');
    });

    it('misses nothing that changes while the current state is being read (topic first, then the read)', async () => {
      const chargeId = await h.createCharge();
      const load = chargeLoader(h.omise);
      const racing = new ChargeStatusFeed({
        pubsub: h.memory,
        logger: logs.logger,
        // The customer pays while the subscriber's read of the current state is under way.
        loadCharge: async (id) => {
          const stale = await load(id);
          await h.admin.markChargeAsPaid(id);
          await h.simulator.waitForIdle(10_000);
          return stale;
        },
      });
      const events = await racing.subscribe(chargeId);
      expect(statusOf(await events.next())).toBe('PENDING');
      expect(statusOf(await events.next())).toBe('SUCCESSFUL');
      expect(statusOf(await events.next())).toBe('done');
    });

    it('makes one Omise call for many subscribers of one charge arriving together, and caches nothing', async () => {
      const chargeId = await h.createCharge();
      const before = h.omiseCalls().length;
      const subscribers = await Promise.all(Array.from({ length: 25 }, () => feed.subscribe(chargeId)));
      for (const events of subscribers) expect(statusOf(await events.next())).toBe('PENDING');
      expect(h.omiseCalls().slice(before)).toEqual([`GET /charges/${chargeId}`]);
      // ...and one topic subscription: each message is received and decoded once for all of them.
      expect(h.memory.subscriberCount(chargeStatusTopic(chargeId))).toBe(1);

      // A subscriber coming later reads again.
      const late = await feed.subscribe(chargeId);
      expect(statusOf(await late.next())).toBe('PENDING');
      expect(h.omiseCalls().slice(before)).toHaveLength(2);
    });

    it('hands subscribers that shared a read the same first event (shared execution downstream), unless its time is "when observed"', async () => {
      const chargeId = await h.createCharge();
      const pending = (await chargeLoader(h.omise)(chargeId)) as Charge;
      const sameRead = new ChargeStatusFeed({
        pubsub: h.memory,
        logger: logs.logger,
        loadCharge: async () => pending,
      });
      const [a, b] = await Promise.all([sameRead.subscribe(chargeId), sameRead.subscribe(chargeId)]);
      const [first, second] = [(await a.next()).value, (await b.next()).value];
      expect(first).toBe(second);
      expect(first.occurredAt).toEqual(pending.createdAt);

      // FAILED carries no time of its own: each subscriber's event says when it observed it.
      const failed: Charge = { ...pending, status: 'FAILED' };
      const observed = new ChargeStatusFeed({
        pubsub: h.memory,
        logger: logs.logger,
        loadCharge: async () => failed,
      });
      const [c, d] = await Promise.all([observed.subscribe(chargeId), observed.subscribe(chargeId)]);
      const [third, fourth] = [(await c.next()).value, (await d.next()).value];
      expect(third).not.toBe(fourth);
      expect([third.status, fourth.status]).toEqual(['FAILED', 'FAILED']);
      await Promise.all([a, b, c, d].map((events) => events.return?.()));
      await Promise.all([sameRead.close(), observed.close()]);
    });

    it('never gives a subscriber a shared read that started before its subscription (it could predate a change it missed)', async () => {
      const chargeId = await h.createCharge();
      const topic = chargeStatusTopic(chargeId);
      const load = chargeLoader(h.omise);
      const seen: string[] = [];
      let firstFetched!: () => void;
      const fetched = new Promise<void>((resolve) => (firstFetched = resolve));
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const gated = new ChargeStatusFeed({
        pubsub: h.memory,
        logger: logs.logger,
        // The first read fetches the state, then its answer is held back until the test releases it.
        loadCharge: async (id) => {
          const charge = await load(id);
          seen.push(charge?.status ?? 'unknown');
          if (seen.length === 1) {
            firstFetched();
            await held;
          }
          return charge;
        },
      });
      try {
        const first = gated.subscribe(chargeId);
        await fetched; // A's read saw PENDING and is still under way

        // The customer pays: the webhook publishes SUCCESSFUL, which A hears; B is not subscribed yet.
        await h.admin.markChargeAsPaid(chargeId);
        await h.simulator.waitForIdle(10_000);
        const second = gated.subscribe(chargeId);
        // B shares A's topic subscription (one per topic in a process), so it is in place at once.
        while (h.memory.subscriberCount(topic) < 1) await flushAsync(1);
        await flushAsync(); // B's subscription is in place and B is waiting for a read
        release();

        const a = await first;
        const b = await second;
        expect(statusOf(await a.next())).toBe('PENDING');
        expect(statusOf(await a.next())).toBe('SUCCESSFUL');
        // Joining A's read would have given B the stale PENDING and then nothing, ever.
        expect(statusOf(await b.next())).toBe('SUCCESSFUL');
        expect(statusOf(await b.next())).toBe('done');
        expect(seen).toEqual(['PENDING', 'SUCCESSFUL']);
      } finally {
        release();
        await gated.close();
      }
    });

    it('rejects an unknown charge with ChargeNotFoundError and keeps nothing subscribed', async () => {
      const id = 'chrg_test_doesnotexist00000';
      await expect(feed.subscribe(id)).rejects.toBeInstanceOf(ChargeNotFoundError);
      await expect(feed.subscribe(id)).rejects.toMatchObject({ code: 'CHARGE_NOT_FOUND', chargeId: id });
      expect(h.memory.subscriberCount(chargeStatusTopic(id))).toBe(0);
      expect(poller.watchedCount).toBe(0);
    });

    it('stays open while Omise fails the first read, retries it with backoff, then delivers the state and the outcome', async () => {
      const chargeId = await h.createCharge();
      feed = new ChargeStatusFeed({
        pubsub: h.memory,
        loadCharge: chargeLoader(h.omise),
        poller,
        logger: logs.logger,
        readRetry: { initialDelayMs: 20, maxDelayMs: 100 },
      });
      h.simulator.faults.set({ errorRate: 1 });
      const events = await feed.subscribe(chargeId);
      const first = events.next();
      let settled = false;
      void first.then(() => (settled = true));
      // Several retries fail; the subscriber waits, nothing ends.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(settled).toBe(false);
      expect(feed.openCount).toBe(1);
      expect(h.memory.subscriberCount(chargeStatusTopic(chargeId))).toBe(1);
      h.simulator.faults.reset();
      expect(statusOf(await first)).toBe('PENDING');
      await h.admin.markChargeAsPaid(chargeId);
      await h.simulator.waitForIdle(10_000);
      expect(statusOf(await events.next())).toBe('SUCCESSFUL');
      expect(statusOf(await events.next())).toBe('done');
      expect(h.memory.subscriberCount(chargeStatusTopic(chargeId))).toBe(0);
    });

    it('while the first read is being retried, an outcome published on the topic is delivered and ends the retries', async () => {
      const chargeId = await h.createCharge();
      let reads = 0;
      feed = new ChargeStatusFeed({
        pubsub: h.memory,
        loadCharge: async () => {
          reads++;
          throw new Error('Omise is down');
        },
        logger: logs.logger,
        readRetry: { initialDelayMs: 20, maxDelayMs: 40 },
      });
      const events = await feed.subscribe(chargeId);
      const charge = (await chargeLoader(h.omise)(chargeId))!;
      const paid: Charge = { ...charge, status: 'SUCCESSFUL' };
      await h.memory.publish(
        chargeStatusTopic(chargeId),
        toChargeStatusMessage(chargeStatusEventOf(paid, new Date())),
      );
      expect(statusOf(await events.next())).toBe('SUCCESSFUL');
      expect(statusOf(await events.next())).toBe('done');
      const readsAtEnd = reads;
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(reads).toBe(readsAtEnd);
    });

    it('completes the stream when a retried read finds that the charge does not exist', async () => {
      let reads = 0;
      feed = new ChargeStatusFeed({
        pubsub: h.memory,
        loadCharge: async () => {
          if (++reads < 3) throw new Error('Omise is down');
          return null;
        },
        logger: logs.logger,
        readRetry: { initialDelayMs: 10, maxDelayMs: 20 },
      });
      const id = 'chrg_test_doesnotexist00000';
      const events = await feed.subscribe(id);
      expect(statusOf(await events.next())).toBe('done');
      expect(reads).toBe(3);
      expect(h.memory.subscriberCount(chargeStatusTopic(id))).toBe(0);
      expect(feed.openCount).toBe(0);
    });

    it('a subscriber that leaves while the first read is retried stops the retries', async () => {
      const chargeId = await h.createCharge();
      let reads = 0;
      feed = new ChargeStatusFeed({
        pubsub: h.memory,
        loadCharge: async () => {
          reads++;
          throw new Error('Omise is down');
        },
        logger: logs.logger,
        readRetry: { initialDelayMs: 20, maxDelayMs: 20 },
      });
      const events = await feed.subscribe(chargeId);
      await new Promise((resolve) => setTimeout(resolve, 100));
      await events.return!();
      const readsAtReturn = reads;
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(reads).toBe(readsAtReturn);
      expect(h.memory.subscriberCount(chargeStatusTopic(chargeId))).toBe(0);
      expect(feed.openCount).toBe(0);
    });

    it('return() ends a waiting subscriber at once and unsubscribes', async () => {
      const chargeId = await h.createCharge();
      const events = await feed.subscribe(chargeId);
      expect(statusOf(await events.next())).toBe('PENDING');
      const waiting = events.next();
      expect(await events.return!()).toEqual({ value: undefined, done: true });
      expect(await waiting).toEqual({ value: undefined, done: true });
      expect(h.memory.subscriberCount(chargeStatusTopic(chargeId))).toBe(0);
      expect(poller.watchedCount).toBe(0);
      expect(scheduler.pending).toBe(0);
    });
  });

  describe('without webhooks (reconciliation poller)', () => {
    beforeEach(() => setUp({ webhooks: false }));

    it('delivers the outcome to many subscribers with one poll loop', async () => {
      const chargeId = await h.createCharge();
      const subscribers = await Promise.all([1, 2, 3].map(() => feed.subscribe(chargeId)));
      for (const events of subscribers) expect(statusOf(await events.next())).toBe('PENDING');
      expect(poller.watchedCount).toBe(1);
      expect(scheduler.pending).toBe(1);

      // A first poll while still pending: nothing for the subscribers, the loop goes on.
      scheduler.runAll();
      await scheduler.untilPending(1);
      expect(pollerLoads).toEqual([chargeId]);

      await h.admin.markChargeAsPaid(chargeId);
      scheduler.runAll();
      for (const events of subscribers) {
        expect(statusOf(await events.next())).toBe('SUCCESSFUL');
        expect(statusOf(await events.next())).toBe('done');
      }
      expect(pollerLoads).toEqual([chargeId, chargeId]);
      expect(poller.watchedCount).toBe(0);
      expect(scheduler.pending).toBe(0);
      // Handed to the publisher too, for the subscribers of other instances.
      expect(h.pubsub.published.map((p) => p.topic)).toContain(chargeStatusTopic(chargeId));
      expect(h.simulator.deliveries()).toEqual([]);
    });

    it('notices expiry once the simulated clock passes expires_at', async () => {
      const chargeId = await h.createCharge();
      const events = await feed.subscribe(chargeId);
      const first = await events.next();
      expect(statusOf(first)).toBe('PENDING');
      const expiresAt = (first.value as ChargeStatusEvent).charge.expiresAt as Date;
      await h.simulator.clock.set(expiresAt.getTime() + 1_000);

      scheduler.runAll();
      const expired = await events.next();
      expect(expired.value).toMatchObject({ status: 'EXPIRED', terminal: true });
      expect((expired.value as ChargeStatusEvent).occurredAt).toEqual(expiresAt);
      expect(statusOf(await events.next())).toBe('done');
    });

    it('logs a failed poll and polls again next interval', async () => {
      const chargeId = await h.createCharge();
      const events = await feed.subscribe(chargeId);
      expect(statusOf(await events.next())).toBe('PENDING');
      await h.admin.markChargeAsPaid(chargeId);
      h.simulator.faults.set({ errorRate: 1 });

      scheduler.runAll();
      await scheduler.untilPending(1);
      expect(logs.text()).toContain('reconciliation poll failed');

      h.simulator.faults.reset();
      scheduler.runAll();
      expect(statusOf(await events.next())).toBe('SUCCESSFUL');
      expect(pollerLoads).toEqual([chargeId, chargeId]);
    });

    it('still reaches local subscribers when the broker is down', async () => {
      const chargeId = await h.createCharge();
      const events = await feed.subscribe(chargeId);
      expect(statusOf(await events.next())).toBe('PENDING');
      await h.admin.markChargeAsPaid(chargeId);
      h.pubsub.failing = true;
      scheduler.runAll();
      expect(statusOf(await events.next())).toBe('SUCCESSFUL');
      await flushAsync(); // the publish attempt follows the local delivery
      expect(logs.text()).toContain('reconciliation poll could not publish');
      expect(poller.watchedCount).toBe(0);
    });
  });
});

describe('ReconciliationPoller timing', () => {
  it('waits one interval ±20% (jitter) before each poll, one loop per charge', () => {
    const scheduler = new ManualScheduler();
    const draws = [0, 0.999999, 0.5];
    const poller = new ReconciliationPoller({
      loadCharge: async () => null,
      publisher: { publish: async () => false },
      intervalMs: 10_000,
      random: () => draws.shift() ?? 0.5,
      scheduler,
      logger: memoryLogger().logger,
    });
    const leaveA = poller.watch('chrg_test_a', () => {});
    const leaveA2 = poller.watch('chrg_test_a', () => {});
    const leaveB = poller.watch('chrg_test_b', () => {});
    poller.watch('chrg_test_c', () => {});
    expect(scheduler.delays).toEqual([8_000, 12_000, 10_000]);
    leaveA();
    expect(scheduler.pending).toBe(3);
    leaveA2();
    leaveB();
    expect(scheduler.pending).toBe(1);
    poller.close();
    expect(scheduler.pending).toBe(0);
    expect(poller.watchedCount).toBe(0);
  });
});
