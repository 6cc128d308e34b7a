import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from '@jest/globals';
import { ChargeStatusFeed, type ChargeStatusEvent } from '../../src/payments/status-feed/index.js';
import { createRealtime, type Realtime } from '../../src/realtime/index.js';
import { memoryLogger } from '../status-feed/support/helpers.js';
import { chargeLoader, startHarness, type Harness } from '../status-feed/support/harness.js';

/**
 * Two gateway instances sharing Redis: Omise's webhook reaches instance A, the phone is subscribed on
 * instance B.
 */
describe('webhook on one instance, subscriber on another (Redis)', () => {
  let a: Realtime;
  let b: Realtime;
  let h: Harness;
  let feedB: ChargeStatusFeed;
  afterEach(async () => {
    await feedB?.close();
    await h?.close();
    await a?.close();
    await b?.close();
  });

  it('delivers the outcome published by A to the subscriber on B, once', async () => {
    const keyPrefix = `test-${randomUUID()}:`;
    a = await createRealtime({ redisUrl: 'redis://127.0.0.1:6379', keyPrefix });
    b = await createRealtime({ redisUrl: 'redis://127.0.0.1:6379', keyPrefix });
    h = await startHarness({ kv: a.kv, pubsub: a.pubsub });
    feedB = new ChargeStatusFeed({
      pubsub: b.pubsub,
      loadCharge: chargeLoader(h.admin),
      logger: memoryLogger().logger,
    });

    const chargeId = await h.createCharge();
    const events = await feedB.subscribe(chargeId);
    const received: ChargeStatusEvent[] = [];
    const first = await events.next();
    received.push(first.value as ChargeStatusEvent);
    await h.admin.markChargeAsPaid(chargeId);
    for await (const event of events) received.push(event);

    expect(received.map((e) => e.status)).toEqual(['PENDING', 'SUCCESSFUL']);
    expect(received[1]!.charge.paidAt).toBeInstanceOf(Date);
    const delivery = await h.receiver.answered(
      (r) => JSON.parse(r.rawBody.toString()).key === 'charge.complete',
    );
    expect(delivery).toMatchObject({ status: 200, body: { received: true } });
  });
});
