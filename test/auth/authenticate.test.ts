import { describe, expect, it } from '@jest/globals';
import { ApiKeyStore } from '../../src/auth/api-key-store.js';
import { MAX_CREDENTIAL_LENGTH, createAuthenticator, isAuthEnabled } from '../../src/auth/authenticate.js';
import { ClientTokens } from '../../src/auth/client-token.js';
import { HASHED, createAuth } from '../../src/auth/setup.js';
import { loadConfig } from '../../src/config/config.js';

const KEY = 'svc-key-Lk4Jh6Gf8Ds0Aq2We';
const tokens = new ClientTokens({ secret: 'authenticate-test-secret-32-characters' });
const authenticator = createAuthenticator({
  apiKeys: new ApiKeyStore([{ name: 'svc', key: KEY, scopes: ['charges:read'] }]),
  clientTokens: tokens,
  authEnabled: true,
});

describe('authenticate', () => {
  it('accepts "Bearer <key>" with any case of the scheme and surrounding spaces', async () => {
    for (const header of [`Bearer ${KEY}`, `bearer ${KEY}`, `BEARER   ${KEY}  `]) {
      expect(await authenticator.authenticate(header)).toEqual({
        ok: true,
        principal: { kind: 'service', name: 'svc', scopes: ['charges:read'] },
      });
    }
  });

  it('is anonymous without a credential, and refuses malformed ones', async () => {
    expect(await authenticator.authenticate(undefined)).toEqual({
      ok: true,
      principal: { kind: 'anonymous' },
    });
    expect(await authenticator.authenticate('  ')).toEqual({ ok: true, principal: { kind: 'anonymous' } });
    for (const header of [KEY, `Bearer`, `Bearer ${KEY} extra`, `Token ${KEY}`, `Bearer${KEY}`]) {
      expect(await authenticator.authenticate(header)).toMatchObject({ ok: false, error: 'UNAUTHENTICATED' });
    }
    expect(await authenticator.authenticate(`Bearer ${'x'.repeat(MAX_CREDENTIAL_LENGTH)}`)).toEqual({
      ok: false,
      error: 'UNAUTHENTICATED',
      message: 'Credential too long.',
    });
  });

  it('tells client tokens from API keys by their prefix', async () => {
    const { token, expiresAt } = await tokens.issue({
      id: 'chrg_test_1',
      expiresAt: new Date(Date.now() + 600_000),
    });
    expect(await authenticator.authenticate(`Bearer ${token}`)).toEqual({
      ok: true,
      principal: { kind: 'client', chargeId: 'chrg_test_1', expiresAt },
    });
    // The same string without its prefix is looked up as an API key, and is not one.
    expect(await authenticator.authenticate(`Bearer ${token.slice(5)}`)).toEqual({
      ok: false,
      error: 'UNAUTHENTICATED',
      message: 'Unknown API key.',
    });
  });

  it('reads WebSocket connectionParams.authorization (or Authorization)', async () => {
    expect(
      await authenticator.authenticateConnectionParams({ authorization: `Bearer ${KEY}` }),
    ).toMatchObject({
      ok: true,
      principal: { kind: 'service' },
    });
    expect(
      await authenticator.authenticateConnectionParams({ Authorization: `Bearer ${KEY}` }),
    ).toMatchObject({
      ok: true,
      principal: { kind: 'service' },
    });
    expect(await authenticator.authenticateConnectionParams(undefined)).toEqual({
      ok: true,
      principal: { kind: 'anonymous' },
    });
    expect(await authenticator.authenticateConnectionParams({ authorization: 42 })).toMatchObject({
      ok: false,
    });
  });
});

describe('createAuth (start-up)', () => {
  const env = {
    GATEWAY_API_KEYS: JSON.stringify([{ name: 'checkout', key: KEY, scopes: ['charges:create'] }]),
  };

  it('turns auth off in test mode without API keys, loudly, with a generated token secret', async () => {
    const auth = createAuth(loadConfig({}));
    expect(auth.authEnabled).toBe(false);
    expect(auth.tokenSecretGenerated).toBe(true);
    expect(auth.warnings.join('\n')).toMatch(/AUTH IS OFF/);
    expect(auth.warnings.join('\n')).toMatch(/GATEWAY_TOKEN_SECRET is unset/);
    expect(await auth.authenticator.authenticate(undefined)).toEqual({
      ok: true,
      principal: { kind: 'anonymous-test-mode' },
    });
    expect(createAuth(loadConfig({ NODE_ENV: 'production' })).warnings.join('\n')).toMatch(
      /production with auth off/,
    );
  });

  it('turns auth on with API keys and forgets their plaintext in the config', async () => {
    const config = loadConfig({ ...env, GATEWAY_TOKEN_SECRET: 'x'.repeat(32) });
    const auth = createAuth(config);
    expect(auth.authEnabled).toBe(true);
    expect(auth.tokenSecretGenerated).toBe(false);
    expect(auth.warnings).toEqual([]);
    expect(JSON.stringify(config)).not.toContain(KEY);
    expect(config.apiKeys).toEqual([{ name: 'checkout', key: HASHED, scopes: ['charges:create'] }]);
    expect(await auth.authenticator.authenticate(`Bearer ${KEY}`)).toMatchObject({
      ok: true,
      principal: { kind: 'service', name: 'checkout' },
    });
    expect(() => createAuth(config)).toThrow(/already consumed/);
  });

  it('keeps auth on in live mode (which loadConfig only allows with API keys)', () => {
    expect(isAuthEnabled({ apiKeys: [], omise: { mode: 'live' } })).toBe(true);
    expect(isAuthEnabled({ apiKeys: [], omise: { mode: 'test' } })).toBe(false);
    expect(() =>
      createAuth({ apiKeys: [], tokenSecret: undefined, production: true, omise: { mode: 'live' } }),
    ).toThrow(/GATEWAY_TOKEN_SECRET/);
  });

  it('signs tokens with GATEWAY_TOKEN_SECRET, so that another instance with the same secret accepts them', async () => {
    const secret = 'shared-secret-between-two-instances-42';
    const one = createAuth(loadConfig({ ...env, GATEWAY_TOKEN_SECRET: secret }));
    const two = createAuth(loadConfig({ ...env, GATEWAY_TOKEN_SECRET: secret }));
    const { token } = await one.clientTokens.issue({
      id: 'chrg_test_9',
      expiresAt: new Date(Date.now() + 600_000),
    });
    expect(await two.authenticator.authenticate(`Bearer ${token}`)).toMatchObject({
      ok: true,
      principal: { kind: 'client', chargeId: 'chrg_test_9' },
    });
    const generated = createAuth(loadConfig(env));
    expect(await generated.authenticator.authenticate(`Bearer ${token}`)).toMatchObject({ ok: false });
  });
});
