import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { loadSimulatorCliConfig } from '../../src/config/simulator-config.js';

describe('loadConfig', () => {
  it('defaults to the embedded simulator with no keys', () => {
    const config = loadConfig({});
    expect(config.omise.mode).toBe('simulator');
    expect(config.port).toBe(4000);
    expect(config.omise.apiVersion).toBe('2019-05-29');
    expect(config.rateLimitPerMinute).toBe(600);
    expect(config.apiKeys).toEqual([]);
  });

  it('recognises test keys', () => {
    const config = loadConfig({ OMISE_SECRET_KEY: 'skey_test_abc123', OMISE_PUBLIC_KEY: 'pkey_test_abc123' });
    expect(config.omise.mode).toBe('test');
    expect(config.omise.apiUrl).toBe('https://api.omise.co');
  });

  it('names the variable at fault', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ REDIS_URL: 'http://x' })).toThrow(/REDIS_URL/);
    expect(() => loadConfig({ OMISE_SECRET_KEY: 'sk_live_x' })).toThrow(/OMISE_SECRET_KEY/);
    expect(() => loadConfig({ OMISE_WEBHOOK_SECRET: 'not base64!' })).toThrow(/OMISE_WEBHOOK_SECRET/);
  });

  it('refuses live keys without API keys, webhook secret and token secret, without echoing secrets', () => {
    let error: unknown;
    try {
      loadConfig({ OMISE_SECRET_KEY: 'skey_5secretlivekey' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(/GATEWAY_API_KEYS/);
    expect(message).toMatch(/OMISE_WEBHOOK_SECRET/);
    expect(message).not.toContain('skey_5secretlivekey');
  });

  it('refuses live keys without DATABASE_URL, naming it (issue 8)', () => {
    const live = {
      OMISE_SECRET_KEY: 'skey_5secretlivekey',
      GATEWAY_API_KEYS: JSON.stringify([{ name: 'ops', key: 'k'.repeat(32), scopes: ['charges:read'] }]),
      OMISE_WEBHOOK_SECRET: Buffer.from('w'.repeat(32)).toString('base64'),
      GATEWAY_TOKEN_SECRET: 't'.repeat(32),
    };
    expect(() => loadConfig(live)).toThrow(/^DATABASE_URL: required with live Omise keys/);
    const url = 'postgres://gw:pw-secret@db.internal:5432/payments';
    expect(loadConfig({ ...live, DATABASE_URL: url }).database).toEqual({
      url,
      poolSize: 10,
      statementTimeoutMs: 5000,
    });
    // Test mode: optional.
    expect(loadConfig({}).database.url).toBeUndefined();
  });

  it('checks the database settings without echoing the connection string', () => {
    let message = '';
    try {
      loadConfig({ DATABASE_URL: 'mysql://u:pw-secret@h/db' });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/DATABASE_URL/);
    expect(message).not.toContain('pw-secret');
    expect(() => loadConfig({ DATABASE_POOL_SIZE: '0' })).toThrow(/DATABASE_POOL_SIZE/);
    expect(() => loadConfig({ DATABASE_STATEMENT_TIMEOUT_MS: 'soon' })).toThrow(
      /DATABASE_STATEMENT_TIMEOUT_MS/,
    );
  });

  it('parses GATEWAY_API_KEYS and never echoes a key in its errors', () => {
    const keys = JSON.stringify([{ name: 'checkout', key: 'k'.repeat(32), scopes: ['charges:create'] }]);
    expect(loadConfig({ GATEWAY_API_KEYS: keys }).apiKeys[0]?.scopes).toEqual(['charges:create']);
    const bad = JSON.stringify([{ name: 'x', key: 'supersecretvalue123', scopes: ['charges:steal'] }]);
    expect(() => loadConfig({ GATEWAY_API_KEYS: bad })).toThrow(/GATEWAY_API_KEYS/);
    expect(() => loadConfig({ GATEWAY_API_KEYS: '{oops supersecret' })).toThrow(
      /^GATEWAY_API_KEYS: is not valid JSON$/,
    );
  });

  it('rejects mixed test and live keys', () => {
    expect(() => loadConfig({ OMISE_SECRET_KEY: 'skey_test_a', OMISE_PUBLIC_KEY: 'pkey_b' })).toThrow(
      /OMISE_PUBLIC_KEY/,
    );
  });
});

describe('DEMO_ENABLED', () => {
  it('defaults to on in test mode, off in production and with live keys; true turns it on in production', () => {
    expect(loadConfig({}).demoPage).toBe(true);
    expect(loadConfig({ OMISE_SECRET_KEY: 'skey_test_abc123' }).demoPage).toBe(true);
    expect(loadConfig({ NODE_ENV: 'production' }).demoPage).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', DEMO_ENABLED: 'true' }).demoPage).toBe(true);
    expect(loadConfig({ DEMO_ENABLED: 'false' }).demoPage).toBe(false);
    expect(() => loadConfig({ DEMO_ENABLED: 'yes' })).toThrow(/DEMO_ENABLED/);
  });

  it('is refused with live keys: the page creates charges from a browser', () => {
    expect(() => loadConfig({ OMISE_SECRET_KEY: 'skey_5secretlivekey', DEMO_ENABLED: 'true' })).toThrow(
      /^DEMO_ENABLED: the demo page works with test keys or the simulator only$/,
    );
  });
});

describe('loadSimulatorCliConfig', () => {
  it('takes flags over environment, repeated webhook urls', () => {
    const config = loadSimulatorCliConfig(
      ['--port', '80', '--webhook-url', 'http://a/x', '--webhook-url', 'http://b/y'],
      { SIMULATOR_PORT: '5000', SIMULATOR_HOST: '0.0.0.0' },
    );
    expect(config).toMatchObject({ port: 80, host: '0.0.0.0', webhookUrls: ['http://a/x', 'http://b/y'] });
  });

  it('defaults to loopback and 4010', () => {
    expect(loadSimulatorCliConfig([], {})).toMatchObject({ port: 4010, host: '127.0.0.1', webhookUrls: [] });
  });

  it('names the flag at fault', () => {
    expect(() => loadSimulatorCliConfig(['--secret-key', 'skey_live'], {})).toThrow(/--secret-key/);
    expect(() => loadSimulatorCliConfig(['--bogus'], {})).toThrow(ConfigError);
  });

  it("takes the CLI log's level from LOG_LEVEL", () => {
    expect(loadSimulatorCliConfig([], {}).logLevel).toBe('info');
    expect(loadSimulatorCliConfig([], { LOG_LEVEL: 'debug' }).logLevel).toBe('debug');
    expect(() => loadSimulatorCliConfig([], { LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
  });
});

describe('REDIS_KEY_PREFIX', () => {
  it('is optional, taken as given, and refuses characters unfit for a key', () => {
    expect(loadConfig({}).redisKeyPrefix).toBeUndefined();
    expect(loadConfig({ REDIS_KEY_PREFIX: 'shop-a:' }).redisKeyPrefix).toBe('shop-a:');
    expect(() => loadConfig({ REDIS_KEY_PREFIX: 'has space' })).toThrow(/REDIS_KEY_PREFIX/);
  });
});

describe('METRICS_TOKEN, TRUSTED_PROXIES, RATE_LIMIT_CLIENT_PER_MINUTE', () => {
  it('defaults: no token, no trusted proxy, a client budget smaller than the default one', () => {
    const config = loadConfig({});
    expect(config.metricsToken).toBeUndefined();
    expect(config.trustedProxies).toEqual([]);
    expect(config.rateLimitClientPerMinute).toBe(120);
    expect(config.rateLimitClientPerMinute).toBeLessThan(config.rateLimitPerMinute);
  });

  it('reads them', () => {
    const config = loadConfig({
      METRICS_TOKEN: 'scrape-token-0123456789',
      TRUSTED_PROXIES: ' 10.0.0.0/8, 192.168.1.7 ,loopback,2001:db8::/32',
      RATE_LIMIT_CLIENT_PER_MINUTE: '30',
    });
    expect(config.metricsToken).toBe('scrape-token-0123456789');
    expect(config.trustedProxies).toEqual(['10.0.0.0/8', '192.168.1.7', 'loopback', '2001:db8::/32']);
    expect(config.rateLimitClientPerMinute).toBe(30);
  });

  it('refuses what it cannot use, naming the variable and not echoing the token', () => {
    expect(() => loadConfig({ TRUSTED_PROXIES: '10.0.0.0/33' })).toThrow(/TRUSTED_PROXIES/);
    expect(() => loadConfig({ TRUSTED_PROXIES: 'proxy.internal' })).toThrow(/TRUSTED_PROXIES/);
    expect(() => loadConfig({ RATE_LIMIT_CLIENT_PER_MINUTE: '0' })).toThrow(/RATE_LIMIT_CLIENT_PER_MINUTE/);
    let message = '';
    try {
      loadConfig({ METRICS_TOKEN: 'short token' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/METRICS_TOKEN/);
    expect(message).not.toContain('short token');
  });
});
