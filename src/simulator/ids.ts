import { randomBytes, randomInt } from 'node:crypto';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/** Prefixes of the ids the simulator hands out (`pay2` is the authorize page's payment reference). */
export type IdPrefix = 'chrg' | 'src' | 'rfnd' | 'evnt' | 'docu' | 'trxn' | 'whdl' | 'pay2';

function randomChars(length: number): string {
  let out = '';
  for (let i = 0; i < length; i += 1) out += ALPHABET[randomInt(ALPHABET.length)];
  return out;
}

/** Omise's test-mode id format: prefix + `_test_` + 19 chars of [0-9a-z]. */
export function newId(prefix: IdPrefix): string {
  return `${prefix}_test_${randomChars(19)}`;
}

/** The last path segment of a document's `download_uri`: 16 uppercase hex chars. */
export function newDownloadKey(): string {
  return randomBytes(8).toString('hex').toUpperCase();
}

/** A key of the same shape as Omise's test keys, for when none were configured. */
export function newApiKey(kind: 'pkey' | 'skey'): string {
  return `${kind}_test_${randomChars(19)}`;
}

export const ID_PATTERN = /^(chrg|src|rfnd|evnt|docu|trxn|whdl|pay2)_test_[0-9a-z]{19}$/;
