import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { RunningSimulator } from '../../src/simulator/index.js';
import { call, createCharge, DAY, HOUR, OMISE_ID, paidCharge, startTestSimulator } from './helpers.js';

// The clock stands at 2024-09-23T03:18:47Z = 10:18:47 in Bangkok; Bangkok midnight is 17:00Z.
const TO_BANGKOK_MIDNIGHT = Date.parse('2024-09-23T17:00:00Z') - Date.parse('2024-09-23T03:18:47Z');

let sim: RunningSimulator;
beforeEach(async () => {
  sim = await startTestSimulator();
});
afterEach(() => sim.close());

const refund = (chargeId: string, body: Record<string, unknown>) =>
  call(sim, 'POST', `/charges/${chargeId}/refunds`, { json: body });
const charge = async (id: string) => (await call(sim, 'GET', `/charges/${id}`)).body;

describe('refunds', () => {
  it('makes partial refunds up to what is left, listed and retrievable', async () => {
    const id = await paidCharge(sim);
    const first = await call(sim, 'POST', `/charges/${id}/refunds`, {
      form: { amount: '100000', metadata: { reason: 'damaged' } },
    });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      object: 'refund',
      amount: 100000,
      currency: 'THB',
      charge: id,
      voided: false,
      status: 'closed',
      metadata: { reason: 'damaged' },
      funding_amount: 100000,
      created_at: '2024-09-23T03:18:47Z',
    });
    expect(first.body.id).toMatch(OMISE_ID('rfnd'));
    expect(first.body.transaction).toMatch(OMISE_ID('trxn'));
    expect(first.body.location).toBe(`/charges/${id}/refunds/${first.body.id}`);

    let c = await charge(id);
    expect(c).toMatchObject({
      status: 'successful',
      refunded_amount: 100000,
      refundable: true,
      partially_refundable: true,
      can_perform_void: false,
      voided: false,
    });
    expect(c.refunds.total).toBe(1);
    expect(c.refunds.data[0]).toEqual(first.body);

    const tooMuch = await refund(id, { amount: 300001 });
    expect(tooMuch.status).toBe(400);
    expect(tooMuch.body.code).toBe('failed_refund');
    expect(tooMuch.body.message).toContain('300000');

    const rest = await refund(id, { amount: 300000 });
    expect(rest.status).toBe(200);
    expect(rest.body.voided).toBe(false);
    c = await charge(id);
    expect(c).toMatchObject({
      status: 'successful',
      refunded_amount: 400000,
      refundable: false,
      voided: false,
    });
    const more = await refund(id, { amount: 10000 });
    expect(more.body.code).toBe('failed_refund');

    const list = await call(sim, 'GET', `/charges/${id}/refunds`);
    expect(list.body).toMatchObject({ object: 'list', total: 2, location: `/charges/${id}/refunds` });
    const one = await call(sim, 'GET', `/charges/${id}/refunds/${first.body.id}`);
    expect(one.body).toEqual(first.body);
    const all = await call(sim, 'GET', '/refunds');
    expect(all.body.data.map((r: { id: string }) => r.id)).toEqual([first.body.id, rest.body.id]);
    const missing = await call(sim, 'GET', `/charges/${id}/refunds/rfnd_test_x`);
    expect(missing.status).toBe(404);
    expect(missing.body.message).toBe('refund rfnd_test_x was not found');

    const events = (await call(sim, 'GET', `/charges/${id}/events`)).body.data as Array<{ key: string }>;
    expect(events.map((e) => e.key)).toEqual([
      'charge.create',
      'charge.complete',
      'refund.create',
      'refund.create',
    ]);
  });

  it('validates the refund amount', async () => {
    const id = await paidCharge(sim);
    expect((await refund(id, {})).body).toMatchObject({ code: 'bad_request', message: 'amount is required' });
    expect((await refund(id, { amount: 'x' })).body.code).toBe('bad_request');
    expect((await refund(id, { amount: 0 })).body.code).toBe('invalid_amount');
    expect((await refund(id, { amount: -5 })).body.code).toBe('invalid_amount');
    expect((await refund(id, { amount: 1, void: 'maybe' })).body.code).toBe('bad_request');
  });

  it('refuses refunds of a pending charge', async () => {
    const id = (await createCharge(sim)).body.id as string;
    const answer = await refund(id, { amount: 10000 });
    expect(answer.status).toBe(400);
    expect(answer.body.code).toBe('failed_refund');
  });

  it('makes a full refund on the day of payment a void', async () => {
    const id = await paidCharge(sim);
    await sim.clock.advance(TO_BANGKOK_MIDNIGHT - 1000); // 23:59:59 in Bangkok
    expect((await charge(id)).can_perform_void).toBe(true);
    const full = await refund(id, { amount: 400000 });
    expect(full.status).toBe(200);
    expect(full.body.voided).toBe(true);
    const c = await charge(id);
    expect(c).toMatchObject({
      status: 'successful',
      voided: true,
      refunded_amount: 400000,
      refundable: false,
      partially_refundable: false,
      can_perform_void: false,
    });
    const again = await refund(id, { amount: 10000 });
    expect(again.body.code).toBe('failed_refund');
  });

  it('voids with void: true (form-encoded too) and refuses impossible voids with failed_void', async () => {
    const id = await paidCharge(sim);
    const partialVoid = await refund(id, { amount: 100000, void: true });
    expect(partialVoid.status).toBe(400);
    expect(partialVoid.body.code).toBe('failed_void');
    const voided = await call(sim, 'POST', `/charges/${id}/refunds`, {
      form: { amount: '400000', void: 'true' },
    });
    expect(voided.status).toBe(200);
    expect(voided.body.voided).toBe(true);

    const refundedFirst = await paidCharge(sim);
    await refund(refundedFirst, { amount: 10000 });
    const late = await refund(refundedFirst, { amount: 390000, void: true });
    expect(late.body.code).toBe('failed_void');
  });

  it('after Bangkok midnight a full refund is a refund, not a void, and void: true fails', async () => {
    const id = await paidCharge(sim);
    await sim.clock.advance(TO_BANGKOK_MIDNIGHT);
    const c = await charge(id);
    expect(c).toMatchObject({ can_perform_void: false, refundable: true });
    const asVoid = await refund(id, { amount: 400000, void: true });
    expect(asVoid.status).toBe(400);
    expect(asVoid.body.code).toBe('failed_void');
    const full = await refund(id, { amount: 400000 });
    expect(full.status).toBe(200);
    expect(full.body.voided).toBe(false);
    expect(await charge(id)).toMatchObject({ voided: false, refunded_amount: 400000, refundable: false });
  });

  it('refuses refunds more than 30 days after payment', async () => {
    const id = await paidCharge(sim);
    await sim.clock.advance(30 * DAY);
    expect((await charge(id)).refundable).toBe(true);
    await sim.clock.advance(HOUR);
    expect((await charge(id)).refundable).toBe(false);
    const answer = await refund(id, { amount: 10000 });
    expect(answer.status).toBe(400);
    expect(answer.body.code).toBe('failed_refund');
    expect(answer.body.message).toContain('30 days');
  });

  it('allows at most 15 refunds per charge', async () => {
    const id = await paidCharge(sim);
    for (let i = 0; i < 15; i += 1) {
      const answer = await refund(id, { amount: 100 });
      expect(answer.status).toBe(200);
    }
    expect((await charge(id)).refundable).toBe(false);
    const sixteenth = await refund(id, { amount: 100 });
    expect(sixteenth.status).toBe(400);
    expect(sixteenth.body.code).toBe('failed_refund');
    expect(sixteenth.body.message).toContain('15');
    const c = await charge(id);
    expect(c.refunded_amount).toBe(1500);
    expect(c.refunds.total).toBe(15);
  });
});
