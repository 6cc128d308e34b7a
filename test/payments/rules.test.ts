import { describe, expect, it } from '@jest/globals';
import type { Charge } from '../../src/payments/model.js';
import { mapCharge } from '../../src/payments/omise-mapper.js';
import {
  checkCreateCharge,
  checkIdempotencyKey,
  checkMetadata,
  checkRefund,
  checkRefundAmount,
  checkReturnUri,
  checkSimulatable,
  checkVoid,
  isChargeId,
  MAX_AMOUNT,
  MIN_AMOUNT,
  REFUND_WINDOW_MS,
} from '../../src/payments/rules.js';
import { guideCharge } from './fixtures.js';

const codes = (errors: { code: string }[]) => errors.map((e) => e.code);
const valid = { amount: 400000, currency: 'THB' };

describe('create-charge rules', () => {
  it('accepts the guide example and the limits themselves', () => {
    expect(checkCreateCharge({ ...valid, returnUri: 'http://example.com/orders/345678/complete' })).toEqual(
      [],
    );
    expect(checkCreateCharge({ ...valid, amount: MIN_AMOUNT })).toEqual([]);
    expect(checkCreateCharge({ ...valid, amount: MAX_AMOUNT })).toEqual([]);
  });

  it('refuses amounts out of range or not integers', () => {
    expect(codes(checkCreateCharge({ ...valid, amount: MIN_AMOUNT - 1 }))).toEqual(['AMOUNT_OUT_OF_RANGE']);
    expect(codes(checkCreateCharge({ ...valid, amount: MAX_AMOUNT + 1 }))).toEqual(['AMOUNT_OUT_OF_RANGE']);
    expect(codes(checkCreateCharge({ ...valid, amount: 10000.5 }))).toEqual(['INVALID_AMOUNT']);
    expect(codes(checkCreateCharge({ ...valid, amount: Number.NaN }))).toEqual(['INVALID_AMOUNT']);
    expect(checkCreateCharge({ ...valid, amount: 1 })[0]?.field).toEqual(['input', 'amount']);
  });

  it('refuses other currencies, bad return URIs, long descriptions, bad source ids — all at once', () => {
    const errors = checkCreateCharge({
      amount: 5,
      currency: 'USD',
      returnUri: 'javascript:alert(1)',
      description: 'x'.repeat(256),
      sourceId: 'chrg_test_123',
      idempotencyKey: '',
    });
    expect(codes(errors).sort()).toEqual(
      [
        'AMOUNT_OUT_OF_RANGE',
        'UNSUPPORTED_CURRENCY',
        'INVALID_RETURN_URI',
        'INVALID_DESCRIPTION',
        'SOURCE_NOT_FOUND',
        'INVALID_IDEMPOTENCY_KEY',
      ].sort(),
    );
    expect(checkCreateCharge({ ...valid, description: 'ก'.repeat(255) })).toEqual([]);
  });

  it('return URIs: absolute http(s) only, no credentials', () => {
    for (const good of ['https://shop.example/done?o=1', 'http://localhost:3000/x'])
      expect(checkReturnUri(good)).toEqual([]);
    for (const bad of [
      '/relative',
      'ftp://x.example/',
      'https://user:pw@x.example/',
      'not a url',
      `https://x.example/${'a'.repeat(2100)}`,
    ]) {
      expect(codes(checkReturnUri(bad))).toEqual(['INVALID_RETURN_URI']);
    }
  });

  it('metadata: an object, at most 50 keys and 8 KB, without the reserved key', () => {
    expect(checkMetadata({ order: '1', nested: { a: [1, 2] } })).toEqual([]);
    const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i]));
    expect(codes(checkMetadata(many))).toEqual(['METADATA_TOO_LARGE']);
    expect(codes(checkMetadata({ blob: 'x'.repeat(8 * 1024) }))).toEqual(['METADATA_TOO_LARGE']);
    expect(codes(checkMetadata({ gateway_idempotency_key: 'x' }))).toEqual(['INVALID_METADATA']);
    expect(codes(checkMetadata([1, 2]))).toEqual(['INVALID_METADATA']);
  });

  it('idempotency keys: 1..255 printable ASCII', () => {
    expect(checkIdempotencyKey('order-42/attempt 1')).toEqual([]);
    expect(checkIdempotencyKey('k'.repeat(255))).toEqual([]);
    for (const bad of ['', 'k'.repeat(256), 'tab\there', 'ключ', 'new\nline']) {
      expect(codes(checkIdempotencyKey(bad))).toEqual(['INVALID_IDEMPOTENCY_KEY']);
    }
  });

  it('charge ids', () => {
    expect(isChargeId('chrg_test_616e6ry4hxuenzzr9vx')).toBe(true);
    expect(isChargeId('chrg_5fxculwurxxe1lc29tw')).toBe(true);
    for (const bad of ['', 'src_test_1', 'chrg_test_../../x', 'chrg_TEST_1'])
      expect(isChargeId(bad)).toBe(false);
  });
});

