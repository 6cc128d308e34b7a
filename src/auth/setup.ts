import type { Config } from '../config/config.js';
import { ApiKeyStore } from './api-key-store.js';
import { createAuthenticator, isAuthEnabled, type Authenticator } from './authenticate.js';
import { ClientTokens, generateTokenSecret, type ClientTokenOptions } from './client-token.js';

/** What `config.apiKeys[].key` holds once {@link createAuth} has hashed the keys. */
export const HASHED = '[hashed]';

export interface AuthSetup {
  authenticator: Authenticator;
  clientTokens: ClientTokens;
  apiKeys: ApiKeyStore;
  authEnabled: boolean;
  /** GATEWAY_TOKEN_SECRET was unset (test mode): tokens die with the process and differ per instance. */
  tokenSecretGenerated: boolean;
  /** Lines the start-up banner must print (loudly) and log at warn. */
  warnings: string[];
}

/**
 * Builds the auth pieces from the config, once at start-up. The API keys are hashed into the store
 * and, unless `keepPlaintext`, the `key` strings in `config.apiKeys` are overwritten so that the
 * config object no longer references them (the caller should also drop GATEWAY_API_KEYS from
 * `process.env`).
 */
export function createAuth(
  config: Pick<Config, 'apiKeys' | 'tokenSecret' | 'production'> & { omise: Pick<Config['omise'], 'mode'> },
  options: Pick<ClientTokenOptions, 'now' | 'graceSeconds'> & { keepPlaintext?: boolean } = {},
): AuthSetup {
  const authEnabled = isAuthEnabled(config);
  if (config.apiKeys.some((entry) => entry.key === HASHED)) {
    throw new Error('createAuth: config.apiKeys were already consumed by createAuth; load a fresh config');
  }
  const apiKeys = new ApiKeyStore(config.apiKeys);
  if (!options.keepPlaintext) {
    for (const entry of config.apiKeys) entry.key = HASHED;
  }

  if (config.tokenSecret === undefined && config.omise.mode === 'live') {
    // loadConfig already refuses this; a second lock on the door that moves real money.
    throw new Error('GATEWAY_TOKEN_SECRET: required with live Omise keys');
  }
  const tokenSecretGenerated = config.tokenSecret === undefined;
  const clientTokens = new ClientTokens({
    secret: config.tokenSecret ?? generateTokenSecret(),
    now: options.now,
    graceSeconds: options.graceSeconds,
  });

  const warnings: string[] = [];
  if (!authEnabled) {
    warnings.push(
      'AUTH IS OFF: test mode without GATEWAY_API_KEYS. Anyone who can reach this port may create, read, ' +
        'refund, void and simulate charges. Set GATEWAY_API_KEYS to turn auth on.',
    );
    if (config.production)
      warnings.push('NODE_ENV=production with auth off: this is only safe on a closed network.');
  }
  if (tokenSecretGenerated) {
    warnings.push(
      'GATEWAY_TOKEN_SECRET is unset: client tokens are signed with a key generated for this process; ' +
        'they stop working on restart and on other instances.',
    );
  }

  return {
    authenticator: createAuthenticator({ apiKeys, clientTokens, authEnabled }),
    clientTokens,
    apiKeys,
    authEnabled,
    tokenSecretGenerated,
    warnings,
  };
}
