import { Writable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import {
  REDACTED,
  createSecretRedactor,
  redactSecrets,
  redactingLoggerOptions,
} from '../../src/auth/redaction.js';

const SKEY = 'skey_test_5xq8z1a2b3c4d5e6f7g';
const PKEY = 'pkey_5xq8z1a2b3c4d5e6f7g';
const CTOK =
  'ctok_eyJhbGciOiJIUzI1NiIsInR5cCI6ImN0b2sifQ.eyJzdWIiOiJjaHJnX3Rlc3RfMSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ';
const API_KEY = 'svc-key-Pq7Rs9Tu1Vw3Xy5Za';
const WEBHOOK_SECRET = 'dGhpcyBpcyBhIHdlYmhvb2sgc2VjcmV0';
const TOKEN_SECRET = 'gateway-token-secret-of-32-characters';

describe('redactSecrets', () => {
  it('masks Omise keys, bearer and basic credentials, client tokens, JWTs and URL passwords', () => {
    const text = [
      `Omise answered 401 for ${SKEY} and ${PKEY}`,
      `authorization: Bearer ${API_KEY}`,
      `Authorization: Basic ${Buffer.from(`${SKEY}:`).toString('base64')}`,
      `token=${CTOK}`,
      `jwt ${CTOK.slice(5)}`,
      'redis://:hunter2-password@redis.internal:6379/0',
    ].join('\n');
    const out = redactSecrets(text);
    for (const secret of [SKEY, PKEY, API_KEY, CTOK, CTOK.slice(5), 'hunter2-password', 'c2lnbmF0dXJl']) {
      expect(out).not.toContain(secret);
    }
    expect(out).toContain(`skey_test_${REDACTED}`);
    expect(out).toContain(`pkey_${REDACTED}`);
    expect(out).toContain(`Bearer ${REDACTED}`);
    expect(out).toContain(`Basic ${REDACTED}`);
    expect(out).toContain(`ctok_${REDACTED}`);
    expect(out).toContain(`redis://${REDACTED}@redis.internal:6379/0`);
  });

  it('masks given secret values wherever they appear, and leaves ordinary text alone', () => {
    const redact = createSecretRedactor([WEBHOOK_SECRET, TOKEN_SECRET, undefined, 'short']);
    expect(redact(`secret=${WEBHOOK_SECRET};other=${TOKEN_SECRET}x`)).toBe(
      `secret=${REDACTED};other=${REDACTED}x`,
    );
    const ordinary = 'charge chrg_test_5xyz is short and PENDING; amount 10000 THB';
    expect(redact(ordinary)).toBe(ordinary);
  });
});

/** A real pino logger writing to memory. */
function capture(secrets: string[]) {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const logger = pino({ level: 'trace', ...redactingLoggerOptions(secrets) }, stream);
  return { logger, output: () => lines.join('') };
}

describe('redactingLoggerOptions (pino)', () => {
  it('keeps every secret out of every line, whatever shape it is logged in', () => {
    const { logger, output } = capture([WEBHOOK_SECRET, TOKEN_SECRET]);
    logger.info(`calling Omise with ${SKEY}`);
    logger.info('formatted %s and %s', SKEY, CTOK);
    logger.info({ req: { headers: { authorization: `Bearer ${API_KEY}`, cookie: 'sid=1' } } }, 'request');
    logger.info({ connectionParams: { authorization: `Bearer ${CTOK}` } }, 'ws connect');
    logger.warn(
      {
        config: {
          omise: { secretKey: SKEY, publicKey: PKEY },
          webhookSecret: WEBHOOK_SECRET,
          tokenSecret: TOKEN_SECRET,
          apiKeys: [{ name: 'svc', key: API_KEY }],
        },
      },
      'config',
    );
    logger.error({ err: new Error(`upstream refused ${SKEY} with Bearer ${API_KEY}`) }, 'failed');
    logger.error({ error: new Error(`bad token ${CTOK}`) }, 'failed again');
    logger.info(
      { detail: { nested: { note: `webhook secret is ${WEBHOOK_SECRET}` } }, clientToken: CTOK },
      'deep',
    );
    logger.info({ list: [`Bearer ${API_KEY}`, { url: 'redis://:pw-secret-123@host:6379' }] }, 'list');

    const text = output();
    expect(text.trim().split('\n')).toHaveLength(9);
    for (const secret of [
      SKEY,
      PKEY,
      CTOK.slice(5, 30),
      API_KEY,
      WEBHOOK_SECRET,
      TOKEN_SECRET,
      'pw-secret-123',
    ]) {
      expect(text).not.toContain(secret);
    }
    // Still useful: messages, names and the error's type and stack survive.
    expect(text).toContain('"msg":"failed"');
    expect(text).toContain('"type":"Error"');
    expect(text).toContain('"stack":"Error: upstream refused skey_test_[redacted]');
    expect(text).toContain('"msg":"formatted skey_test_[redacted] and ctok_[redacted]"');
  });
});
