import DataLoader from 'dataloader';
import type { Charge } from '../payments/model.js';
import type { PaymentsService } from '../payments/payments-service.js';

/** Per-request loaders: one operation never fetches the same charge twice. */
export interface Loaders {
  /** Charge by id; resolves null for an id Omise does not know. */
  charge: DataLoader<string, Charge | null>;
}

export function createLoaders(payments: PaymentsService): Loaders {
  return {
    // Omise has no batch read: the gain is de-duplication and the per-request cache, not batching.
    charge: new DataLoader<string, Charge | null>((ids) =>
      Promise.all(ids.map((id) => payments.getCharge(id).catch((error: unknown) => toError(error)))),
    ),
  };
}

/** Makes a charge that an operation already holds (from a mutation or a list) the loader's answer. */
export function primeCharge(loaders: Loaders, charge: Charge): void {
  loaders.charge.clear(charge.id).prime(charge.id, charge);
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
