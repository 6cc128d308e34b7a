import { describe, expect, it } from '@jest/globals';
import { mapCharge } from '../../src/payments/omise-mapper.js';
import {
  chargeStatusEventOf,
  deserializeChargeStatusEvent,
  fromChargeStatusMessage,
  InvalidChargeStatusMessageError,
  serializeChargeStatusEvent,
  statusRank,
  toChargeStatusMessage,
} from '../../src/payments/status-feed/index.js';
import { fixtureCharge } from './support/helpers.js';

describe('ChargeStatusEvent', () => {
  it('ranks states so that the feed only moves forward', () => {
    expect(statusRank('PENDING')).toBe(0);
    for (const terminal of ['SUCCESSFUL', 'FAILED', 'EXPIRED'] as const) expect(statusRank(terminal)).toBe(1);
    expect(statusRank('REVERSED')).toBe(2);
  });

  it('takes occurredAt from Omise when it says when the status was reached', () => {
    const observedAt = new Date('2030-01-01T00:00:00Z');
    const pending = mapCharge(fixtureCharge('swift/charge-truemoney-wallet-pending.json'));
    expect(chargeStatusEventOf(pending, observedAt)).toMatchObject({
      chargeId: pending.id,
      status: 'PENDING',
      terminal: false,
      occurredAt: pending.createdAt,
    });
    const expired = mapCharge(fixtureCharge('php/charge-expire.json'));
    expect(expired.status).toBe('EXPIRED');
    const event = chargeStatusEventOf(expired, observedAt);
    expect(event.terminal).toBe(true);
    expect(event.occurredAt).toEqual(expired.expiredAt ?? observedAt);
  });

  it.each([
    'swift/charge-truemoney-wallet-pending.json',
    'swift/charge-promptpay-qr-pending.json',
    'swift/charge-voided.json',
    'php/charge-expire.json',
  ])('survives the JSON round trip through the broker with its Dates revived (%s)', (path) => {
    const event = chargeStatusEventOf(mapCharge(fixtureCharge(path)), new Date());
    const wire = toChargeStatusMessage(event);
    // What Redis carries is plain JSON text.
    const text = JSON.stringify(wire);
    expect(fromChargeStatusMessage(JSON.parse(text))).toEqual(event);
    expect(deserializeChargeStatusEvent(serializeChargeStatusEvent(event))).toEqual(event);
    const revived = fromChargeStatusMessage(text);
    expect(revived.occurredAt).toBeInstanceOf(Date);
    expect(revived.charge.createdAt).toBeInstanceOf(Date);
    for (const refund of revived.charge.refunds) expect(refund.createdAt).toBeInstanceOf(Date);
  });

  it('refuses messages that are not charge status events', () => {
    const event = chargeStatusEventOf(mapCharge(fixtureCharge('swift/charge-voided.json')), new Date());
    const wire = toChargeStatusMessage(event);
    expect(() => fromChargeStatusMessage('{nope')).toThrow(InvalidChargeStatusMessageError);
    expect(() => fromChargeStatusMessage({ ...wire, status: 'PAID' })).toThrow(
      InvalidChargeStatusMessageError,
    );
    expect(() => fromChargeStatusMessage({ ...wire, occurredAt: 'yesterday' })).toThrow(
      InvalidChargeStatusMessageError,
    );
    expect(() => fromChargeStatusMessage({ ...wire, v: 2 })).toThrow(InvalidChargeStatusMessageError);
  });
});
