import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KeyValueStore } from '../../src/realtime/index.js';

export interface KeyValueStoreHarness {
  store: KeyValueStore;
  /** Lets at least `ms` pass on the store's clock (a fake clock, or real time for Redis). */
  elapse(ms: number): Promise<void>;
  dispose(): Promise<void>;
}

const LONG = 60_000;

/** The behaviour every KeyValueStore adapter must have; run once per adapter. */
export function describeKeyValueStoreContract(
  name: string,
  create: () => Promise<KeyValueStoreHarness>,
): void {
  describe(`KeyValueStore contract: ${name}`, () => {
    let h: KeyValueStoreHarness;
    let store: KeyValueStore;
    let counter = 0;
    const key = (label: string) => `${label}:${++counter}`;

    beforeAll(async () => {
      h = await create();
      store = h.store;
    });
    afterAll(async () => {
      await h.dispose();
    });

    it('answers undefined for a missing key and returns what was set', async () => {
      const k = key('plain');
      expect(await store.get(k)).toBeUndefined();
      await store.set(k, 'one', LONG);
      expect(await store.get(k)).toBe('one');
      await store.set(k, 'two', LONG);
      expect(await store.get(k)).toBe('two');
    });

    it('forgets a key once its TTL has passed', async () => {
      const k = key('expiry');
      await store.set(k, 'v', 100);
      await h.elapse(150);
      expect(await store.get(k)).toBeUndefined();
    });

    it('set() replaces the TTL of an existing key', async () => {
      const k = key('refresh');
      await store.set(k, 'short', 100);
      await store.set(k, 'long', LONG);
      await h.elapse(150);
      expect(await store.get(k)).toBe('long');
    });

    it('setIfAbsent() stores only the first value until that one expires', async () => {
      const k = key('absent');
      expect(await store.setIfAbsent(k, 'first', 100)).toBe(true);
      await h.elapse(150);
      expect(await store.setIfAbsent(k, 'second', LONG)).toBe(true);
      expect(await store.setIfAbsent(k, 'third', LONG)).toBe(false);
      expect(await store.get(k)).toBe('second');
    });

    it('exactly one of many concurrent setIfAbsent() calls wins', async () => {
      const k = key('race');
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => store.setIfAbsent(k, `caller-${i}`, LONG)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await store.get(k)).toBe(`caller-${results.indexOf(true)}`);
    });

    it('setIfGreater() accepts only a larger number', async () => {
      const k = key('greater');
      expect(await store.setIfGreater(k, 5, LONG)).toBe(true);
      expect(await store.setIfGreater(k, 7, LONG)).toBe(true);
      expect(await store.setIfGreater(k, 7, LONG)).toBe(false);
      expect(await store.setIfGreater(k, 3, LONG)).toBe(false);
      expect(await store.get(k)).toBe('7');
      expect(await store.setIfGreater(k, 1.5e21, LONG)).toBe(true);
      expect(Number(await store.get(k))).toBe(1.5e21);
    });

    it('setIfGreater() accepts any number once the previous one expired', async () => {
      const k = key('greater-expiry');
      expect(await store.setIfGreater(k, 10, 100)).toBe(true);
      await h.elapse(150);
      expect(await store.setIfGreater(k, 2, LONG)).toBe(true);
      expect(await store.get(k)).toBe('2');
    });

    it('setIfGreater() is atomic: concurrent calls in any order end with the maximum', async () => {
      const k = key('greater-race');
      const values = Array.from({ length: 40 }, (_, i) => ((i * 17) % 40) + 1); // 1..40 shuffled
      const results = await Promise.all(values.map((n) => store.setIfGreater(k, n, LONG)));
      expect(await store.get(k)).toBe('40');
      expect(results[values.indexOf(40)]).toBe(true);
      // Once 40 was stored nothing after it may have been accepted.
      expect(results.slice(values.indexOf(40) + 1).some(Boolean)).toBe(false);
    });

    it('setIfGreater() replaces a value that is not a number', async () => {
      const k = key('greater-nan');
      await store.set(k, 'not-a-number', LONG);
      expect(await store.setIfGreater(k, 1, LONG)).toBe(true);
      expect(await store.get(k)).toBe('1');
    });

    it('delete() removes a key; deleting a missing key is fine', async () => {
      const k = key('delete');
      await store.set(k, 'v', LONG);
      await store.delete(k);
      expect(await store.get(k)).toBeUndefined();
      await store.delete(k);
      expect(await store.setIfAbsent(k, 'again', LONG)).toBe(true);
    });

    it('refuses TTLs that are not positive and numbers that are not finite', async () => {
      const k = key('invalid');
      await expect(store.set(k, 'v', 0)).rejects.toThrow(RangeError);
      await expect(store.setIfAbsent(k, 'v', -1)).rejects.toThrow(RangeError);
      await expect(store.setIfGreater(k, 1, Number.NaN)).rejects.toThrow(RangeError);
      await expect(store.setIfGreater(k, Number.POSITIVE_INFINITY, LONG)).rejects.toThrow(RangeError);
      expect(await store.get(k)).toBeUndefined();
    });

    it('ping() resolves', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
}
