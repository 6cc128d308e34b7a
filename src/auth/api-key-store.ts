import { createHmac, createSecretKey, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { ApiKeyConfig, ApiKeyScope } from '../config/config.js';

/** What a valid API key stands for. */
export interface ApiKeyIdentity {
  name: string;
  scopes: readonly ApiKeyScope[];
}

interface StoredKey extends ApiKeyIdentity {
  /** HMAC-SHA256 of the key under this process's random key; the key itself is not kept. */
  digest: Buffer;
}

/**
 * The service API keys, held only as HMAC digests under a key generated per process, so that a heap
 * dump or an accidental `inspect` reveals nothing usable, and compared with `timingSafeEqual` against
 * every stored digest (no early exit), so that response time says nothing about which bytes matched.
 *
 * Comparing fixed-length digests also hides the length of the real keys.
 */
export class ApiKeyStore {
  private readonly hmacKey: KeyObject;
  private readonly keys: readonly StoredKey[];

  constructor(apiKeys: readonly ApiKeyConfig[]) {
    // A KeyObject does not show its material when inspected or serialised.
    this.hmacKey = createSecretKey(randomBytes(32));
    const keys: StoredKey[] = [];
    for (const { name, key, scopes } of apiKeys) {
      const digest = this.digest(key);
      const twin = keys.find((k) => timingSafeEqual(k.digest, digest));
      if (twin !== undefined) {
        throw new Error(
          `GATEWAY_API_KEYS: keys "${twin.name}" and "${name}" are identical; give each its own`,
        );
      }
      keys.push({ name, scopes: Object.freeze([...scopes]), digest });
    }
    this.keys = Object.freeze(keys);
  }

  /** How many keys are configured (0 → auth off in test mode). */
  get size(): number {
    return this.keys.length;
  }

  /** The names and scopes, for the start-up banner. */
  describe(): ApiKeyIdentity[] {
    return this.keys.map(({ name, scopes }) => ({ name, scopes }));
  }

  /** The identity of a presented key, or undefined. Takes the same time whichever key matches. */
  lookup(presented: string): ApiKeyIdentity | undefined {
    const digest = this.digest(presented);
    let match: StoredKey | undefined;
    for (const stored of this.keys) {
      // Every digest is compared, even after a match.
      if (timingSafeEqual(stored.digest, digest) && match === undefined) match = stored;
    }
    return match === undefined ? undefined : { name: match.name, scopes: match.scopes };
  }

  private digest(key: string): Buffer {
    return createHmac('sha256', this.hmacKey).update(key, 'utf8').digest();
  }

  /** Never print digests either. */
  toJSON(): { apiKeys: string[] } {
    return { apiKeys: this.keys.map((k) => k.name) };
  }
}
