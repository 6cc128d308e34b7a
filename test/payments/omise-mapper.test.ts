import { describe, expect, it } from '@jest/globals';
import {
  IDEMPOTENCY_METADATA_KEY,
  mapCharge,
  mapRefund,
  OmiseMappingError,
  parseOmiseTimestamp,
} from '../../src/payments/omise-mapper.js';
import {
  fixture,
  guideCharge,
  guideObjects,
  recordedBody,
  type OmiseCharge,
  type OmiseRefund,
} from './fixtures.js';

describe('mapCharge', () => {
  it('maps the guide example TrueMoney QR charge', () => {
    expect(guideObjects().length).toBeGreaterThanOrEqual(3);
    const charge = mapCharge(guideCharge());
    expect(charge).toEqual({
      id: 'chrg_test_616e6ry4hxuenzzr9vx',
      status: 'PENDING',
      amount: 400000,
      currency: 'THB',
      sourceType: 'truemoney_qr',
      description: null,
      metadata: {},
      qrCode: {
        imageUrl:
          'https://api.omise.co/charges/chrg_test_616e6ry4hxuenzzr9vx/documents/docu_test_616e6s0divwf440ye1s/downloads/4BB6E1821359F1C3',
        expiresAt: new Date('2024-09-24T03:18:47Z'),
      },
      returnUri: 'http://example.com/orders/345678/complete',
      authorizeUri: 'https://pay.omise.co/payments/pay2_test_616e6ry5m8b6v77oicq/authorize?acs=false',
      paid: false,
      paidAt: null,
      expiresAt: new Date('2024-09-24T03:18:47Z'),
      expiredAt: null,
      failureCode: null,
      failureMessage: null,
      refundedAmount: 0,
      refundable: false,
      voidable: false,
      voided: false,
      refunds: [],
      livemode: false,
      createdAt: new Date('2024-09-23T03:18:47Z'),
    });
  });

  it('maps a fully voided successful charge with its refund (swift)', () => {
    const charge = mapCharge(fixture<OmiseCharge>('swift/charge-voided.json'));
    expect(charge.status).toBe('SUCCESSFUL');
    expect(charge.voided).toBe(true);
    expect(charge.paid).toBe(true);
    expect(charge.paidAt).toEqual(new Date('2019-05-03T04:14:38Z'));
    expect(charge.refundedAmount).toBe(100000);
    expect(charge.voidable).toBe(false); // no can_perform_void in this old recording → false
    expect(charge.sourceType).toBe('card');
    expect(charge.qrCode).toBeNull();
    expect(charge.refunds).toEqual([
      {
        id: 'rfnd_test_5frz1pdm34u27646j5p',
        chargeId: 'chrg_test_5frvn3hgya3qemayzrt',
        amount: 100000,
        currency: 'THB',
        voided: true,
        metadata: {},
        createdAt: new Date('2019-05-03T10:02:42Z'),
      },
    ]);
  });

  it('reads the QR of a pending PromptPay charge and the missing QR of a redirect TrueMoney charge (swift)', () => {
    const promptpay = mapCharge(fixture<OmiseCharge>('swift/charge-promptpay-qr-pending.json'));
    expect(promptpay.sourceType).toBe('promptpay');
    expect(promptpay.qrCode).toEqual({
      imageUrl:
        'https://api.omise.co/charges/chrg_test_5jcmh5y5z3g5hurbu8o/documents/docu_test_5jcmh5zy9loubnch5th/downloads/25624FE66C9AA7F7',
      expiresAt: new Date('2020-04-03T08:06:10Z'),
    });
    const wallet = mapCharge(fixture<OmiseCharge>('swift/charge-truemoney-wallet-pending.json'));
    expect(wallet.sourceType).toBe('truemoney');
    expect(wallet.qrCode).toBeNull();
    expect(wallet.authorizeUri).toBe('https://pay.omise.co/payments/pay2_test_5hd31zvri9rhgmvhx1u/authorize');
    expect(wallet.returnUri).toBe('https://omise.co');
  });

  it('maps an expired charge (php, 2025)', () => {
    const charge = mapCharge(fixture<OmiseCharge>('php/charge-expire.json'));
    expect(charge.status).toBe('EXPIRED');
    expect(charge.expiredAt).toEqual(new Date('2025-03-20T09:41:54Z'));
    expect(charge.description).toBe('Order-expire');
    expect(charge.sourceType).toBe('alipay_cn');
  });

  it('reads old charges: no status, lowercase currency, `refunded`, `+00:00` dates (go list, elixir 2017)', () => {
    const list = fixture<{ data: OmiseCharge[] }>('go/charges-list.json');
    const [old] = list.data.map(mapCharge);
    expect(old).toMatchObject({
      id: 'chrg_test_4yq7duw15p9hdrjp8oq',
      status: 'SUCCESSFUL',
      currency: 'THB',
      amount: 100000,
      refundedAmount: 0,
      metadata: {},
      description: 'Charge for order 3947',
      createdAt: new Date('2015-01-15T05:00:29Z'),
    });
    const { body } = recordedBody<OmiseCharge>('elixir-2017/create_charge_with_source.json');
    const charge = mapCharge(body);
    expect(charge.currency).toBe('THB');
    expect(charge.status).toBe('PENDING');
    expect(charge.createdAt).toBeInstanceOf(Date);
    expect(Number.isNaN(charge.createdAt.getTime())).toBe(false);
  });

  it('reads every currency Omise supports (go PayNow in SGD); refuses an unknown currency, fractional amounts, unknown status', () => {
    const paynow = fixture<OmiseCharge & { created_at_at?: string }>('go/charge-paynow-qr-pending.json');
    // The recording has a documented `created_at_at` typo; repaired, it maps, in SGD, with its QR.
    const repaired = mapCharge({ ...paynow, created_at: paynow.created_at_at ?? '' });
    expect(repaired.currency).toBe('SGD');
    expect(repaired.amount).toBe(paynow.amount);
    expect(repaired.qrCode?.imageUrl).toMatch(/\/downloads\/542F307C03299822$/);
    expect(repaired.sourceType).toBe('paynow');
    expect(() => mapCharge(paynow)).toThrow(/created_at/);
    // Lowercase as in 2017-11-02 shapes; yen as is (no decimals).
    expect(mapCharge({ ...guideCharge(), currency: 'jpy', amount: 1234 })).toMatchObject({
      currency: 'JPY',
      amount: 1234,
    });
    expect(() => mapCharge({ ...guideCharge(), currency: 'XTS' })).toThrow(OmiseMappingError);
    expect(() => mapCharge({ ...guideCharge(), currency: 'XTS' })).toThrow(/XTS/);
    const guide = guideCharge();
    expect(() => mapCharge({ ...guide, amount: 4000.5 })).toThrow(/amount/);
    expect(() => mapCharge({ ...guide, refunded_amount: -1 })).toThrow(/refunded_amount/);
    expect(() => mapCharge({ ...guide, status: 'weird' as never })).toThrow(/status/);
    expect(() => mapCharge({ ...guide, created_at: 'yesterday' })).toThrow(/created_at/);
  });

  it('keeps the gateway idempotency handle out of the returned metadata', () => {
    const guide = guideCharge();
    const charge = mapCharge({ ...guide, metadata: { order: '42', [IDEMPOTENCY_METADATA_KEY]: 'abc' } });
    expect(charge.metadata).toEqual({ order: '42' });
  });
});

