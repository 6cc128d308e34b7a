import { inspect } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import { ApiKeyStore } from '../../src/auth/api-key-store.js';

const CHECKOUT_KEY = 'Zq8vR2mW4tY6uI0pL3kJ';
const OPS_KEY = 'Hn5bV7cX9zA1sD3fG5hJ7kL9qW2eR4tY6uI8oP0a';

const store = () =>
  new ApiKeyStore([
    { name: 'checkout', key: CHECKOUT_KEY, scopes: ['charges:create', 'charges:read'] },
    { name: 'ops', key: OPS_KEY, scopes: ['charges:refund', 'charges:void'] },
  ]);

describe('ApiKeyStore', () => {
  it('finds the identity of a presented key', () => {
    const keys = store();
    expect(keys.size).toBe(2);
    expect(keys.lookup(CHECKOUT_KEY)).toEqual({
      name: 'checkout',
      scopes: ['charges:create', 'charges:read'],
    });
    expect(keys.lookup(OPS_KEY)).toEqual({ name: 'ops', scopes: ['charges:refund', 'charges:void'] });
  });

  it('refuses near misses: prefixes, extensions, case and whitespace variants, empty', () => {
    const keys = store();
    for (const presented of [
      CHECKOUT_KEY.slice(0, -1),
      `${CHECKOUT_KEY}x`,
      CHECKOUT_KEY.toUpperCase(),
      ` ${CHECKOUT_KEY}`,
      '',
      'checkout',
    ]) {
      expect(keys.lookup(presented)).toBeUndefined();
    }
  });

  it('keeps no plaintext: only fixed-length digests, nothing of the keys when inspected or serialised', () => {
    const keys = store();
    const dump = inspect(keys, {
      depth: Infinity,
      showHidden: true,
      maxArrayLength: Infinity,
      maxStringLength: Infinity,
    });
    const json = JSON.stringify(keys);
    for (const key of [CHECKOUT_KEY, OPS_KEY]) {
      // No 8-character window of a key appears anywhere.
      for (let i = 0; i + 8 <= key.length; i += 1) {
        const window = key.slice(i, i + 8);
        expect(dump).not.toContain(window);
        expect(json).not.toContain(window);
      }
    }
    // What is stored per key: name, scopes and a 32-byte digest (the same length whatever the key length,
    // which is what lets lookup compare with timingSafeEqual), never a string holding the key.
    const stored = (keys as unknown as { keys: Array<Record<string, unknown>> }).keys;
    expect(stored).toHaveLength(2);
    for (const entry of stored) {
      expect(Object.keys(entry).sort()).toEqual(['digest', 'name', 'scopes']);
      expect(Buffer.isBuffer(entry['digest'])).toBe(true);
      expect((entry['digest'] as Buffer).length).toBe(32);
    }
    expect(dump).toContain('SecretKeyObject');
  });

  it('digests under a per-process random key: two stores hash the same key differently', () => {
    const digestsOf = (s: ApiKeyStore) =>
      (s as unknown as { keys: Array<{ digest: Buffer }> }).keys.map((k) => k.digest.toString('hex'));
    expect(digestsOf(store())).not.toEqual(digestsOf(store()));
  });

  it('refuses two entries with the same key, naming them but not the key', () => {
    expect(
      () =>
        new ApiKeyStore([
          { name: 'a', key: CHECKOUT_KEY, scopes: ['charges:read'] },
          { name: 'b', key: CHECKOUT_KEY, scopes: ['charges:create'] },
        ]),
    ).toThrow(/"a" and "b" are identical/);
    try {
      new ApiKeyStore([
        { name: 'a', key: CHECKOUT_KEY, scopes: ['charges:read'] },
        { name: 'b', key: CHECKOUT_KEY, scopes: ['charges:read'] },
      ]);
    } catch (error) {
      expect(String(error)).not.toContain(CHECKOUT_KEY);
    }
  });

  it('describes names and scopes only', () => {
    expect(store().describe()).toEqual([
      { name: 'checkout', scopes: ['charges:create', 'charges:read'] },
      { name: 'ops', scopes: ['charges:refund', 'charges:void'] },
    ]);
  });
});
