import type { Config } from '../config/config.js';
import type { ApiKeyStore } from './api-key-store.js';
import { CLIENT_TOKEN_PREFIX, type ClientTokens } from './client-token.js';
import type { AuthFailure, AuthResult } from './principal.js';

/** Longer credentials are refused before any work is done on them. */
export const MAX_CREDENTIAL_LENGTH = 4096;

export interface AuthenticatorOptions {
  apiKeys: ApiKeyStore;
  clientTokens: ClientTokens;
  /** False only in test mode without GATEWAY_API_KEYS (see {@link isAuthEnabled}). */
  authEnabled: boolean;
}

export interface Authenticator {
  readonly authEnabled: boolean;
  /** HTTP: the `Authorization` header, `Bearer <credential>`; undefined or empty → anonymous. */
  authenticate(authorizationHeader: string | undefined): Promise<AuthResult>;
  /** WebSocket: `connectionParams.authorization` (or `Authorization`), same format as the header. */
  authenticateConnectionParams(
    connectionParams: Readonly<Record<string, unknown>> | undefined,
  ): Promise<AuthResult>;
}

/**
 * Auth is off only in test mode (simulator or `skey_test_`) with no GATEWAY_API_KEYS. Live keys without
 * API keys never get here: loadConfig refuses them.
 */
export function isAuthEnabled(
  config: Pick<Config, 'apiKeys'> & { omise: Pick<Config['omise'], 'mode'> },
): boolean {
  return config.apiKeys.length > 0 || config.omise.mode === 'live';
}

const unauthenticated = (message: string): AuthFailure => ({ ok: false, error: 'UNAUTHENTICATED', message });

const BEARER = /^Bearer +(\S+) *$/i;

export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const { apiKeys, clientTokens, authEnabled } = options;

  async function authenticate(authorizationHeader: string | undefined): Promise<AuthResult> {
    // Auth off: every caller may do everything, whatever it presents.
    if (!authEnabled) return { ok: true, principal: { kind: 'anonymous-test-mode' } };
    if (authorizationHeader === undefined || authorizationHeader.trim() === '') {
      return { ok: true, principal: { kind: 'anonymous' } };
    }
    if (authorizationHeader.length > MAX_CREDENTIAL_LENGTH) return unauthenticated('Credential too long.');
    const credential = BEARER.exec(authorizationHeader)?.[1];
    if (credential === undefined) {
      return unauthenticated('Authorization must be "Bearer <API key or client token>".');
    }

    if (credential.startsWith(CLIENT_TOKEN_PREFIX)) {
      const verified = await clientTokens.verify(credential);
      if (verified.ok) {
        return {
          ok: true,
          principal: { kind: 'client', chargeId: verified.chargeId, expiresAt: verified.expiresAt },
        };
      }
      return unauthenticated(
        verified.reason === 'expired' ? 'Client token expired.' : 'Client token invalid.',
      );
    }

    const identity = apiKeys.lookup(credential);
    if (identity === undefined) return unauthenticated('Unknown API key.');
    return { ok: true, principal: { kind: 'service', name: identity.name, scopes: identity.scopes } };
  }

  return {
    authEnabled,
    authenticate,
    authenticateConnectionParams(connectionParams) {
      const value = connectionParams?.['authorization'] ?? connectionParams?.['Authorization'];
      if (value !== undefined && typeof value !== 'string') {
        return Promise.resolve(
          authEnabled
            ? unauthenticated('connectionParams.authorization must be a string "Bearer <credential>".')
            : { ok: true, principal: { kind: 'anonymous-test-mode' } },
        );
      }
      return authenticate(value);
    },
  };
}