function paidCharge(overrides: Partial<Charge> = {}): Charge {
  return {
    ...mapCharge(guideCharge()),
    status: 'SUCCESSFUL',
    paid: true,
    paidAt: new Date('2024-09-23T04:00:00Z'),
    refundable: true,
    voidable: true,
    ...overrides,
  };
}
const paidAt = new Date('2024-09-23T04:00:00Z');
const later = (ms: number) => new Date(paidAt.getTime() + ms);

describe('refund rules', () => {
  it('refund amount shape', () => {
    expect(checkRefundAmount(undefined)).toEqual([]);
    expect(checkRefundAmount(1)).toEqual([]);
    for (const bad of [0, -5, 1.5]) expect(codes(checkRefundAmount(bad))).toEqual(['INVALID_AMOUNT']);
  });

  it('allows partial and full refunds of a successful charge within 30 days', () => {
    expect(checkRefund(paidCharge(), 100, later(1000))).toEqual([]);
    expect(checkRefund(paidCharge(), 400000, later(REFUND_WINDOW_MS))).toEqual([]);
    expect(checkRefund(paidCharge({ refundedAmount: 300000 }), 100000, later(0))).toEqual([]);
  });

  it('refuses non-successful, voided and fully refunded charges', () => {
    for (const status of ['PENDING', 'FAILED', 'EXPIRED', 'REVERSED'] as const) {
      expect(codes(checkRefund(paidCharge({ status }), 100, later(0)))).toEqual(['CHARGE_NOT_REFUNDABLE']);
    }
    expect(codes(checkRefund(paidCharge({ voided: true }), 100, later(0)))).toEqual([
      'CHARGE_NOT_REFUNDABLE',
    ]);
    expect(codes(checkRefund(paidCharge({ refundedAmount: 400000 }), 1, later(0)))).toEqual([
      'CHARGE_NOT_REFUNDABLE',
    ]);
  });

  it('refuses more than is left, after the window, and a 16th refund', () => {
    expect(codes(checkRefund(paidCharge({ refundedAmount: 300000 }), 100001, later(0)))).toEqual([
      'REFUND_EXCEEDS_REMAINING',
    ]);
    expect(codes(checkRefund(paidCharge(), 100, later(REFUND_WINDOW_MS + 1)))).toEqual([
      'REFUND_WINDOW_EXPIRED',
    ]);
    const refund = {
      id: 'rfnd_test_1',
      chargeId: 'c',
      amount: 1,
      currency: 'THB' as const,
      voided: false,
      metadata: {},
      createdAt: paidAt,
    };
    const fifteen = paidCharge({ refunds: Array.from({ length: 15 }, () => refund), refundedAmount: 15 });
    expect(codes(checkRefund(fifteen, 1, later(0)))).toEqual(['TOO_MANY_REFUNDS']);
    expect(checkRefund(paidCharge({ refunds: [refund], refundedAmount: 1 }), 1, later(0))).toEqual([]);
  });
});

describe('void and simulate rules', () => {
  it('void only while Omise says can_perform_void', () => {
    expect(checkVoid(paidCharge())).toEqual([]);
    expect(codes(checkVoid(paidCharge({ voidable: false })))).toEqual(['CHARGE_NOT_VOIDABLE']);
    expect(codes(checkVoid(paidCharge({ voided: true })))).toEqual(['CHARGE_NOT_VOIDABLE']);
  });

  it('simulate only a pending charge', () => {
    expect(checkSimulatable(mapCharge(guideCharge()))).toEqual([]);
    expect(codes(checkSimulatable(paidCharge()))).toEqual(['CHARGE_NOT_PENDING']);
  });
});
