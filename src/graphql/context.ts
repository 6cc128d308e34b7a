import type { Logger } from 'pino';
import type { PaymentsService } from '../payments/payments-service.js';
import { createLoaders, type Loaders } from './loaders.js';

/** What every resolver receives. Created once per GraphQL operation. */
export interface GraphQLContext {
  /** Also sent as the `x-request-id` response header and in error extensions; the logs carry it. */
  requestId: string;
  payments: PaymentsService;
  loaders: Loaders;
  /** Already bound to the request id. */
  logger: Logger;
}

export function createContext(payments: PaymentsService, requestId: string, logger: Logger): GraphQLContext {
  return { requestId, payments, loaders: createLoaders(payments), logger };
}
