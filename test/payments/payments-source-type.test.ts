import { afterAll, describe, expect, it } from '@jest/globals';
import type { OmiseApi } from '../../src/omise/api.js';
import type { OmiseSource } from '../../src/omise/types.js';
import { createPaymentsService } from '../../src/payments/omise-payments-service.js';
import { MemoryKeyValueStore } from '../../src/realtime/memory-key-value-store.js';
import { guideSource } from './fixtures.js';

/**
 * The simulator supports only truemoney_qr sources, so a source of another type (which real Omise
 * accounts do have) is served here by a minimal stand-in built from the guide's source JSON. Every other
 * use case is tested against the real simulator (payments-simulator.test.ts).
 */

const kv = new MemoryKeyValueStore();
afterAll(() => kv.close());

function omiseWithSource(source: OmiseSource) {
  const calls: string[] = [];
  const omise = new Proxy({} as OmiseApi, {
    get(_target, prop: string) {
      return async (...args: unknown[]) => {
        calls.push(prop);
        if (prop === 'retrieveSource' && args[0] === source.id) return source;
        throw new Error(`unexpected Omise call ${prop}`);
      };
    },
  });
  return { omise, calls };
}

describe('createTrueMoneyCharge with a source of another type', () => {
  it('is refused with SOURCE_TYPE_MISMATCH and no charge is attempted', async () => {
    const source = { ...guideSource(), type: 'promptpay' };
    const { omise, calls } = omiseWithSource(source);
    const payments = createPaymentsService({ omise, kv, mode: 'test', idempotencyTtlMs: 24 * 3600_000 });
    const result = await payments.createTrueMoneyCharge({
      amount: source.amount,
      currency: 'THB',
      sourceId: source.id,
    });
    expect(result).toEqual({
      ok: false,
      errors: [expect.objectContaining({ code: 'SOURCE_TYPE_MISMATCH', field: ['input', 'sourceId'] })],
    });
    expect(calls).toEqual(['retrieveSource']);
  });

  it('the guide’s own source (truemoney_qr, unused) passes the checks and reaches createCharge', async () => {
    const source = guideSource();
    const { omise, calls } = omiseWithSource(source);
    const payments = createPaymentsService({ omise, kv, mode: 'test', idempotencyTtlMs: 24 * 3600_000 });
    await expect(
      payments.createTrueMoneyCharge({ amount: source.amount, currency: 'THB', sourceId: source.id }),
    ).rejects.toThrow();
    expect(calls).toEqual(['retrieveSource', 'createCharge']);
    expect(await payments.getCharge('not-a-charge-id')).toBeNull();
    expect(calls).toHaveLength(2); // a malformed id never reaches Omise
  });
});
