import { describe, expect, it } from '@jest/globals';
import { MemoryIdempotencyStore } from '../../src/persistence/memory-idempotency-store.js';
import { MemoryMoneyLedger } from '../../src/persistence/memory-money-ledger.js';
import type { MoneyCallStart } from '../../src/persistence/ports.js';
import { idempotencyStoreContract, moneyLedgerContract } from './store-contract.js';

idempotencyStoreContract('memory', async () => new MemoryIdempotencyStore());
moneyLedgerContract('memory', async () => new MemoryMoneyLedger());

describe('MemoryMoneyLedger bound', () => {
  const call = (amount: number): MoneyCallStart => ({
    operation: 'create',
    actor: 'apikey:test',
    idempotencyKey: undefined,
    requestId: `req-${amount}`,
    chargeId: undefined,
    amount,
    startedAt: new Date('2026-01-01T00:00:00Z'),
  });

  it('keeps the newest maxRows calls, dropping the oldest first, finished or not', async () => {
    const ledger = new MemoryMoneyLedger(3);
    const ids: string[] = [];
    for (let amount = 1; amount <= 7; amount++) {
      const id = await ledger.start(call(amount));
      ids.push(id);
      // Every other call is finished: eviction goes by age only.
      if (amount % 2 === 0) {
        await ledger.finish(id, { outcome: 'succeeded', chargeId: `chrg_${amount}`, finishedAt: new Date() });
      }
    }
    const rows = await ledger.recent();
    expect(rows.map((row) => row.amount)).toEqual([7, 6, 5]);
    expect(rows.map((row) => row.outcome)).toEqual(['started', 'succeeded', 'started']);
    // Finishing a call that was dropped does nothing (and brings nothing back).
    await ledger.finish(ids[0]!, { outcome: 'succeeded', finishedAt: new Date() });
    expect((await ledger.recent()).map((row) => row.amount)).toEqual([7, 6, 5]);
  });
});
