import type { Logger } from 'pino';
import type { Principal } from '../auth/principal.js';
import type { PaymentsService } from '../payments/payments-service.js';
import type { ChargeStatusFeed } from '../payments/status-feed/index.js';
import { createLoaders, type Loaders } from './loaders.js';

/** Where `chargeStatus` subscribes: the ChargeStatusFeed of this process. */
export type ChargeStatusSubscriptions = Pick<ChargeStatusFeed, 'subscribe'>;

/** Issues the `clientToken` of a freshly created charge (src/auth ClientTokens). */
export interface ClientTokenIssuer {
  issue(charge: { id: string; expiresAt: Date | null }): Promise<{ token: string }>;
}

/** What every resolver receives. Created once per GraphQL operation. */
export interface GraphQLContext {
  /** Also sent as the `x-request-id` response header and in error extensions; the logs carry it. */
  requestId: string;
  payments: PaymentsService;
  loaders: Loaders;
  /** Already bound to the request id. */
  logger: Logger;
  /** Who is calling, decided per HTTP request or per WebSocket connection; the authChecker reads it. */
  principal: Principal;
  clientTokens: ClientTokenIssuer;
  /** Set for operations over WebSocket; subscriptions need it. */
  chargeStatus?: ChargeStatusSubscriptions;
}

export interface ContextParts {
  payments: PaymentsService;
  requestId: string;
  logger: Logger;
  principal: Principal;
  clientTokens: ClientTokenIssuer;
  chargeStatus?: ChargeStatusSubscriptions;
}

export function createContext(parts: ContextParts): GraphQLContext {
  const { payments, requestId, logger, principal, clientTokens, chargeStatus } = parts;
  return {
    requestId,
    payments,
    loaders: createLoaders(payments),
    logger,
    principal,
    clientTokens,
    ...(chargeStatus && { chargeStatus }),
  };
}
