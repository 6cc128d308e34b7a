import { inspect } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import { SignJWT, UnsecuredJWT, decodeJwt, decodeProtectedHeader } from 'jose';
import {
  CLIENT_TOKEN_PREFIX,
  ClientTokens,
  DEFAULT_CLIENT_TOKEN_GRACE_SECONDS,
  DEFAULT_CLIENT_TOKEN_TTL_SECONDS,
  MAX_CLIENT_TOKEN_TTL_SECONDS,
  generateTokenSecret,
} from '../../src/auth/client-token.js';

const SECRET = 'a-token-secret-of-at-least-32-characters!';
const T0 = new Date('2026-03-01T10:00:00Z');

/** A clock the test moves by hand. */
function clock(start: Date) {
  let now = start.getTime();
  return {
    now: () => new Date(now),
    set: (date: Date) => {
      now = date.getTime();
    },
  };
}

const inSeconds = (s: number) => new Date(T0.getTime() + s * 1000);

describe('ClientTokens', () => {
  it('issues a ctok_ token bound to the charge, verified back to it', async () => {
    const c = clock(T0);
    const tokens = new ClientTokens({ secret: SECRET, now: c.now });
    const { token, expiresAt } = await tokens.issue({ id: 'chrg_test_a', expiresAt: inSeconds(600) });
    expect(token.startsWith(CLIENT_TOKEN_PREFIX)).toBe(true);
    expect(expiresAt).toEqual(inSeconds(600 + DEFAULT_CLIENT_TOKEN_GRACE_SECONDS));
    expect(await tokens.verify(token)).toEqual({ ok: true, chargeId: 'chrg_test_a', expiresAt });
    const jws = token.slice(CLIENT_TOKEN_PREFIX.length);
    expect(decodeProtectedHeader(jws)).toEqual({ alg: 'HS256', typ: 'ctok+jwt' });
    expect(decodeJwt(jws)).toMatchObject({ sub: 'chrg_test_a' });
  });

  it('expires with the charge (plus the grace) on the injected clock', async () => {
    const c = clock(T0);
    const tokens = new ClientTokens({ secret: SECRET, now: c.now, graceSeconds: 0 });
    const { token } = await tokens.issue({ id: 'chrg_test_a', expiresAt: inSeconds(900) });
    c.set(inSeconds(899));
    expect(await tokens.verify(token)).toMatchObject({ ok: true });
    c.set(inSeconds(900));
    expect(await tokens.verify(token)).toEqual({ ok: false, reason: 'expired' });
    c.set(inSeconds(86_400));
    expect(await tokens.verify(token)).toEqual({ ok: false, reason: 'expired' });
  });

  it('caps the lifetime at 7 days and uses a default when the charge has no expiry', async () => {
    const c = clock(T0);
    const tokens = new ClientTokens({ secret: SECRET, now: c.now });
    const far = await tokens.issue({ id: 'chrg_test_a', expiresAt: inSeconds(365 * 86_400) });
    expect(far.expiresAt).toEqual(inSeconds(MAX_CLIENT_TOKEN_TTL_SECONDS));
    const none = await tokens.issue({ id: 'chrg_test_a', expiresAt: null });
    expect(none.expiresAt).toEqual(inSeconds(DEFAULT_CLIENT_TOKEN_TTL_SECONDS));
    c.set(inSeconds(MAX_CLIENT_TOKEN_TTL_SECONDS));
    expect(await tokens.verify(far.token)).toEqual({ ok: false, reason: 'expired' });
  });

  it('refuses a token whose payload was changed to another charge', async () => {
    const tokens = new ClientTokens({ secret: SECRET, now: () => T0 });
    const { token } = await tokens.issue({ id: 'chrg_test_a', expiresAt: inSeconds(600) });
    const [header, payload, signature] = token.slice(CLIENT_TOKEN_PREFIX.length).split('.') as [
      string,
      string,
      string,
    ];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'chrg_test_b' })).toString('base64url');
    expect(await tokens.verify(`${CLIENT_TOKEN_PREFIX}${header}.${forged}.${signature}`)).toEqual({
      ok: false,
      reason: 'invalid',
    });
    // Extending its life the same way fails too.
    const longer = Buffer.from(JSON.stringify({ ...claims, exp: 9_999_999_999 })).toString('base64url');
    expect(await tokens.verify(`${CLIENT_TOKEN_PREFIX}${header}.${longer}.${signature}`)).toMatchObject({
      ok: false,
    });
  });

  it('refuses a flipped signature, another secret, alg none, a foreign JWT type and garbage', async () => {
    const tokens = new ClientTokens({ secret: SECRET, now: () => T0 });
    const { token } = await tokens.issue({ id: 'chrg_test_a', expiresAt: inSeconds(600) });
    const last = token.at(-2) === 'A' ? 'B' : 'A';
    expect(await tokens.verify(token.slice(0, -2) + last + token.at(-1))).toMatchObject({
      ok: false,
      reason: 'invalid',
    });

    const other = new ClientTokens({ secret: 'another-secret-that-is-also-32-characters', now: () => T0 });
    expect(await other.verify(token)).toEqual({ ok: false, reason: 'invalid' });

    const unsecured = new UnsecuredJWT({ sub: 'chrg_test_a' }).setExpirationTime(inSeconds(600)).encode();
    expect(await tokens.verify(CLIENT_TOKEN_PREFIX + unsecured)).toMatchObject({ ok: false });

    // Right key, but not a client token (no typ, no audience): not accepted.
    const plainJwt = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('chrg_test_a')
      .setIssuedAt(Math.floor(T0.getTime() / 1000))
      .setExpirationTime(inSeconds(600))
      .sign(new TextEncoder().encode(SECRET));
    expect(await tokens.verify(CLIENT_TOKEN_PREFIX + plainJwt)).toEqual({ ok: false, reason: 'invalid' });

    expect(await tokens.verify(token.slice(CLIENT_TOKEN_PREFIX.length))).toEqual({
      ok: false,
      reason: 'malformed',
    });
    expect(await tokens.verify('ctok_not-a-token')).toEqual({ ok: false, reason: 'malformed' });
    expect(await tokens.verify('ctok_a.b.c')).toEqual({ ok: false, reason: 'invalid' });
  });

  it('issues byte for byte the JWS that jose signs for the same claims and key', async () => {
    const secrets: (string | Uint8Array)[] = [SECRET, generateTokenSecret()];
    for (const secret of secrets) {
      const key = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret.slice();
      const tokens = new ClientTokens({ secret: secret.slice(), now: () => T0 });
      for (const [id, expiresAt] of [
        ['chrg_test_5zabcdefghijklmnopq', inSeconds(600)],
        ['chrg_test_a"\\é', null],
      ] as const) {
        const issued = await tokens.issue({ id, expiresAt });
        const expected = await new SignJWT({})
          .setProtectedHeader({ alg: 'HS256', typ: 'ctok+jwt' })
          .setSubject(id)
          .setAudience('truemoney-graphql-gateway:charge')
          .setIssuedAt(Math.floor(T0.getTime() / 1000))
          .setExpirationTime(Math.floor(issued.expiresAt.getTime() / 1000))
          .sign(key);
        expect(issued.token).toBe(CLIENT_TOKEN_PREFIX + expected);
        expect(await tokens.verify(issued.token)).toEqual({
          ok: true,
          chargeId: id,
          expiresAt: issued.expiresAt,
        });
      }
    }
  });

  it('works with a generated secret, refuses short ones, and never shows the secret', async () => {
    const tokens = new ClientTokens({ secret: generateTokenSecret() });
    const { token } = await tokens.issue({ id: 'chrg_test_a', expiresAt: new Date(Date.now() + 600_000) });
    expect(await tokens.verify(token)).toMatchObject({ ok: true, chargeId: 'chrg_test_a' });
    expect(() => new ClientTokens({ secret: 'short' })).toThrow(/at least 32/);

    const withString = new ClientTokens({ secret: SECRET });
    const dump = inspect(withString, { depth: Infinity, showHidden: true });
    expect(dump).not.toContain(SECRET.slice(0, 12));
    expect(dump).not.toContain(Buffer.from(SECRET).toString('hex').slice(0, 16));
    expect(JSON.stringify({ withString })).not.toContain(SECRET.slice(0, 12));
  });
});
