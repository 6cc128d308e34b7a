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
  return new OperationContext(parts);
}

/**
 * A class so that `logger` is a getter on the prototype: Apollo copies the context's own properties
 * for each operation, which would read an own getter, while the HTTP route makes its request logger
 * (a pino child, costly) only when something logs. Spread it (`{ ...base }`) and `logger` is lost: an
 * extendContext should add to it with Object.assign.
 */
class OperationContext implements GraphQLContext {
  readonly requestId: string;
  readonly payments: PaymentsService;
  readonly loaders: Loaders;
  readonly principal: Principal;
  readonly clientTokens: ClientTokenIssuer;
  readonly chargeStatus?: ChargeStatusSubscriptions;
  /** Kept (not just its logger) so that reading `logger` stays lazy in Apollo's copy too. */
  readonly parts: Pick<ContextParts, 'logger'>;

  constructor(parts: ContextParts) {
    this.requestId = parts.requestId;
    this.payments = parts.payments;
    this.loaders = createLoaders(parts.payments);
    this.principal = parts.principal;
    this.clientTokens = parts.clientTokens;
    if (parts.chargeStatus) this.chargeStatus = parts.chargeStatus;
    this.parts = parts;
  }

  get logger(): Logger {
    return this.parts.logger;
  }
}
