import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { RunningSimulator } from '../../src/simulator/index.js';
import { call, createCharge, DAY, OMISE_ID, startTestSimulator } from './helpers.js';

let sim: RunningSimulator;
beforeEach(async () => {
  sim = await startTestSimulator();
});
afterEach(() => sim.close());

async function eventsOf(chargeId: string): Promise<Array<{ key: string; data: Record<string, unknown> }>> {
  const answer = await call(sim, 'GET', `/charges/${chargeId}/events`);
  expect(answer.status).toBe(200);
  return answer.body.data;
}

describe('charge lifecycle', () => {
  it('mark_as_paid makes every derived field consistent and records charge.complete', async () => {
    const created = await createCharge(sim);
    const id = created.body.id as string;
    const paid = await call(sim, 'POST', `/charges/${id}/mark_as_paid`);
    expect(paid.status).toBe(200);
    const c = paid.body;
    expect(c).toMatchObject({
      status: 'successful',
      paid: true,
      paid_at: '2024-09-23T03:18:47Z',
      authorized: true,
      authorized_at: '2024-09-23T03:18:47Z',
      refundable: true,
      partially_refundable: true,
      can_perform_void: true,
      voided: false,
      expired: false,
      refunded_amount: 0,
      funding_amount: 400000,
      net: 400000,
      fee: 0,
      failure_code: null,
    });
    expect(c.transaction).toMatch(OMISE_ID('trxn'));
    expect(c.source.charge_status).toBe('successful');
    const source = await call(sim, 'GET', `/sources/${c.source.id}`, { key: sim.publicKey });
    expect(source.body.charge_status).toBe('successful');

    const events = await eventsOf(id);
    expect(events.map((e) => e.key)).toEqual(['charge.create', 'charge.complete']);
    expect(events[0]?.data).toMatchObject({ id, status: 'pending' });
    expect(events[1]?.data).toEqual(c);

    // A charge is completed once.
    for (const action of ['mark_as_paid', 'mark_as_failed', 'expire']) {
      const again = await call(sim, 'POST', `/charges/${id}/${action}`);
      expect(again.status).toBe(400);
      expect(again.body.code).toBe(action === 'expire' ? 'failed_expire' : 'invalid_charge');
    }
  });

  it('mark_as_failed fails the charge with failed_processing', async () => {
    const id = (await createCharge(sim)).body.id as string;
    const failed = await call(sim, 'POST', `/charges/${id}/mark_as_failed`);
    expect(failed.status).toBe(200);
    expect(failed.body).toMatchObject({
      status: 'failed',
      paid: false,
      authorized: false,
      paid_at: null,
      transaction: null,
      refundable: false,
      can_perform_void: false,
      failure_code: 'failed_processing',
    });
    expect(typeof failed.body.failure_message).toBe('string');
    expect(failed.body.source.charge_status).toBe('failed');
    expect((await eventsOf(id)).map((e) => e.key)).toEqual(['charge.create', 'charge.complete']);
    const refund = await call(sim, 'POST', `/charges/${id}/refunds`, { json: { amount: 10000 } });
    expect(refund.status).toBe(400);
    expect(refund.body.code).toBe('failed_refund');
  });

  it('expires a pending charge when the clock passes expires_at, without any request', async () => {
    const id = (await createCharge(sim)).body.id as string;
    await sim.clock.advance(DAY - 1000);
    let events = (await call(sim, 'GET', '/events')).body.data as Array<{ key: string }>;
    expect(events.map((e) => e.key)).toEqual(['charge.create']);

    await sim.clock.advance(1000);
    // GET /events does not touch the charge: the expiry happened inside advance().
    events = (await call(sim, 'GET', '/events')).body.data;
    expect(events.map((e) => e.key)).toEqual(['charge.create', 'charge.expire']);
    const expireEvent = (events as Array<{ key: string; data: Record<string, unknown> }>)[1];
    expect(expireEvent?.data).toMatchObject({
      id,
      status: 'expired',
      expired: true,
      expired_at: '2024-09-24T03:18:47Z',
      expires_at: '2024-09-24T03:18:47Z',
    });

    const charge = await call(sim, 'GET', `/charges/${id}`);
    expect(charge.body).toMatchObject({ status: 'expired', expired: true, paid: false, refundable: false });
    expect(charge.body.source.charge_status).toBe('expired');
    const pay = await call(sim, 'POST', `/charges/${id}/mark_as_paid`);
    expect(pay.status).toBe(400);
    expect(pay.body.code).toBe('expired_charge');
    // Exactly one expire event, even after more clock movement and reads.
    await sim.clock.advance(DAY);
    expect((await eventsOf(id)).map((e) => e.key)).toEqual(['charge.create', 'charge.expire']);
  });

  it('honours an explicit expires_at and clock.set', async () => {
    const id = (await createCharge(sim, { expires_at: '2024-09-23T04:00:00Z' })).body.id as string;
    await sim.clock.set(Date.parse('2024-09-23T04:00:00Z'));
    expect(sim.clock.now()).toBe(Date.parse('2024-09-23T04:00:00Z'));
    const charge = await call(sim, 'GET', `/charges/${id}`);
    expect(charge.body).toMatchObject({ status: 'expired', expired_at: '2024-09-23T04:00:00Z' });
  });

  it('POST /expire expires a pending charge once', async () => {
    const id = (await createCharge(sim)).body.id as string;
    const expired = await call(sim, 'POST', `/charges/${id}/expire`);
    expect(expired.status).toBe(200);
    expect(expired.body).toMatchObject({
      status: 'expired',
      expired: true,
      expired_at: '2024-09-23T03:18:47Z',
    });
    const again = await call(sim, 'POST', `/charges/${id}/expire`);
    expect(again.status).toBe(400);
    expect(again.body.code).toBe('failed_expire');
    expect((await eventsOf(id)).map((e) => e.key)).toEqual(['charge.create', 'charge.expire']);
    // Paying later is too late; the scheduled expiry does not fire a second event.
    await sim.clock.advance(2 * DAY);
    expect((await eventsOf(id)).map((e) => e.key)).toEqual(['charge.create', 'charge.expire']);
  });

  it('PATCH records charge.update with the updated charge', async () => {
    const id = (await createCharge(sim)).body.id as string;
    await call(sim, 'PATCH', `/charges/${id}`, { json: { description: 'd' } });
    const events = await eventsOf(id);
    expect(events.map((e) => e.key)).toEqual(['charge.create', 'charge.update']);
    expect(events[1]?.data.description).toBe('d');
  });

  it('lists and retrieves events with webhook_deliveries', async () => {
    const id = (await createCharge(sim)).body.id as string;
    await call(sim, 'POST', `/charges/${id}/mark_as_paid`);
    const list = await call(sim, 'GET', '/events', { query: { order: 'reverse_chronological' } });
    expect(list.body).toMatchObject({ object: 'list', total: 2, location: '/events' });
    const latest = list.body.data[0];
    expect(latest.key).toBe('charge.complete');
    expect(latest.id).toMatch(OMISE_ID('evnt'));
    const one = await call(sim, 'GET', `/events/${latest.id}`);
    expect(one.body).toEqual(latest);
    expect(Object.keys(one.body)).toEqual([
      'object',
      'id',
      'livemode',
      'location',
      'webhook_deliveries',
      'data',
      'key',
      'created_at',
    ]);
    expect(one.body.location).toBe(`/events/${latest.id}`);
    expect(one.body.webhook_deliveries).toEqual([]);
  });
});
