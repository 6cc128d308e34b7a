import type { Logger } from 'pino';
import type { PaymentsService } from '../payments/payments-service.js';
import type { ChargeStatusEvent } from '../payments/status-feed/index.js';
import { createLoaders, type Loaders } from './loaders.js';

/** Where `chargeStatus` subscribes (the ChargeStatusFeed of this process). */
export interface ChargeStatusSource {
  subscribe(chargeId: string): Promise<AsyncIterableIterator<ChargeStatusEvent>>;
}

/** What every resolver receives. Created once per GraphQL operation. */
export interface GraphQLContext {
  /** Also sent as the `x-request-id` response header and in error extensions; the logs carry it. */
  requestId: string;
  payments: PaymentsService;
  loaders: Loaders;
  /** Already bound to the request id. */
  logger: Logger;
  /** Set for operations over WebSocket; subscriptions need it. */
  chargeStatus?: ChargeStatusSource;
}

export function createContext(
  payments: PaymentsService,
  requestId: string,
  logger: Logger,
  chargeStatus?: ChargeStatusSource,
): GraphQLContext {
  return {
    requestId,
    payments,
    loaders: createLoaders(payments),
    logger,
    ...(chargeStatus && { chargeStatus }),
  };
}
