import type { ApiKeyScope } from '../config/config.js';

/**
 * Who is calling. Decided once per HTTP request (or once per WebSocket connection) by
 * `authenticate`, then checked per operation by `authorize`.
 */
export type Principal =
  /** A service API key from GATEWAY_API_KEYS. */
  | { kind: 'service'; name: string; scopes: readonly ApiKeyScope[] }
  /** A browser or app holding the clientToken of one charge. */
  | { kind: 'client'; chargeId: string; expiresAt: Date }
  /** Test mode without GATEWAY_API_KEYS: auth is off and everything is allowed. */
  | { kind: 'anonymous-test-mode' }
  /** Auth is on and no credential was presented. */
  | { kind: 'anonymous' };

export type AuthErrorCode = 'UNAUTHENTICATED' | 'FORBIDDEN';

/** A credential was presented but is not valid: the request is refused whatever it asks for. */
export interface AuthFailure {
  ok: false;
  error: 'UNAUTHENTICATED';
  /** Safe to show to the caller: never contains the credential. */
  message: string;
}

export type AuthResult = { ok: true; principal: Principal } | AuthFailure;

/** For logs and metrics: who, without any secret. */
export function describePrincipal(principal: Principal): string {
  switch (principal.kind) {
    case 'service':
      return `service:${principal.name}`;
    case 'client':
      return `client:${principal.chargeId}`;
    default:
      return principal.kind;
  }
}
