import { MemoryIdempotencyStore } from '../../src/persistence/memory-idempotency-store.js';
import { MemoryMoneyLedger } from '../../src/persistence/memory-money-ledger.js';
import { idempotencyStoreContract, moneyLedgerContract } from './store-contract.js';

idempotencyStoreContract('memory', async () => new MemoryIdempotencyStore());
moneyLedgerContract('memory', async () => new MemoryMoneyLedger());
