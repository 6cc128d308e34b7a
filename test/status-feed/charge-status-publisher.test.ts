import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { Charge } from '../../src/payments/model.js';
import { mapCharge } from '../../src/payments/omise-mapper.js';
import {
  ChargeStatusPublisher,
  chargeStatusTopic,
  fromChargeStatusMessage,
} from '../../src/payments/status-feed/index.js';
import {
  createRealtime,
  MemoryKeyValueStore,
  MemoryPubSub,
  type Realtime,
} from '../../src/realtime/index.js';
import { fixtureCharge, FlakyPubSub } from './support/helpers.js';

const pending = mapCharge(fixtureCharge('swift/charge-truemoney-wallet-pending.json'));
const withStatus = (status: Charge['status']): Charge => ({ ...pending, status });

describe('ChargeStatusPublisher (memory adapters)', () => {
  let kv: MemoryKeyValueStore;
  let memory: MemoryPubSub;
  beforeEach(() => {
    kv = new MemoryKeyValueStore();
    memory = new MemoryPubSub();
  });
  afterEach(async () => {
    kv.close();
    await memory.close();
  });

  it('publishes each state once, never a stale one, and REVERSED after SUCCESSFUL', async () => {
    const pubsub = new FlakyPubSub(memory);
    const publisher = new ChargeStatusPublisher({ pubsub, kv, keyPrefix: randomUUID() });
    const subscription = await memory.subscribe(chargeStatusTopic(pending.id));
    expect(await publisher.publish(withStatus('PENDING'))).toBe(true);
    expect(await publisher.publish(withStatus('PENDING'))).toBe(false);
    expect(await publisher.publish(withStatus('SUCCESSFUL'))).toBe(true);
    expect(await publisher.publish(withStatus('SUCCESSFUL'))).toBe(false);
    expect(await publisher.publish(withStatus('PENDING'))).toBe(false);
    expect(await publisher.publish(withStatus('REVERSED'))).toBe(true);
    const iterator = subscription[Symbol.asyncIterator]();
    const received = [];
    for (let i = 0; i < 3; i++) received.push(fromChargeStatusMessage((await iterator.next()).value));
    await subscription.close();
    expect((await iterator.next()).done).toBe(true);
    expect(received.map((e) => [e.chargeId, e.status, e.terminal])).toEqual([
      [pending.id, 'PENDING', false],
      [pending.id, 'SUCCESSFUL', true],
      [pending.id, 'REVERSED', true],
    ]);
    expect(pubsub.published.map((p) => p.topic)).toEqual(Array(3).fill(`charge-status:${pending.id}`));
  });

  it('marks nothing when the broker refuses, so that a retry publishes', async () => {
    const pubsub = new FlakyPubSub(memory);
    const publisher = new ChargeStatusPublisher({ pubsub, kv, keyPrefix: randomUUID() });
    pubsub.failing = true;
    await expect(publisher.publish(withStatus('SUCCESSFUL'))).rejects.toThrow('broker unavailable');
    expect(pubsub.published).toHaveLength(0);
    pubsub.failing = false;
    expect(await publisher.publish(withStatus('SUCCESSFUL'))).toBe(true);
    expect(await publisher.publish(withStatus('SUCCESSFUL'))).toBe(false);
    expect(pubsub.published).toHaveLength(1);
  });
});

describe('ChargeStatusPublisher across two instances (Redis)', () => {
  let a: Realtime;
  let b: Realtime;
  afterEach(async () => {
    await a?.close();
    await b?.close();
  });

  it('publishes a state once however many instances see it, and every instance hears it', async () => {
    const keyPrefix = `test-${randomUUID()}:`;
    a = await createRealtime({ redisUrl: 'redis://127.0.0.1:6379', keyPrefix });
    b = await createRealtime({ redisUrl: 'redis://127.0.0.1:6379', keyPrefix });
    const publisherA = new ChargeStatusPublisher({ pubsub: a.pubsub, kv: a.kv });
    const publisherB = new ChargeStatusPublisher({ pubsub: b.pubsub, kv: b.kv });
    const onB = await b.pubsub.subscribe(chargeStatusTopic(pending.id));

    expect(await publisherA.publish(withStatus('SUCCESSFUL'))).toBe(true);
    // B learns the same outcome later (its own webhook delivery, its poller): not published again.
    expect(await publisherB.publish(withStatus('SUCCESSFUL'))).toBe(false);
    expect(await publisherB.publish(withStatus('PENDING'))).toBe(false);
    expect(await publisherB.publish(withStatus('REVERSED'))).toBe(true);

    const iterator = onB[Symbol.asyncIterator]();
    const first = await iterator.next();
    const second = await iterator.next();
    expect(fromChargeStatusMessage(first.value).status).toBe('SUCCESSFUL');
    expect(fromChargeStatusMessage(first.value).charge).toEqual(withStatus('SUCCESSFUL'));
    expect(fromChargeStatusMessage(second.value).status).toBe('REVERSED');
    await onB.close();
    expect((await iterator.next()).done).toBe(true);
  });
});