describe('mapRefund', () => {
  it('maps refunds of 2015, 2017 and 2025 shapes', () => {
    const go = mapRefund(fixture<OmiseRefund>('go/refund-create.json'));
    expect(go).toEqual({
      id: 'rfnd_test_4yqmv79ahghsiz23y3c',
      chargeId: 'chrg_test_4yq7duw15p9hdrjp8oq',
      amount: 10000,
      currency: 'THB',
      voided: false,
      metadata: {},
      createdAt: new Date('2015-01-16T07:23:45Z'),
    });
    const php = mapRefund(fixture<OmiseRefund>('php/refund-create.json'));
    expect(php).toMatchObject({
      amount: 10000,
      currency: 'THB',
      voided: false,
      chargeId: 'chrg_test_63444wyfsg4mtvvck1z',
    });
    const elixir = mapRefund(recordedBody<OmiseRefund>('elixir-2017/refund_charge.json').body);
    expect(elixir.createdAt).toEqual(new Date('2017-11-04T09:36:45Z'));
    expect(mapRefund(fixture<OmiseRefund>('swift/refund-voided.json')).voided).toBe(true);
  });
});

describe('parseOmiseTimestamp', () => {
  it('accepts Z and offsets, refuses the rest', () => {
    expect(parseOmiseTimestamp('2024-09-23T03:18:47Z', 'x')).toEqual(
      new Date(Date.UTC(2024, 8, 23, 3, 18, 47)),
    );
    expect(parseOmiseTimestamp('2015-01-15T05:04:30+00:00', 'x')).toEqual(new Date('2015-01-15T05:04:30Z'));
    expect(parseOmiseTimestamp('2017-11-04T19:12:35+07:00', 'x')).toEqual(new Date('2017-11-04T12:12:35Z'));
    for (const bad of ['2024-09-23', '2024-13-45T00:00:00Z', 'now', 12, null]) {
      expect(() => parseOmiseTimestamp(bad, 'x')).toThrow(OmiseMappingError);
    }
  });
});
